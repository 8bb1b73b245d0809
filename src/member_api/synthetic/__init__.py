"""A generated data set for exercising and benchmarking member intelligence.

`seed_synthetic` writes N members with order, login, community, favourite and view
histories (see `generate`) in one transaction, batch by batch: COPY on PostgreSQL,
multi-row inserts elsewhere. A database that holds generated members already is refused.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
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
OLD_GROUP_DAYS = 90


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


class _Writer:
    """Rows into one table at a time, inside the run's transaction."""

    def __init__(self, connection: Any, postgres: bool) -> None:
        self.connection = connection
        self.postgres = postgres

    async def scalar(self, sql: str) -> Any:
        _, rows = await self.connection.execute_query(sql)
        return rows[0][0] if rows else None

    async def reactions(self, counts: dict[uuid.UUID, list[int]]) -> None:
        """Add a batch's likes and comments to the counts kept on their posts."""
        if not counts:
            return
        ids = sorted(counts)
        likes = [counts[post_id][0] for post_id in ids]
        comments = [counts[post_id][1] for post_id in ids]
        if self.postgres:
            await self.connection.execute_query(
                "UPDATE post SET like_count = post.like_count + d.likes, "
                "comment_count = post.comment_count + d.comments "
                "FROM unnest($1::uuid[], $2::int[], $3::int[]) AS d(id, likes, comments) "
                "WHERE post.id = d.id",
                [ids, likes, comments],
            )
            return
        await self.connection.execute_many(
            "UPDATE post SET like_count = like_count + ?, comment_count = comment_count + ? "
            "WHERE id = ?",
            [[n, c, str(post_id)] for post_id, n, c in zip(ids, likes, comments, strict=True)],
        )

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
    """The groups that existed 90 days before the date (members join and post in them);
    or, if there are none, a handful made for the set (their rows, owned by the first
    generated member, are written with the first batch)."""
    found = await Group.all().using_db(writer.connection).order_by("slug")
    refs = []
    for group in found:
        created_on = group.created_at.astimezone(BUSINESS_ZONE).date()
        if created_on > as_of - timedelta(days=OLD_GROUP_DAYS):
            continue
        text = f"{group.slug} {group.name}".lower()
        brands = tuple(
            n
            for n, brand in enumerate(catalogue.BRANDS)
            if any(len(part) > 1 and part.lower() in text for part in brand.name.split())
        )
        refs.append(GroupRef(group.id, created_on, brands))
    if refs:
        return refs, []
    rng = random.Random(f"groups:{seed}")
    created = datetime.combine(as_of - timedelta(days=HISTORY_DAYS + 30), datetime.min.time())
    created_at = created.replace(hour=10, tzinfo=BUSINESS_ZONE)
    refs, rows = [], []
    taken = {group.slug for group in found}
    for spec in catalogue.GROUPS:
        group_id = member_uuid(rng)
        if spec.slug in taken:
            continue
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
            members=members,
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
        async for batch in _prefetched(generator.batches()):
            if first and group_rows:
                owner = batch.plans[0].id
                batch.rows["community_group"] = [(*r[:4], owner, *r[5:]) for r in group_rows]
            first = False
            for table in TABLES:
                await writer.write(table, batch.rows[table])
                rows[table] += len(batch.rows[table])
            await writer.reactions(batch.reactions)
            tiers.update(plan.tier.value for plan in batch.plans)
        await _member_counts(connection, generator.group_members)
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


async def _prefetched(batches: Iterator[Batch]) -> AsyncIterator[Batch]:
    """The batches, each generated in a thread while the one before is being written (the
    database's share of the work overlaps ours). One batch is generated at a time."""
    loop = asyncio.get_running_loop()
    coming = loop.run_in_executor(None, next, batches, None)
    while (batch := await coming) is not None:
        coming = loop.run_in_executor(None, next, batches, None)
        yield batch


async def _member_counts(connection: Any, joined: Counter[uuid.UUID]) -> None:
    """The groups' member counts, with the members who joined them."""
    for group_id, added in sorted(joined.items()):
        await (
            Group.filter(id=group_id)
            .using_db(connection)
            .update(member_count=F("member_count") + added)
        )
