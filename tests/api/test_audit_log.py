"""Every staff mutation and every staff read of a member's personal data writes one audit
row; auditors read the log and change nothing; nobody edits or deletes it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    build_schema,
)
from tortoise import Tortoise
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.exceptions import OperationalError

from member_api.audit.extension import Audited
from member_api.audit.models import AuditEntry
from member_api.db import after_commit
from member_api.graphql.context import Context
from member_api.graphql.errors import ValidationError
from member_api.staff.models import StaffUser
from member_api.staff.service import create_staff
from tests.conftest import ROOT
from tests.support import ME, gql, register, staff_token

ADMIN = "/admin/graphql"
EVERY_ROLE = ["operator", "authenticator", "moderator", "admin", "advisor", "marketer", "auditor"]
# About the caller's own session and password: open to auditors too.
OWN_ACCOUNT = {"staffLogin", "staffRefreshTokens", "staffLogout", "changeMyPassword"}
LOG = """
query($staff: ID, $member: ID, $action: String, $from: DateTime, $to: DateTime,
      $first: Int! = 20, $after: String) {
  auditLog(staffId: $staff, memberId: $member, action: $action, from: $from, to: $to,
           first: $first, after: $after) {
    edges { node { id at staffId staffUsername roles kind action targetKind targetId
                   memberId requestId clientAddress outcome diff } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def admin_schema_file() -> Any:
    return build_schema((ROOT / "schema" / "admin.graphql").read_text(encoding="utf-8"))


SCALAR_VALUES: dict[str, Any] = {
    "String": "audit-walk",
    "ID": "00000000-0000-4000-8000-000000000001",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Fen": 100,
    "PointCount": 1,
    "Date": "2026-01-02",
    "DateTime": "2026-01-02T03:04:05+00:00",
    "JSON": {},
}


def sample(kind: GraphQLInputType) -> Any:
    """Some value of an input type: required fields only, each a plain valid value."""
    if isinstance(kind, GraphQLNonNull):
        return sample(kind.of_type)
    if isinstance(kind, GraphQLList):
        return [sample(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: sample(field.type)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(kind, GraphQLScalarType)
    assert kind.name in SCALAR_VALUES, f"give the walk a value for scalar {kind.name}"
    return SCALAR_VALUES[kind.name]


def mutation_calls() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, document, variables) for every mutation of schema/admin.graphql."""
    schema = admin_schema_file()
    mutation = schema.mutation_type
    assert isinstance(mutation, GraphQLObjectType)
    calls = []
    for name, field in mutation.fields.items():
        params = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
        args = ", ".join(f"{arg}: ${arg}" for arg in field.args)
        head = f"mutation({params})" if params else "mutation"
        call = f"{name}({args})" if args else name
        document = f"{head} {{ {call} {{ __typename }} }}"
        variables = {arg: sample(spec.type) for arg, spec in field.args.items()}
        calls.append((name, document, variables))
    return calls


async def counts_by_action() -> dict[str, int]:
    rows = await AuditEntry.all().values_list("action", flat=True)
    found: dict[str, int] = {}
    for action in rows:
        found[str(action)] = found.get(str(action), 0) + 1
    return found


async def walk(client: httpx.AsyncClient, token: str) -> dict[str, tuple[Any, list[Any]]]:
    """Call every staff mutation once; what each wrote to the log."""
    written: dict[str, tuple[Any, list[Any]]] = {}
    for name, document, variables in mutation_calls():
        before = await AuditEntry.filter(action=name).count()
        body = await gql(client, document, variables, token=token, path=ADMIN)
        # The call ran (a refusal or an error is fine): no document-level error.
        assert all(error.get("path") for error in body.get("errors", [])), (name, body)
        rows = await AuditEntry.filter(action=name).order_by("at")
        assert len(rows) == before + 1, f"{name} wrote {len(rows) - before} audit rows"
        written[name] = (body, rows[before:])
    return written


async def table_counts() -> dict[str, int]:
    counts = {}
    for model in Tortoise.apps["models"].values():
        if model._meta.db_table not in ("audit_entry", "refresh_token"):
            counts[model._meta.db_table] = await model.all().count()
    return counts


async def test_every_staff_mutation_writes_one_audit_row(
    client: httpx.AsyncClient, app: Any
) -> None:
    token = await staff_token(client, app.state.services, "all-roles", EVERY_ROLE)
    staff = await StaffUser.get(username="all-roles")
    written = await walk(client, token)
    assert set(written) == {name for name, _, _ in mutation_calls()}
    for name, (_body, rows) in written.items():
        (row,) = rows
        assert row.kind == "MUTATION"
        assert row.outcome, name
        if name not in ("staffLogin", "staffRefreshTokens", "staffLogout"):
            assert (row.staff_id, row.staff_username) == (staff.id, "all-roles"), name
            assert set(row.roles.split(",")) == set(EVERY_ROLE), name
    # Secrets never reach the log.
    assert "audit-walk" not in str(
        written["staffLogin"][1][0].diff["arguments"]["input"]["password"]
    )
    assert written["createStaff"][1][0].diff["arguments"]["input"]["password"] == "[redacted]"


async def test_an_auditor_changes_nothing(client: httpx.AsyncClient, app: Any) -> None:
    services = app.state.services
    await staff_token(client, services, "boss", ["admin"])
    token = await staff_token(client, services, "audrey", ["auditor"])
    before = await table_counts()
    written = await walk(client, token)
    for name, (body, (row,)) in written.items():
        if name in OWN_ACCOUNT:
            continue
        assert row.outcome == "FORBIDDEN", (name, row.outcome)
        result = (body.get("data") or {}).get(name)
        if result is not None:
            assert result["__typename"] == "ForbiddenError", name
        else:
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", name
    assert await table_counts() == before


async def test_a_change_and_its_row_commit_together(client: httpx.AsyncClient, app: Any) -> None:
    boss = await staff_token(client, app.state.services, "boss", ["admin"])
    boss_id = (await StaffUser.get(username="boss")).id
    create = """mutation($in: CreateStaffInput!) { createStaff(input: $in) {
      ... on Staff { id } ... on Error { code } } }"""
    variables = {"in": {"username": "ivy", "password": "secret-pass-9", "roles": ["operator"]}}
    response = await client.post(
        ADMIN,
        json={"query": create, "variables": variables},
        headers={"authorization": f"Bearer {boss}", "x-request-id": "req-audit-1"},
    )
    made = response.json()["data"]["createStaff"]
    (row,) = await AuditEntry.filter(action="createStaff")
    assert (row.staff_id, row.staff_username, row.roles) == (boss_id, "boss", "admin")
    assert (row.target_kind, row.target_id, row.outcome) == ("Staff", made["id"], "OK")
    assert (row.request_id, row.client_address) == ("req-audit-1", "127.0.0.1")
    assert row.diff["arguments"] == {
        "input": {"username": "ivy", "password": "[redacted]", "roles": ["operator"]}
    }
    assert row.diff["after"] == {"username": "ivy", "roles": ["operator"], "active": True}
    assert "secret-pass-9" not in str(row.diff)

    roles = """mutation($in: SetStaffRolesInput!) { setStaffRoles(input: $in) { __typename } }"""
    await gql(
        client,
        roles,
        {"in": {"staffId": made["id"], "roles": ["marketer"]}},
        token=boss,
        path=ADMIN,
    )
    (changed,) = await AuditEntry.filter(action="setStaffRoles")
    assert changed.diff["before"]["roles"] == ["operator"]
    assert changed.diff["after"]["roles"] == ["marketer"]

    # A refused change leaves its row, with the code, and nothing else.
    again = await gql(client, create, variables, token=boss, path=ADMIN)
    assert again["data"]["createStaff"]["code"] == "USERNAME_TAKEN"
    refused = await AuditEntry.filter(action="createStaff", outcome="USERNAME_TAKEN").count()
    assert refused == 1
    assert await StaffUser.filter(username="ivy").count() == 1


def _info(services: Any, staff_id: uuid.UUID, roles: tuple[str, ...]) -> Any:
    token = services.tokens.issue(staff_id, "staff", roles)
    request = SimpleNamespace(headers={"authorization": f"Bearer {token}"}, client=None)
    context = Context(request=request, services=services, audience="staff")  # type: ignore[arg-type]
    return SimpleNamespace(context=context, field_name="tryOut")


async def test_a_refused_or_failed_action_rolls_its_work_back(app: Any) -> None:
    services = app.state.services
    actor = await create_staff(services, username="actor", password="staff-pass-1", roles=["admin"])
    info = _info(services, actor.id, ("admin",))
    extension = Audited()

    async def refused(source: Any, info: Any, **kwargs: Any) -> Any:
        await StaffUser.create(
            username="half-done", password_hash="x", roles="", created_at=datetime.now(UTC)
        )
        return ValidationError(code="INVALID_ROLE", message="no", field=None)

    result = await extension.resolve_async(refused, None, info, staff_id="abc")
    assert result.code == "INVALID_ROLE"
    assert not await StaffUser.filter(username="half-done").exists()
    (row,) = await AuditEntry.filter(action="tryOut")
    assert (row.outcome, row.target_kind, row.target_id) == ("INVALID_ROLE", "Staff", "abc")

    async def broken(source: Any, info: Any, **kwargs: Any) -> Any:
        await StaffUser.create(
            username="half-done", password_hash="x", roles="", created_at=datetime.now(UTC)
        )
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await extension.resolve_async(broken, None, info)
    assert not await StaffUser.filter(username="half-done").exists()
    assert await AuditEntry.filter(action="tryOut", outcome="INTERNAL_ERROR").count() == 1

    async def works(source: Any, info: Any, **kwargs: Any) -> Any:
        return await StaffUser.create(
            username="done", password_hash="x", roles="", created_at=datetime.now(UTC)
        )

    await extension.resolve_async(works, None, info)
    assert await StaffUser.filter(username="done").exists()
    assert await AuditEntry.filter(action="tryOut", outcome="OK").count() == 1


async def test_work_after_a_commit_waits_for_the_audited_transaction(app: Any) -> None:
    """A task sent "after commit" inside a staff mutation goes once the mutation and its
    audit row are committed, outside the transaction, and never when it rolls back."""
    services = app.state.services
    actor = await create_staff(services, username="actor", password="staff-pass-1", roles=["admin"])
    info = _info(services, actor.id, ("admin",))
    sent: list[tuple[str, bool, int]] = []

    async def send(what: str) -> None:
        connection = Tortoise.get_connection("default")
        inside = isinstance(connection, TransactionalDBClient)
        rows = await AuditEntry.filter(action="tryOut", outcome="OK").count()
        sent.append((what, inside, rows))

    async def works(source: Any, info: Any, **kwargs: Any) -> Any:
        await after_commit(lambda: send("retry"))
        assert sent == []  # not yet: the transaction is open
        return await StaffUser.create(
            username="done", password_hash="x", roles="", created_at=datetime.now(UTC)
        )

    async def refused(source: Any, info: Any, **kwargs: Any) -> Any:
        await after_commit(lambda: send("never"))
        return ValidationError(code="INVALID_ROLE", message="no", field=None)

    await Audited().resolve_async(refused, None, info)
    await Audited().resolve_async(works, None, info)
    # Outside the transaction, the audit row of the mutation already committed.
    assert sent == [("retry", False, 1)]


async def test_staff_reads_of_personal_data_are_logged_and_auditors_query_the_log(
    client: httpx.AsyncClient, app: Any, clock: Any
) -> None:
    services = app.state.services
    operator = await staff_token(client, services, "olga", ["operator"])
    auditor = await staff_token(client, services, "audrey", ["auditor"])
    olga_id = str((await StaffUser.get(username="olga")).id)
    member = await register(client)
    member_id = (await gql(client, ME, token=member["accessToken"]))["data"]["me"]["id"]

    forecast = "query($m: ID!) { memberTierForecast(memberId: $m) { memberId } }"
    await gql(client, forecast, {"m": member_id}, token=operator, path=ADMIN)
    adjust = """mutation($in: AdjustPointsInput!) { adjustPoints(input: $in) { __typename } }"""
    await gql(
        client,
        adjust,
        {"in": {"memberId": member_id, "delta": 50, "note": "goodwill"}},
        token=operator,
        path=ADMIN,
    )

    async def log(**variables: Any) -> Any:
        body = await gql(client, LOG, variables, token=auditor, path=ADMIN)
        assert "errors" not in body, body
        return body["data"]["auditLog"]

    about_member = await log(member=member_id)
    nodes = [edge["node"] for edge in about_member["edges"]]
    assert sorted((n["action"], n["kind"], n["outcome"]) for n in nodes) == [
        ("adjustPoints", "MUTATION", "OK"),
        ("memberTierForecast", "READ", "OK"),
    ]
    assert all(n["staffId"] == olga_id and n["memberId"] == member_id for n in nodes)
    assert (await log(action="memberTierForecast"))["edges"][0]["node"]["targetId"] == member_id
    by_olga = [edge["node"]["action"] for edge in (await log(staff=olga_id))["edges"]]
    assert sorted(by_olga) == ["adjustPoints", "memberTierForecast", "staffLogin"]
    page = await log(staff=olga_id, first=1)
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await log(staff=olga_id, first=1, after=page["pageInfo"]["endCursor"])
    assert rest["edges"][0]["node"]["id"] != page["edges"][0]["node"]["id"]
    later = (clock.now() + timedelta(seconds=1)).isoformat()
    assert (await log(staff=olga_id, **{"from": later}))["edges"] == []
    assert len((await log(staff=olga_id, to=later))["edges"]) == 3
    window = {"from": clock.now().isoformat(), "to": later}
    assert len((await log(staff=olga_id, **window))["edges"]) == 3

    refused = await gql(client, LOG, {}, token=operator, path=ADMIN)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for bad_filter in (
        {"member": "nope"},
        {"staff": "nope"},
        {"from": "2026-01-01T00:00:00"},
        {"from": "2026-01-02T00:00:00+00:00", "to": "2026-01-01T00:00:00+00:00"},
    ):
        bad = await gql(client, LOG, bad_filter, token=auditor, path=ADMIN)
        assert bad["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT", bad_filter


async def test_the_log_refuses_update_and_delete(app: Any, settings: Any, backend: str) -> None:
    row = await AuditEntry.create(at=datetime.now(UTC), kind="READ", action="probe", outcome="OK")
    if backend == "postgres":
        conn = await asyncpg.connect(settings.database_url)
        try:
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await conn.execute("UPDATE audit_entry SET outcome = 'EDITED'")
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await conn.execute("DELETE FROM audit_entry")
        finally:
            await conn.close()
    else:
        connection = Tortoise.get_connection("default")
        with pytest.raises(OperationalError, match="append-only"):
            await connection.execute_query("UPDATE audit_entry SET outcome = 'EDITED'")
        with pytest.raises(OperationalError, match="append-only"):
            await connection.execute_query("DELETE FROM audit_entry")
    kept = await AuditEntry.get(id=row.id)
    assert kept.outcome == "OK"


def test_the_walk_covers_the_committed_schema() -> None:
    names = {name for name, _, _ in mutation_calls()}
    assert {"createStaff", "adjustPoints", "staffLogin"} <= names
    assert Path(ROOT / "schema" / "admin.graphql").exists()


async def test_a_refused_refresh_still_revokes_its_family_and_is_logged(
    client: httpx.AsyncClient, app: Any
) -> None:
    """Sessions are audited outside the audit transaction: the revocation a reused token
    causes holds although the call itself is refused."""
    await create_staff(
        app.state.services, username="rita", password="staff-pass-1", roles=["operator"]
    )
    login = """mutation { staffLogin(input: {username: "rita", password: "staff-pass-1"}) {
      ... on AuthTokens { refreshToken } } }"""
    refresh = """mutation($t: String!) { staffRefreshTokens(input: {refreshToken: $t}) {
      __typename ... on AuthTokens { refreshToken } ... on Error { code } } }"""
    first = (await gql(client, login, path=ADMIN))["data"]["staffLogin"]["refreshToken"]
    rotated = (await gql(client, refresh, {"t": first}, path=ADMIN))["data"]["staffRefreshTokens"]
    reused = (await gql(client, refresh, {"t": first}, path=ADMIN))["data"]["staffRefreshTokens"]
    assert reused["code"] == "REFRESH_TOKEN_REUSED"
    after = await gql(client, refresh, {"t": rotated["refreshToken"]}, path=ADMIN)
    assert after["data"]["staffRefreshTokens"]["code"] == "REFRESH_TOKEN_REVOKED"
    rows = await AuditEntry.filter(action="staffRefreshTokens").order_by("at", "outcome")
    assert sorted(r.outcome for r in rows) == [
        "OK",
        "REFRESH_TOKEN_REUSED",
        "REFRESH_TOKEN_REVOKED",
    ]
    rita = await StaffUser.get(username="rita")
    assert [r.staff_id for r in rows if r.outcome == "OK"] == [rita.id]
    assert all(r.diff["arguments"]["input"]["refreshToken"] == "[redacted]" for r in rows)


async def test_member_search_and_the_member_360_write_a_read_row_per_member(
    client: httpx.AsyncClient, app: Any
) -> None:
    advisor = await staff_token(client, app.state.services, "ada", ["advisor"])
    first = await register(client, phone="13900000071")
    await register(client, phone="13900000072")
    member_id = (await gql(client, ME, token=first["accessToken"]))["data"]["me"]["id"]
    search = """query($v: String!) { searchMembers(by: PHONE, value: $v) {
      edges { node { id } } } }"""
    found = await gql(client, search, {"v": "13900000071"}, token=advisor, path=ADMIN)
    shown = {edge["node"]["id"] for edge in found["data"]["searchMembers"]["edges"]}
    assert member_id in shown
    view = "query($m: ID!) { member360(memberId: $m) { id } }"
    await gql(client, view, {"m": member_id}, token=advisor, path=ADMIN)
    await gql(client, view, {"m": str(uuid.uuid4())}, token=advisor, path=ADMIN)

    reads = await AuditEntry.filter(kind="READ").order_by("at", "action")
    by_action: dict[str, set[str]] = {}
    for row in reads:
        assert (row.staff_username, row.roles, row.target_kind) == ("ada", "advisor", "Member")
        assert row.target_id == str(row.member_id)
        by_action.setdefault(row.action, set()).add(str(row.member_id))
    assert by_action == {"searchMembers": shown, "member360": {member_id}}


async def test_aml_flag_reads_write_a_read_row_per_member(
    client: httpx.AsyncClient, app: Any
) -> None:
    from member_api.compliance.models import AmlFlag

    operator = await staff_token(client, app.state.services, "otto", ["operator"])
    member = await register(client, phone="13900000081")
    member_id = (await gql(client, ME, token=member["accessToken"]))["data"]["me"]["id"]
    flag = await AmlFlag.create(
        member_id=member_id,
        kind="SINGLE_ORDER",
        reference="order-1",
        amount_fen=60_000_00,
        raised_at=datetime.now(UTC),
    )
    listed = await gql(client, "{ amlFlags { edges { node { id } } } }", token=operator, path=ADMIN)
    assert len(listed["data"]["amlFlags"]["edges"]) == 1
    one = "query($id: ID!) { amlFlag(id: $id) { id } }"
    assert (await gql(client, one, {"id": str(flag.id)}, token=operator, path=ADMIN))["data"]
    rows = await AuditEntry.filter(kind="READ").order_by("action")
    assert [(r.action, str(r.member_id), r.staff_username) for r in rows] == [
        ("amlFlag", member_id, "otto"),
        ("amlFlags", member_id, "otto"),
    ]
