"""Staff use cases of the data platform: the score rules in force and their versions,
and tags put on members by hand (with their history)."""

from __future__ import annotations

import json
import unicodedata
import uuid
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from member_api.business_calendar import start_of_business_day
from member_api.error_codes import IntelligenceErrorCode
from member_api.errors import Conflict, InvalidInput, NotFound
from member_api.intelligence.domain import PersonaRule, ScoreRules
from member_api.intelligence.models import MemberTag, ScoreRulesVersion
from member_api.members.models import Member
from member_api.services import Services

TAG_MAX = 40
NOTE_MAX = 500


def rules_to_mapping(rules: ScoreRules) -> dict[str, Any]:
    """The rules as the JSON object `ScoreRules.from_mapping` reads back."""
    mapping: dict[str, Any] = {}
    for item in fields(rules):
        value = getattr(rules, item.name)
        if item.name == "personas":
            value = [_persona(persona) for persona in value]
        elif isinstance(value, tuple):
            value = list(value)
        mapping[item.name] = value
    return mapping


def _persona(persona: PersonaRule) -> dict[str, Any]:
    return {
        "code": persona.code,
        "all": [{"fact": c.fact, "op": c.op, "value": c.value} for c in persona.conditions],
    }


async def rules_in_force(services: Services) -> tuple[int, ScoreRules]:
    """The latest version staff set, or version 0: the rules file's (or the defaults)."""
    row = await ScoreRulesVersion.all().order_by("-id").first()
    if row is None:
        return 0, services.settings.score_rules
    return row.id, ScoreRules.from_mapping(json.loads(row.rules))


async def set_score_rules(
    services: Services, *, staff_id: uuid.UUID, changes: str, note: str
) -> ScoreRulesVersion:
    """A new version: the rules in force with `changes` (a JSON object of rules) over
    them. Checked whole before it is kept; nothing changes when it is refused."""
    reason = note.strip()
    if not reason or len(reason) > NOTE_MAX:
        raise InvalidInput(
            IntelligenceErrorCode.NOTE_REQUIRED,
            f"Say why the rules change, in 1 to {NOTE_MAX} characters.",
            field="note",
        )
    try:
        given = json.loads(changes)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested beyond reason
        raise InvalidInput(
            IntelligenceErrorCode.INVALID_RULES, f"rules are not JSON: {exc}", field="rules"
        ) from None
    if not isinstance(given, dict) or not given:
        raise InvalidInput(
            IntelligenceErrorCode.INVALID_RULES,
            "rules must be a JSON object of the rules to change",
            field="rules",
        )
    async with in_transaction():
        # One version at a time: each builds on the one before it.
        await ScoreRulesVersion.select_for_update().order_by("-id").first()
        _, current = await rules_in_force(services)
        try:
            rules = ScoreRules.from_mapping({**rules_to_mapping(current), **given})
        except ValueError as exc:
            raise InvalidInput(
                IntelligenceErrorCode.INVALID_RULES, str(exc), field="rules"
            ) from None
        return await ScoreRulesVersion.create(
            rules=json.dumps(rules_to_mapping(rules), ensure_ascii=False, sort_keys=True),
            note=reason,
            created_by=staff_id,
            created_at=services.clock.now(),
        )


def clean_tag(tag: str) -> str:
    cleaned = unicodedata.normalize("NFC", tag.strip())
    printable = all(unicodedata.category(ch)[0] not in "CZ" or ch == " " for ch in cleaned)
    if not cleaned or len(cleaned) > TAG_MAX or not printable:
        raise InvalidInput(
            IntelligenceErrorCode.INVALID_TAG,
            f"A tag is 1 to {TAG_MAX} printable characters.",
            field="tag",
        )
    return cleaned


async def _locked_member(member_id: uuid.UUID) -> Member:
    member = await Member.select_for_update().get_or_none(id=member_id, erased_at__isnull=True)
    if member is None:
        raise NotFound(IntelligenceErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    return member


async def tag_member(
    services: Services, *, member_id: uuid.UUID, tag: str, staff_id: uuid.UUID
) -> MemberTag:
    cleaned = clean_tag(tag)
    async with in_transaction():
        await _locked_member(member_id)  # tags of one member change one at a time
        if await MemberTag.exists(member_id=member_id, tag=cleaned, removed_at__isnull=True):
            raise Conflict(
                IntelligenceErrorCode.ALREADY_TAGGED, f"The member has {cleaned} already."
            )
        return await MemberTag.create(
            member_id=member_id, tag=cleaned, added_by=staff_id, added_at=services.clock.now()
        )


async def untag_member(
    services: Services, *, member_id: uuid.UUID, tag: str, staff_id: uuid.UUID
) -> MemberTag:
    cleaned = clean_tag(tag)
    async with in_transaction():
        await _locked_member(member_id)
        row = await MemberTag.get_or_none(member_id=member_id, tag=cleaned, removed_at__isnull=True)
        if row is None:
            raise NotFound(IntelligenceErrorCode.NOT_TAGGED, f"The member has no tag {cleaned}.")
        row.removed_by, row.removed_at = staff_id, services.clock.now()
        await row.save(update_fields=["removed_by", "removed_at"])
        return row


async def manual_tags(member_id: uuid.UUID, on: date | None = None) -> list[MemberTag]:
    """The tags staff put on the member: those held now, or at the end of business day
    `on`; oldest first."""
    query = MemberTag.filter(member_id=member_id)
    if on is None:
        query = query.filter(removed_at__isnull=True)
    else:
        end: datetime = start_of_business_day(on + timedelta(days=1))
        query = query.filter(Q(removed_at__isnull=True) | Q(removed_at__gte=end), added_at__lt=end)
    return await query.order_by("added_at", "id")
