"""A generated data set for exercising and benchmarking member intelligence.

`seed_synthetic` writes N members with order, login, community, favourite and view
histories (see `generate`) in one transaction, batch by batch: COPY on PostgreSQL,
multi-row inserts elsewhere. A database that holds generated members already is refused.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import F
from tortoise.models import Model
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.clock import BUSINESS_ZONE
from member_api.commerce.models import CommerceEvent, ItemInteraction, MemberOrder, OrderLine
from member_api.community.models import Comment, Group, GroupMembership, Post, PostLike
from member_api.events.models import EventAttendance
from member_api.members.models import ActivityDay, Member
from member_api.privacy.models import ConsentRecord
from member_api.services import Services
from member_api.synthetic import catalogue
from member_api.synthetic.generate import (
    COLUMNS,
    HISTORY_DAYS,
    SOURCE,
    TABLES,
    Archetype,
    Batch,
    Generator,
    GroupRef,
    member_uuid,
)
from member_api.tiers.models import TierChange

MODELS: dict[str, type[Model]] = {
    "member": Member,
    "community_group": Group,
    "consent_record": ConsentRecord,
    "tier_change": TierChange,
    "member_activity_day": ActivityDay,
    "commerce_event": CommerceEvent,
    "member_order": MemberOrder,
    "order_line": OrderLine,
    "item_interaction": ItemInteraction,
    "group_membership": GroupMembership,
    "post": Post,
    "comment": Comment,
    "post_like": PostLike,
    "event_attendance": EventAttendance,
}
SQLITE_ROWS_PER_INSERT = 400


class AlreadyGenerated(Exception):
    """The database holds generated members already: nothing was written."""


@dataclass
class Summary:
    members: int
    seed: int
    as_of: date
    archetypes: dict[str, int]
    tiers: dict[str, int]
    rows: Counter[str] = field(default_factory=Counter)
    groups_created: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"{self.members} generated members (seed {self.seed}, as of {self.as_of}) "
            f"in {self.seconds:.1f} s"
        ]
        out.append(
            "archetypes: "
            + ", ".join(f"{k.lower()} {v}" for k, v in sorted(self.archetypes.items()))
        )
        out.append("tiers: " + ", ".join(f"{k.lower()} {v}" for k, v in sorted(self.tiers.items())))
        names = {
            "member_order": "orders",
            "order_line": "order lines",
            "member_activity_day": "active days",
            "item_interaction": "favourites and views",
            "commerce_event": "commerce events",
            "consent_record": "consent records",
            "group_membership": "group memberships",
            "post": "posts",
            "comment": "comments",
            "post_like": "likes",
            "event_attendance": "event attendances",
        }
        out.append(", ".join(f"{self.rows[t]} {label}" for t, label in names.items()))
        if self.groups_created:
            out.append(f"{self.groups_created} groups created")
        return out


def marker(seed: int) -> str:
    return f"{SOURCE}:{seed}"


class _Writer:
    """Rows into one table at a time, inside the run's transaction."""

    def __init__(self, connection: Any, postgres: bool) -> None:
        self.connection = connection
        self.postgres = postgres

    async def scalar(self, sql: str) -> Any:
        _, rows = await self.connection.execute_query(sql)
        return rows[0][0] if rows else None

    async def write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        if self.postgres:
            async with self.connection.acquire_connection() as raw:
                await raw.copy_records_to_table(table, records=rows, columns=columns)
            return
        model = MODELS[table]
        objects = []
        for row in rows:
            values = dict(zip(columns, row, strict=True))
            if table == "post":
                values["image_urls"] = []
            objects.append(model(**values))
        await model.bulk_create(
            objects, batch_size=SQLITE_ROWS_PER_INSERT, using_db=self.connection
        )


async def existing_generated(connection: Any) -> int:
    """Members registered by an earlier run (of any seed)."""
    return (
        await TierChange.filter(reason="REGISTRATION", reference__startswith=f"{SOURCE}:")
        .using_db(connection)
        .count()
    )


