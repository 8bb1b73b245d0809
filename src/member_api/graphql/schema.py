"""Schema assembly: the member schema on /graphql, the staff schema on /admin/graphql."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, MaskErrors, ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from member_api.audit.admin_gql import AuditAdminQuery
from member_api.audit.extension import audit_every_field
from member_api.background.admin_gql import BackgroundAdminMutation, BackgroundAdminQuery
from member_api.care.admin_gql import CareAdminMutation, CareAdminQuery
from member_api.checkin.gql import CheckInMutation
from member_api.commerce.admin_gql import CommerceAdminMutation
from member_api.community.admin_gql import (
    CommunityAdminMutation,
    CommunityAdminQuery,
    GroupAdminMutation,
    GroupAdminQuery,
)
from member_api.community.gql import CommunityMutation, CommunityQuery
from member_api.compliance.admin_gql import ComplianceAdminMutation, ComplianceAdminQuery
from member_api.events.admin_gql import EventAdminMutation, EventAdminQuery
from member_api.events.gql import EventMutation, EventQuery
from member_api.graphql.errors import ERROR_CODE_TYPES, ERROR_TYPES, ClientError
from member_api.graphql.limits import limit_extensions
from member_api.graphql.observe import Observe
from member_api.graphql.persisted import PersistedQuery
from member_api.graphql.scalars import SCALARS
from member_api.graphql.sessions_check import EndedSessions
from member_api.graphql.throttle import RequestBudget
from member_api.graphql.validation import ValidationCache
from member_api.graphql.writes import AnnounceWrites
from member_api.intelligence.admin_gql import IntelligenceAdminMutation, IntelligenceAdminQuery
from member_api.intelligence.segment_admin_gql import SegmentAdminMutation, SegmentAdminQuery
from member_api.intelligence.sentiment_admin_gql import (
    SentimentAdminMutation,
    SentimentAdminQuery,
)
from member_api.members.gql import MemberMutation, MemberQuery
from member_api.notifications.gql import NotificationMutation
from member_api.outbox.admin_gql import OutboxAdminMutation, OutboxAdminQuery
from member_api.points.admin_gql import PointsAdminMutation
from member_api.privacy.admin_gql import PrivacyAdminMutation
from member_api.privacy.gql import PrivacyMutation
from member_api.provenance.admin_gql import ProvenanceAdminMutation, ProvenanceAdminQuery
from member_api.provenance.gql import ProvenanceMutation, ProvenanceQuery
from member_api.rewards.admin_gql import (
    RedemptionAdminMutation,
    RewardAdminMutation,
    RewardAdminQuery,
)
from member_api.rewards.gql import QUANTITY_SCALAR, Quantity, RewardMutation, RewardQuery
from member_api.staff.admin_gql import (
    OWN_ACCOUNT_MUTATIONS,
    SESSION_MUTATIONS,
    StaffAdminMutation,
    StaffAdminQuery,
)
from member_api.tasks.gql import TaskMutation
from member_api.tiers.admin_gql import TierAdminMutation, TierAdminQuery

logger = logging.getLogger("member_api.graphql")


def _is_unexpected(error: GraphQLError) -> bool:
    """Errors from our own code that were not meant for the client."""
    original = error.original_error
    return original is not None and not isinstance(original, (ClientError, GraphQLError))


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if _is_unexpected(error):
                logger.error(
                    "unexpected error at %s",
                    ".".join(str(p) for p in error.path or ()),
                    exc_info=error.original_error,
                )


def _masking() -> MaskErrors:
    return MaskErrors(should_mask_error=_is_unexpected, error_message="Internal error.")


def _parser_cache() -> ParserCache:
    return ParserCache(maxsize=512)


def _build(query: type, mutation: type, *, introspection: bool = True) -> strawberry.Schema:
    # Clients send the same few documents: parse and validate each once, not per request.
    extensions: list[Any] = [
        PersistedQuery,
        Observe,
        _masking,
        _parser_cache,
        ValidationCache,
        *limit_extensions(),
        RequestBudget,
        EndedSessions,
        AnnounceWrites,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return _Schema(
        config=StrawberryConfig(scalar_map={Quantity: QUANTITY_SCALAR, **SCALARS}),
        query=query,
        mutation=mutation,
        types=[*ERROR_TYPES, *ERROR_CODE_TYPES],
        extensions=extensions,
    )


@strawberry.type
class Query(MemberQuery, RewardQuery, EventQuery, CommunityQuery, ProvenanceQuery):
    pass


@strawberry.type
class Mutation(
    MemberMutation,
    RewardMutation,
    CheckInMutation,
    EventMutation,
    TaskMutation,
    CommunityMutation,
    ProvenanceMutation,
    PrivacyMutation,
    NotificationMutation,
):
    pass


@strawberry.type(name="Query")
class AdminQuery(
    StaffAdminQuery,
    TierAdminQuery,
    ComplianceAdminQuery,
    RewardAdminQuery,
    EventAdminQuery,
    CommunityAdminQuery,
    GroupAdminQuery,
    ProvenanceAdminQuery,
    OutboxAdminQuery,
    BackgroundAdminQuery,
    CareAdminQuery,
    SentimentAdminQuery,
    AuditAdminQuery,
    IntelligenceAdminQuery,
    SegmentAdminQuery,
):
    pass


@strawberry.type(name="Mutation")
class AdminMutation(
    StaffAdminMutation,
    CommerceAdminMutation,
    TierAdminMutation,
    ComplianceAdminMutation,
    RewardAdminMutation,
    PointsAdminMutation,
    RedemptionAdminMutation,
    EventAdminMutation,
    CommunityAdminMutation,
    GroupAdminMutation,
    ProvenanceAdminMutation,
    OutboxAdminMutation,
    BackgroundAdminMutation,
    CareAdminMutation,
    SentimentAdminMutation,
    PrivacyAdminMutation,
    IntelligenceAdminMutation,
    SegmentAdminMutation,
):
    pass


# Every staff mutation writes its audit row, in its own transaction (member_api.audit).
audit_every_field(
    AdminMutation, unwrapped=SESSION_MUTATIONS, open_to_auditors=OWN_ACCOUNT_MUTATIONS
)

member_schema = _build(Query, Mutation)
admin_schema = _build(AdminQuery, AdminMutation)


@cache
def _closed() -> tuple[strawberry.Schema, strawberry.Schema]:
    return (
        _build(Query, Mutation, introspection=False),
        _build(AdminQuery, AdminMutation, introspection=False),
    )


def schemas(*, introspection: bool) -> tuple[strawberry.Schema, strawberry.Schema]:
    """(member, staff) schemas, answering introspection or not (built once, when needed)."""
    return (member_schema, admin_schema) if introspection else _closed()


def sdl(schema: Any) -> str:
    return str(schema.as_str()) + "\n"


def export_sdl(directory: Path) -> tuple[Path, Path]:
    """Write schema.graphql (members) and admin.graphql (staff) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    member, admin = directory / "schema.graphql", directory / "admin.graphql"
    member.write_text(sdl(member_schema), encoding="utf-8")
    admin.write_text(sdl(admin_schema), encoding="utf-8")
    return member, admin
