"""The generated data set: the same seed, date and count give the same rows; every
archetype is there and churners went quiet; the rows hang together as the services
would have written them; a rerun writes nothing; the nightly scores spread over it."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise

from member_api import db
from member_api.cli import main
from member_api.commerce.models import CommerceEvent, ItemInteraction, MemberOrder, OrderLine
from member_api.community.models import Comment, Group, GroupMembership, Post, PostLike
from member_api.events.models import EventAttendance
from member_api.intelligence.models import MemberScore
from member_api.intelligence.scores import HIGHEST_ID, LOWEST_ID, score_range
from member_api.members.models import ActivityDay, Member
from member_api.privacy.models import ConsentRecord
from member_api.services import Services
from member_api.synthetic import AlreadyGenerated, seed_synthetic
from member_api.synthetic.generate import CHURNERS, Archetype, Generator, GroupRef
from member_api.tiers.models import TierChange
from member_api.tiers.rules import TierRules
from tests.conftest import _truncate_postgres

AS_OF = date(2026, 6, 30)
AS_OF_MOMENT = datetime(2026, 6, 30, 12, tzinfo=UTC)


async def digest() -> str:
    """What the set holds, in a stable order: a run's fingerprint."""
    parts: list[Any] = [
        await Member.all()
        .order_by("id")
        .values_list("id", "referral_code", "tier", "birthday_month", "referred_by_id"),
        await MemberOrder.all()
        .order_by("order_id")
        .values_list("order_id", "member_id", "paid_fen", "refunded_fen", "paid_on"),
        await OrderLine.all()
        .order_by("order__order_id", "position")
        .values_list("order__order_id", "brand", "category", "amount_fen"),
        await ActivityDay.all().order_by("member_id", "day").values_list("member_id", "day"),
        await ItemInteraction.all()
        .order_by("event__event_id")
        .values_list("event__event_id", "item_id", "count", "day"),
        await Post.all().order_by("id").values_list("id", "body", "like_count", "comment_count"),
        await ConsentRecord.all()
        .order_by("member_id", "purpose", "changed_at")
        .values_list("member_id", "purpose", "granted"),
    ]
    for model in (Comment, PostLike, GroupMembership, EventAttendance, TierChange):
        parts.append(await model.all().count())
    return hashlib.sha256(repr(parts).encode()).hexdigest()


async def test_the_same_seed_gives_the_same_rows_and_a_rerun_writes_nothing(
    services: Services, backend: str, database_url: str, request: pytest.FixtureRequest
) -> None:
    summary = await seed_synthetic(services, members=120, seed=5, as_of=AS_OF)
    first = await digest()
    assert summary.rows["member"] == await Member.all().count() == 120
    with pytest.raises(AlreadyGenerated):
        await seed_synthetic(services, members=120, seed=6, as_of=AS_OF)
    assert await digest() == first
    # Into a second fresh database: the same rows.
    if backend == "sqlite":
        second = Path(database_url.removeprefix("sqlite://")).with_name("second.sqlite3")
        shutil.copyfile(request.getfixturevalue("sqlite_template"), second)
        await Tortoise.close_connections()
        await db.init_orm(f"sqlite://{second}")
    else:
        await _truncate_postgres(database_url)
    assert await Member.all().count() == 0
    again = await seed_synthetic(services, members=120, seed=5, as_of=AS_OF)
    assert await digest() == first
    assert again.rows == summary.rows


async def test_the_rows_hang_together(services: Services) -> None:
    summary = await seed_synthetic(services, members=300, seed=11, as_of=AS_OF)
    assert all(summary.archetypes[a.value] > 0 for a in Archetype), summary.archetypes
    members = {m.id: m for m in await Member.all()}
    assert len(members) == 300
    # Orders and their lines, events and interactions belong together.
    orders = {o.id: o for o in await MemberOrder.all()}
    assert orders
    assert all(o.member_id in members for o in orders.values())
    line_totals: Counter[int] = Counter()
    for line in await OrderLine.all():
        line_totals[line.order_id] += line.amount_fen
    assert set(line_totals) == set(orders)
    assert all(line_totals[k] == o.paid_fen for k, o in orders.items())
    assert all(0 <= o.refunded_fen <= o.paid_fen for o in orders.values())
    refunded = [o for o in orders.values() if o.refunded_fen]
    assert refunded
    assert len(refunded) < len(orders) / 5
    events = {e.id: e for e in await CommerceEvent.all()}
    paid = {e.order_id for e in events.values() if e.type == "order.paid"}
    assert paid == {o.order_id for o in orders.values()}
    assert {e.order_id for e in events.values() if e.type == "order.refunded"} == {
        o.order_id for o in refunded
    }
    interactions = await ItemInteraction.all()
    assert {i.kind for i in interactions} == {"FAVOURITE", "VIEW"}
    assert all(events[i.event_id].member_id == i.member_id for i in interactions)
    # Every order day and every community action is an active day; nothing after AS_OF.
    active: dict[Any, set[date]] = {}
    for row in await ActivityDay.all():
        active.setdefault(row.member_id, set()).add(row.day)
    assert all(o.paid_on in active[o.member_id] for o in orders.values())
    assert max(max(days) for days in active.values()) <= AS_OF
    posts = await Post.all()
    assert posts
    assert all(p.created_on in active[p.author_id] for p in posts)
    # Counts kept on groups and posts match their rows.
    for group in await Group.all():
        assert group.member_count == await GroupMembership.filter(group_id=group.id).count()
    likes = Counter(like.post_id for like in await PostLike.all())
    comments = Counter(c.post_id for c in await Comment.all())
    assert sum(likes.values()) > 0
    assert sum(comments.values()) > 0
    assert all(p.like_count == likes[p.id] and p.comment_count == comments[p.id] for p in posts)
    for post_id in likes:
        post = next(p for p in posts if p.id == post_id)
        assert post.created_at <= max(
            like.created_at for like in await PostLike.filter(post_id=post_id)
        )
    # Churners: at least as many members quiet for the last 100 days as there are churners.
    quiet = [m for m, days in active.items() if max(days) < AS_OF - timedelta(days=100)]
    churners = sum(summary.archetypes[a.value] for a in CHURNERS)
    assert len(quiet) >= churners > 0
    # Some withdrew a consent; tiers spread; every member has a registration.
    withdrawals = await ConsentRecord.filter(granted=False).count()
    assert withdrawals > 0
    assert {m.tier for m in members.values()} >= {"NEW", "SILVER"}
    assert await TierChange.filter(reason="REGISTRATION").count() == 300
    assert any(m.birthday_month for m in members.values())
    assert any(m.referred_by_id in members for m in members.values())