async def _groups(
    writer: _Writer, seed: int, as_of: date
) -> tuple[list[GroupRef], list[tuple[Any, ...]]]:
    """The existing groups; or, in a database without any, a handful made for the set
    (their rows, owned by the first generated member, are written with the first batch)."""
    found = await Group.all().using_db(writer.connection).order_by("slug")
    if found:
        refs = []
        for group in found:
            text = f"{group.slug} {group.name}".lower()
            brands = tuple(
                n
                for n, brand in enumerate(catalogue.BRANDS)
                if any(part.lower() in text for part in brand.name.split())
            )
            refs.append(
                GroupRef(group.id, group.created_at.astimezone(BUSINESS_ZONE).date(), brands)
            )
        return refs, []
    rng = random.Random(f"groups:{seed}")
    created = datetime.combine(as_of - timedelta(days=HISTORY_DAYS + 30), datetime.min.time())
    created_at = created.replace(hour=10, tzinfo=BUSINESS_ZONE)
    refs, rows = [], []
    for spec in catalogue.GROUPS:
        group_id = member_uuid(rng)
        refs.append(GroupRef(group_id, created_at.date(), spec.brands))
        rows.append((group_id, spec.slug, spec.name, spec.description, None, 0, created_at))
    return refs, rows


async def seed_synthetic(services: Services, *, members: int, seed: int, as_of: date) -> Summary:
    """Write `members` generated members as of `as_of`; the same arguments give the same
    rows. Refused (nothing written) when the database holds generated members already."""
    started = time.perf_counter()
    postgres = connections.get("default").capabilities.dialect == "postgres"
    async with freshness.writing(services.cache), in_transaction() as connection:
        writer = _Writer(connection, postgres)
        if postgres:
            # One run at a time: a second waits, then finds the first one's members.
            await connection.execute_query("SELECT pg_advisory_xact_lock(4242000016)")
        already = await existing_generated(connection)
        if already:
            raise AlreadyGenerated(
                f"the database holds {already} generated members already (seed-synthetic "
                "runs once per database); nothing was written"
            )
        await freshness.touch(freshness.EVERYTHING, freshness.GROUPS, freshness.PROFILES)
        groups, group_rows = await _groups(writer, seed, as_of)
        generator = Generator(
            seed=seed,
            as_of=as_of,
            groups=groups,
            policy_version=services.settings.privacy_policy_version,
            tier_rules=services.settings.tier_rules,
        )
        generator.next_order_id = (
            int(await writer.scalar("SELECT max(id) AS n FROM member_order") or 0) + 1
        )
        rows: Counter[str] = Counter()
        tiers: Counter[str] = Counter()
        first = True
        batch: Batch
        for batch in generator.batches(members):
            if first and group_rows:
                owner = batch.plans[0].id
                batch.rows["community_group"] = [(*r[:4], owner, *r[5:]) for r in group_rows]
            first = False
            for table in TABLES:
                await writer.write(table, batch.rows[table])
                rows[table] += len(batch.rows[table])
            tiers.update(plan.tier.value for plan in batch.plans)
        await _counts(connection, generator.group_members, seed)
        if postgres:
            await connection.execute_query(
                "SELECT setval(pg_get_serial_sequence('member_order', 'id'), "
                "(SELECT max(id) FROM member_order))"
            )
    summary = Summary(
        members,
        seed,
        as_of,
        {a.value: generator.archetypes.get(a.value, 0) for a in Archetype},
        dict(tiers),
        rows,
        len(group_rows),
    )
    summary.seconds = time.perf_counter() - started
    return summary


async def _counts(connection: Any, joined: Counter[uuid.UUID], seed: int) -> None:
    """Groups' member counts, and the like and comment counts of the generated posts."""
    for group_id, added in sorted(joined.items()):
        await (
            Group.filter(id=group_id)
            .using_db(connection)
            .update(member_count=F("member_count") + added)
        )
    placeholder = "?" if writer_is_sqlite(connection) else "$1"
    for table, column in (("post_like", "like_count"), ("comment", "comment_count")):
        # Only names from this list and the placeholder are put into the text.
        await connection.execute_query(
            f"UPDATE post SET {column} = c.n FROM "  # noqa: S608
            f"(SELECT post_id, count(*) AS n FROM {table} GROUP BY post_id) c "
            "WHERE c.post_id = post.id AND post.author_id IN (SELECT member_id FROM tier_change "
            f"WHERE reason = 'REGISTRATION' AND reference = {placeholder})",
            [marker(seed)],
        )


def writer_is_sqlite(connection: Any) -> bool:
    return bool(connection.capabilities.dialect == "sqlite")
