"""The disposition of an AML flag, as plain rules: a flag is OPEN when raised, staff take
it under review (REVIEWING) and close it as CLEARED or REPORTED (to the authorities).
Every change carries a note."""

from __future__ import annotations

from enum import StrEnum

from member_api.error_codes import ComplianceErrorCode
from member_api.errors import Conflict, InvalidInput

MAX_NOTE_CHARS = 2000


class AmlState(StrEnum):
    OPEN = "OPEN"
    REVIEWING = "REVIEWING"
    CLEARED = "CLEARED"
    REPORTED = "REPORTED"


# Where each state may go; CLEARED and REPORTED are final.
TRANSITIONS: dict[AmlState, frozenset[AmlState]] = {
    AmlState.OPEN: frozenset({AmlState.REVIEWING}),
    AmlState.REVIEWING: frozenset({AmlState.CLEARED, AmlState.REPORTED}),
    AmlState.CLEARED: frozenset(),
    AmlState.REPORTED: frozenset(),
}


def check_transition(current: AmlState, target: AmlState) -> None:
    allowed = TRANSITIONS[current]
    if target not in allowed:
        after = " or ".join(sorted(allowed)) if allowed else "nothing (it is closed)"
        raise Conflict(
            ComplianceErrorCode.ILLEGAL_TRANSITION,
            f"A {current} flag can move to {after}, not to {target}.",
            field="state",
        )


def clean_note(note: str) -> str:
    note = note.strip()
    if not note or len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(
            ComplianceErrorCode.NOTE_REQUIRED,
            f"Every change of a flag needs a note of 1 to {MAX_NOTE_CHARS:,} characters.",
            field="note",
        )
    return note
