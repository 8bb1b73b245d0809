"""Per-request GraphQL context: the services, the caller, the request id."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from member_api.audit.domain import NOBODY, Actor
from member_api.auth.revocation import sessions_ended
from member_api.auth.tokens import CANCEL_DELETION_ROLE, AccessClaims, SubjectKind
from member_api.error_codes import AuthErrorCode, RequestErrorCode, StaffErrorCode
from member_api.errors import Forbidden, NotAuthenticated
from member_api.graphql.errors import ClientError
from member_api.logs import current_request_id
from member_api.services import Services
from member_api.staff.service import get_staff
from member_api.tiers.service import record_activity

_UNSET = object()


@dataclass
class Context:
    request: Request
    services: Services
    audience: SubjectKind
    request_id: str = field(default_factory=current_request_id)
    response: Any = field(default=None, repr=False)
    _claims: object = field(default=_UNSET, repr=False)
    _activity_recorded: bool = field(default=False, repr=False)
    _staff_username: str = field(default="", repr=False)
    _cancel_subject: uuid.UUID | None = field(default=None, repr=False)
    _loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict, repr=False)

    def loader(
        self, name: str, load: Callable[[list[Any]], Awaitable[list[Any]]]
    ) -> DataLoader[Any, Any]:
        """This request's DataLoader called `name`: keys asked for together load at once."""
        found = self._loaders.get(name)
        if found is None:
            found = self._loaders[name] = DataLoader(load_fn=load)
        return found

    @property
    def client_address(self) -> str | None:
        return self.request.client.host if self.request.client else None

    @property
    def device(self) -> str | None:
        """The client's User-Agent, as the member's sessions list it."""
        agent = self.request.headers.get("user-agent", "").strip()
        return agent[:200] if agent and agent.isprintable() else None

    def claims(self) -> AccessClaims | None:
        """The verified caller, None when no token was sent; raises on a bad token."""
        if self._claims is _UNSET:
            self._claims = self._verify()
        if isinstance(self._claims, Exception):
            raise self._claims
        return self._claims if isinstance(self._claims, AccessClaims) else None

    def _verify(self) -> AccessClaims | NotAuthenticated | None:
        header = self.request.headers.get("authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return NotAuthenticated(
                RequestErrorCode.INVALID_TOKEN,
                "Send the access token as 'Authorization: Bearer <token>'.",
            )
        try:
            claims = self.services.tokens.verify(token.strip(), self.audience)
        except NotAuthenticated as exc:
            return exc
        if self.audience == "member" and CANCEL_DELETION_ROLE in claims.roles:
            self._cancel_subject = claims.subject_id
            return NotAuthenticated(
                AuthErrorCode.ACCOUNT_DELETION_PENDING,
                "This account waits for erasure; its token can only cancel the deletion.",
            )
        return claims

    async def check_sessions(self) -> None:
        """Refuse a member token issued before the member's sessions were ended (the
        account was closed): from now on this request is not signed in."""
        if self.audience != "member":
            return
        try:
            claims = self.claims()
        except NotAuthenticated:
            return
        if claims is not None and await sessions_ended(self.services.cache, claims):
            self.end_sessions()

    def end_sessions(self) -> None:
        """From now on this request is not signed in: the member's sessions have ended."""
        self._claims = NotAuthenticated(
            AuthErrorCode.ACCOUNT_FROZEN,
            "This account is closed: its sessions have ended.",
        )

    def deletion_cancel_subject(self) -> uuid.UUID:
        """For cancelling a deletion: the member of a cancel token or of a valid session."""
        try:
            return self.require_subject()
        except NotAuthenticated:
            if self._cancel_subject is not None:
                return self._cancel_subject
            raise

    async def check_staff_account(self) -> None:
        """On the staff endpoint: a token counts only while its account is active, and
        with the roles the account has now (not those it had at sign-in). Run once per
        request, before anything resolves."""
        try:
            claims = self.claims()
        except NotAuthenticated:
            return
        if claims is None or claims.kind != "staff":
            return
        try:
            staff = await get_staff(claims.subject_id)
        except Exception as exc:  # the database is down: fail where the token is used
            self._claims = exc
            return
        if staff is None:
            self._claims = NotAuthenticated(
                StaffErrorCode.ACCOUNT_DEACTIVATED, "This staff account is deactivated."
            )
            return
        self._claims = dataclasses.replace(claims, roles=tuple(staff.role_list))
        self._staff_username = staff.username

    def audit_actor(self) -> Actor:
        """Who the audit log names for this request (nobody without a valid token)."""
        try:
            claims = self.claims()
        except Exception:
            return NOBODY
        if claims is None:
            return NOBODY
        return Actor(claims.subject_id, self._staff_username, claims.roles)

    def viewer_id(self) -> uuid.UUID | None:
        """For queries: the caller's id, None without a token; a bad token is a GraphQL error."""
        try:
            claims = self.claims()
        except NotAuthenticated as exc:
            raise ClientError(exc.code, exc.message) from exc
        return claims.subject_id if claims is not None else None

    async def record_member_action(self) -> uuid.UUID:
        """For member mutations: record that the signed-in member acted today and return
        their id. This writes: the day counts as active, which can raise their tier."""
        member_id = self.require_subject()
        if not self._activity_recorded:
            self._activity_recorded = True
            await record_activity(self.services, member_id)
        return member_id

    def require_role(self, role: str, *alternatives: str) -> uuid.UUID:
        """For staff operations: the signed-in staff member, who must hold `role` (or one
        of the `alternatives`)."""
        staff_id = self.require_subject()
        claims = self.claims()
        allowed = {role, *alternatives}
        if claims is None or not allowed & set(claims.roles):
            raise Forbidden(
                RequestErrorCode.FORBIDDEN, f"This needs the {' or '.join(sorted(allowed))} role."
            )
        return staff_id

    def require_subject(self) -> uuid.UUID:
        claims = self.claims()
        if claims is None:
            raise NotAuthenticated(RequestErrorCode.UNAUTHENTICATED, "Sign in first.")
        return claims.subject_id


GqlInfo = Info[Context, None]
