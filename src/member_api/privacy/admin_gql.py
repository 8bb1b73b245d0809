"""Data protection in the staff GraphQL: correcting a member's birthday."""

from __future__ import annotations

from typing import Annotated

import strawberry

from member_api.error_codes import MemberErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.members import service as members
from member_api.members.models import Member
from member_api.staff.domain import StaffRole


@strawberry.type(description="A member's birthday as corrected by staff.")
class MemberBirthday:
    member_id: strawberry.ID
    month: int
    day: int

    @classmethod
    def of(cls, row: Member) -> MemberBirthday:
        return cls(
            member_id=strawberry.ID(str(row.id)),
            month=int(row.birthday_month or 0),
            day=int(row.birthday_day or 0),
        )


@strawberry.input
class CorrectMemberBirthdayInput:
    member_id: strawberry.ID
    month: int
    day: int
    note: str = strawberry.field(description="Why it changes, e.g. the member's request.")


MemberBirthdayResult = Annotated[
    MemberBirthday | AnyError, strawberry.union("MemberBirthdayResult")
]


@strawberry.type
class PrivacyAdminMutation:
    @strawberry.mutation(
        description="Correct a member's birthday (members enter it once themselves).",
        extensions=[Roles(StaffRole.OPERATOR, StaffRole.ADVISOR)],
    )
    async def correct_member_birthday(
        self, info: GqlInfo, input: CorrectMemberBirthdayInput
    ) -> MemberBirthdayResult:
        async def work() -> Member:
            member_id = parse_id(
                input.member_id, code=MemberErrorCode.UNKNOWN_MEMBER, what="member"
            )
            return await members.correct_birthday(
                info.context.services,
                member_id=member_id,
                month=input.month,
                day=input.day,
                note=input.note,
            )

        return await outcome(work(), MemberBirthday.of)
