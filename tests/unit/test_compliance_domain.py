"""The AML disposition: OPEN -> REVIEWING -> CLEARED or REPORTED, every change noted."""

from __future__ import annotations

import itertools

import pytest

from member_api.compliance.domain import AmlState, check_transition, clean_note
from member_api.errors import Conflict, InvalidInput

ALLOWED = {
    (AmlState.OPEN, AmlState.REVIEWING),
    (AmlState.REVIEWING, AmlState.CLEARED),
    (AmlState.REVIEWING, AmlState.REPORTED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(AmlState, AmlState)))
def test_only_the_three_moves_are_allowed(current: AmlState, target: AmlState) -> None:
    if (current, target) in ALLOWED:
        check_transition(current, target)
        return
    with pytest.raises(Conflict) as refused:
        check_transition(current, target)
    assert (refused.value.code, refused.value.field) == ("ILLEGAL_TRANSITION", "state")


def test_a_note_is_required_and_bounded() -> None:
    assert clean_note("  Invoice matches.  ") == "Invoice matches."
    assert clean_note("x" * 2000) == "x" * 2000
    for bad in ("", "  \n ", "x" * 2001):
        with pytest.raises(InvalidInput) as refused:
            clean_note(bad)
        assert refused.value.code == "NOTE_REQUIRED"
