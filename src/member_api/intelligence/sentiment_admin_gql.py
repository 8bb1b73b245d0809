"""Staff GraphQL for sentiment: the care alerts customer care follows up, and the phrases
operators and moderators extend or trim."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from tortoise.queryset import QuerySet

from member_api.audit import service as audit
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.intelligence import sentiment_service as service
from member_api.intelligence.models import CareAlert as CareAlertRow
from member_api.intelligence.sentiment import PhraseKind
from member_api.intelligence.sentiment_service import PhraseInForce
from member_api.staff.domain import StaffRole

strawberry.enum(
    PhraseKind,
    name="SentimentPhraseKind",
    description="ASPECT: part of the service (鉴定, 客服); COMPLAINT: a complaint by itself "
    "(鉴定慢); NEGATIVE: negative of whatever it is said of (慢, 敷衍); POSITIVE: negated, a "
    "complaint (不专业); NEGATION: turns the next sentiment word round (不, 没有).",
)

# Who follows up care alerts, and who looks after the phrases.
CARE = (StaffRole.OPERATOR, StaffRole.ADVISOR)
PHRASES = (StaffRole.OPERATOR, StaffRole.MODERATOR)


@strawberry.type(description="A phrase the sentiment rules use now.")
class SentimentPhrase:
    kind: PhraseKind
    phrase: str
    built_in: bool = strawberry.field(description="A default; false when an operator added it.")

    @classmethod
    def of(cls, found: PhraseInForce) -> SentimentPhrase:
        return cls(kind=found.kind, phrase=found.phrase, built_in=found.built_in)


@strawberry.type(
    description="A post or comment that is a negative remark about the service, for "
    "customer care to follow up. The text stays with the post; the alert names it."
)
class CareAlert:
    id: strawberry.ID
    member_id: strawberry.ID
    source_kind: str = strawberry.field(description="POST or COMMENT.")
    source_id: strawberry.ID
    matched_phrases: list[str] = strawberry.field(
        description="What made it one: the aspect and the negative words, or a complaint."
    )
    status: str = strawberry.field(description="OPEN.")
    posted_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, row: CareAlertRow) -> CareAlert:
        return cls(
            id=strawberry.ID(str(row.id)),
            member_id=strawberry.ID(str(row.member_id)),
            source_kind=row.source_kind,
            source_id=strawberry.ID(str(row.source_id)),
            matched_phrases=[str(p) for p in row.matched],
            status=row.status,
            posted_at=row.posted_at,
            created_at=row.created_at,
        )


@strawberry.type
class CareAlertEdge:
    cursor: str
    node: CareAlert


@strawberry.type
class CareAlertConnection:
    edges: list[CareAlertEdge]
    page_info: PageInfo


async def care_alerts_page(
    query: QuerySet[CareAlertRow], first: int, after: str | None
) -> CareAlertConnection:
    rows, page = await newest_first_page(query, first=first, after=after, time_field="created_at")
    return CareAlertConnection(
        edges=[CareAlertEdge(cursor=c, node=CareAlert.of(r)) for c, r in rows], page_info=page
    )


@strawberry.type
class SentimentAdminQuery:
    @strawberry.field(
        description="Open care alerts, newest first: negative remarks about the service in "
        "posts and comments.",
        extensions=[Roles(*CARE)],
    )
    async def care_alerts(
        self, info: GqlInfo, first: int = 20, after: str | None = None
    ) -> CareAlertConnection:
        page = await care_alerts_page(service.alerts(), first, after)
        shown = [uuid.UUID(str(edge.node.member_id)) for edge in page.edges]
        await audit.record_reads(info, info.field_name, shown)
        return page

    @strawberry.field(
        description="The phrases in force, built-in and added, by kind.",
        extensions=[Roles(*PHRASES)],
    )
    async def sentiment_phrases(self, kind: PhraseKind | None = None) -> list[SentimentPhrase]:
        return [SentimentPhrase.of(found) for found in await service.phrases(kind)]


@strawberry.input
class SentimentPhraseInput:
    kind: PhraseKind
    phrase: str = strawberry.field(description="1 to 12 letters or digits; no punctuation.")


PhraseResult = Annotated[SentimentPhrase | AnyError, strawberry.union("SentimentPhraseResult")]


@strawberry.type
class SentimentAdminMutation:
    @strawberry.mutation(
        description="Put a phrase in force; posts and comments from now on are classified with it.",
        extensions=[Roles(*PHRASES)],
    )
    async def add_sentiment_phrase(
        self, info: GqlInfo, input: SentimentPhraseInput
    ) -> PhraseResult:
        async def work() -> PhraseInForce:
            return await service.add_phrase(
                info.context.services,
                kind=input.kind,
                phrase=input.phrase,
                staff_id=info.context.require_subject(),
            )

        return await outcome(work(), SentimentPhrase.of)

    @strawberry.mutation(
        description="Take a phrase out of force, a built-in one included.",
        extensions=[Roles(*PHRASES)],
    )
    async def remove_sentiment_phrase(
        self, info: GqlInfo, input: SentimentPhraseInput
    ) -> PhraseResult:
        async def work() -> PhraseInForce:
            return await service.remove_phrase(
                info.context.services,
                kind=input.kind,
                phrase=input.phrase,
                staff_id=info.context.require_subject(),
            )

        return await outcome(work(), SentimentPhrase.of)