def test_churners_stop_and_fading_members_decline_first() -> None:
    """Straight from the generator: each churner's last activity is months before the
    as-of date, and fading members did less in their last months than before."""
    groups = [GroupRef(uuid.UUID(int=n + 1), date(2023, 1, 1), (n,)) for n in range(3)]
    generator = Generator(
        seed=3,
        as_of=AS_OF,
        members=400,
        groups=groups,
        policy_version="2026-01",
        tier_rules=TierRules(),
    )
    batch = generator.batch(0, 400)
    days: dict[Any, list[date]] = {}
    for member_id, day in batch.rows["member_activity_day"]:
        days.setdefault(member_id, []).append(day)
    orders: dict[Any, list[date]] = {}
    for row in batch.rows["member_order"]:
        orders.setdefault(row[2], []).append(row[6])
    earlier = later = 0
    for plan in batch.plans:
        if plan.archetype in CHURNERS:
            assert max(days[plan.id]) <= AS_OF - timedelta(days=100)
            assert all(d <= AS_OF - timedelta(days=100) for d in orders.get(plan.id, []))
        if plan.archetype is Archetype.FADING:
            last = max(days[plan.id])
            before = (last - timedelta(days=180), last - timedelta(days=90))
            earlier += sum(1 for d in days[plan.id] if before[0] <= d < before[1])
            later += sum(1 for d in days[plan.id] if d >= before[1])
        if plan.archetype is Archetype.LOYAL:
            assert max(days[plan.id]) >= AS_OF - timedelta(days=30)
    assert later < earlier


@pytest.mark.parametrize("backend", ["postgres"])
async def test_the_nightly_scores_spread_over_two_thousand_members(services: Services) -> None:
    await seed_synthetic(services, members=2000, seed=1, as_of=AS_OF)
    await score_range(services, AS_OF, LOWEST_ID, HIGHEST_ID)
    scores = await MemberScore.filter(day=AS_OF).values_list("r", "f", "m", "tags")
    assert len(scores) == 2000
    for n in range(3):
        spread = Counter(row[n] for row in scores)
        assert len(spread) >= 4, spread
        assert spread[1] < 0.9 * len(scores)
    tagged = sum(1 for row in scores if "KEY_RETENTION" in row[3])
    assert 20 <= tagged <= 400


def test_the_command_prints_a_summary_and_refuses_a_second_run(
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "synthetic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite://{path}")
    monkeypatch.setenv("CACHE_URL", "memory://")
    argv = ["seed-synthetic", "--members", "30", "--seed", "4", "--as-of", "2026-05-31"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "30 generated members (seed 4, as of 2026-05-31)" in out
    for part in ("archetypes: ", "tiers: ", " orders, ", " active days, ", "groups created"):
        assert part in out
    assert main(argv) == 1
    assert "holds 30 generated members already" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_members_join_the_groups_already_there(services: Services) -> None:
    old = datetime(2024, 1, 1, tzinfo=UTC)
    owner = await Member.create(
        display_name="owner", referral_code="OWNER234", joined_at=old, updated_at=old
    )
    hermes = await Group.create(
        slug="hermes-lovers", name="爱马仕 Hermès", owner=owner, created_at=old
    )
    recent = AS_OF_MOMENT - timedelta(days=30)
    await Group.create(slug="too-new", name="New", owner=owner, created_at=recent)
    summary = await seed_synthetic(services, members=60, seed=2, as_of=AS_OF)
    assert summary.groups_created == 0
    assert await Group.all().count() == 2
    joined = await GroupMembership.all().values_list("group_id", flat=True)
    assert joined
    assert set(joined) == {hermes.id}
    await hermes.refresh_from_db()
    assert hermes.member_count == len(joined)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_groups_are_made_when_those_there_are_too_new(services: Services) -> None:
    recent = AS_OF_MOMENT - timedelta(days=30)
    owner = await Member.create(
        display_name="owner", referral_code="OWNER234", joined_at=recent, updated_at=recent
    )
    await Group.create(slug="hermes-club", name="Hermès", owner=owner, created_at=recent)
    summary = await seed_synthetic(services, members=20, seed=2, as_of=AS_OF)
    assert summary.groups_created == 5
    assert await Group.all().count() == 6
    assert await GroupMembership.filter(group__slug="hermes-club").count() == 0
