"""What an audit row keeps of a call's arguments: everything but secrets, as JSON."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from enum import Enum

from member_api.audit.domain import MAX_TEXT, REDACTED, as_uuid, kind_of_id, plain


class Colour(Enum):
    RED = "RED"


@dataclasses.dataclass
class Login:
    username: str
    password: str


@dataclasses.dataclass
class Nested:
    staff_id: uuid.UUID
    new_password: str
    refresh_token: str
    logins: list[Login]
    colour: Colour
    on: date
    at: datetime
    note: str


def test_secrets_are_redacted_at_any_depth_and_the_rest_kept_as_json() -> None:
    staff = uuid.uuid4()
    value = Nested(
        staff_id=staff,
        new_password="hunter22",
        refresh_token="abc",
        logins=[Login("ann", "pw-123456")],
        colour=Colour.RED,
        on=date(2026, 1, 2),
        at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        note="x" * (MAX_TEXT + 10),
    )
    shown = plain({"input": value, "clientSecret": "s"})
    assert shown["clientSecret"] == REDACTED
    body = shown["input"]
    assert body["staffId"] == str(staff)
    assert (body["newPassword"], body["refreshToken"]) == (REDACTED, REDACTED)
    assert body["logins"] == [{"username": "ann", "password": REDACTED}]
    assert (body["colour"], body["on"]) == ("RED", "2026-01-02")
    assert body["at"] == "2026-01-02T03:04:00+00:00"
    assert len(body["note"]) == MAX_TEXT + 1
    assert body["note"].endswith("…")
    assert "hunter22" not in str(shown)
    assert "pw-123456" not in str(shown)


def test_skipped_values_are_left_out() -> None:
    assert plain({"a": 1, "b": None}, skip=lambda v: v is None) == {"a": 1}


def test_ids_name_their_kind() -> None:
    assert kind_of_id("member_id") == "Member"
    assert kind_of_id("custody_event_id") == "CustodyEvent"
    assert as_uuid("nope") is None
    assert as_uuid(str(uuid.UUID(int=1))) == uuid.UUID(int=1)


def test_free_text_about_a_member_keeps_only_its_length() -> None:
    shown = plain(
        {"input": {"memberId": "m-1", "text": "Called 王女士 at 13900000001", "body": "hi"}}
    )
    assert shown["input"] == {
        "memberId": "m-1",
        "text": "[25 characters]",
        "body": "[2 characters]",
    }
