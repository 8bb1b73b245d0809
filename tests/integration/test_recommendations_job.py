"""The nightly recommendations job: similarities computed once per run, each consenting
member's ranked list stored with its reasons, nothing a member cannot use, a rerun
changing nothing; and the offline evaluation on a small generated data set."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from member_api.business_calendar import business_today
from member_api.clock import FrozenClock
from member_api.intelligence import recommendations
from member_api.intelligence.models import (
    ItemSimilarity,
    MemberRecommendation,
    PopularItem,
    RecommendationModel,
)
from member_api.jobs import JOBS
from member_api.members.models import Member
from member_api.privacy.erasure import erase_member
from member_api.services import Services
from tests.recommendations_support import (
    bought,
    consent,
    favourites,
    generated,
    joins,
    member,
    run_recommendations,
    world,
)
from tests.support import sql_statements


async def stored(member_id: uuid.UUID) -> list[tuple[str, str, float, str]]:
    rows = await MemberRecommendation.filter(member_id=member_id).order_by("rank")
    return [(r.target_kind, str(r.target_id), r.score, r.reason) for r in rows]


async def test_the_job_stores_ranked_lists_with_reasons_and_a_rerun_changes_nothing(
    services: Services, clock: FrozenClock
) -> None:
    w = await world(services, clock)
    viewer = await member(clock, "viewer")
    await consent(services, viewer)
    await joins(clock, viewer, w.hermes_club)
    # Spends on the category "spa": the spa voucher names it.
    await bought(clock, viewer, "Hermès", "spa")
    await favourites(clock, viewer, "Hermès")
    silent = await member(clock, "no consent")
    await joins(clock, silent, w.hermes_club)
    newcomer = await member(clock, "newcomer")
    await consent(services, newcomer)
    for m in w.crowd:
        await consent(services, m)
    as_of = business_today(clock)

    run = await run_recommendations(services, as_of)
    assert run.status == "DONE", run.last_error
    listed = await stored(viewer)
    assert listed[0] == (
        "GROUP",
        str(w.watch_club),
        0.7,
        "Members who joined 爱马仕俱乐部 also joined 腕表俱乐部",
    )
    kinds = [kind for kind, *_ in listed]
    ids = [i for _, i, *_ in listed]
    # The spa voucher: its name holds the category the member spends on.
    spa = listed[ids.index(str(w.spa))]
    assert spa[3] == "Because you like spa" or spa[3].startswith("Members who")
    assert str(w.salon) in ids
    assert str(w.post) in ids
    assert str(w.hermes_club) not in ids  # joined already
    assert not set(ids) & w.never_shown()
    assert set(kinds) <= {"GROUP", "EVENT", "REWARD", "POST"}
    assert [s for *_, s, _ in listed] == sorted((s for *_, s, _ in listed), reverse=True)

    # Without the consent: no list stored. A newcomer: the popular list of the tier.
    assert await stored(silent) == []
    newcomer_list = await stored(newcomer)
    assert newcomer_list
    assert all(reason == "Popular with 新客 members" for *_, reason in newcomer_list)
    assert not {i for _, i, *_ in newcomer_list} & w.never_shown()
    # The popular lists of GOLD hold the gated reward; NEW's do not.
    gold = await PopularItem.filter(tier="GOLD").values_list("target_id", flat=True)
    new = await PopularItem.filter(tier="NEW").values_list("target_id", flat=True)
    assert w.gold_reward in gold
    assert w.gold_reward not in new
    assert run.processed == len(w.crowd) + 2

    # A rerun (the chunks' work again, an hour later) rewrites nothing.
    before = await MemberRecommendation.all().order_by("id").values_list("id", "score", "reason")
    clock.advance(timedelta(hours=1))
    result = await recommendations.recommend_range(
        services, as_of, recommendations.LOWEST_ID, recommendations.HIGHEST_ID
    )
    assert result.changed == 0
    after = await MemberRecommendation.all().order_by("id").values_list("id", "score", "reason")
    assert after == before
    assert await RecommendationModel.all().count() == 1


async def test_similarities_are_computed_once_per_run_and_read_by_each_chunk(
    services: Services, clock: FrozenClock
) -> None:
    w = await world(services, clock)
    as_of = business_today(clock)
    with sql_statements() as statements:
        await recommendations.recommend_range(
            services, as_of, recommendations.LOWEST_ID, uuid.UUID(int=1 << 127)
        )
        await recommendations.recommend_range(
            services, as_of, uuid.UUID(int=1 << 127), recommendations.HIGHEST_ID
        )
    grouped = [s for s in statements if "GROUP BY a.id, b.id" in s]
    assert len(grouped) == 1, grouped
    near = await ItemSimilarity.filter(
        day=as_of, source_kind="GROUP", source_id=str(w.hermes_club)
    ).values_list("target_id", "together")
    assert (w.watch_club, len(w.crowd)) in near


async def test_withdrawing_consent_removes_the_stored_list(
    services: Services, clock: FrozenClock
) -> None:
    w = await world(services, clock)
    viewer = await member(clock, "viewer")
    await consent(services, viewer)
    await joins(clock, viewer, w.hermes_club)
    as_of = business_today(clock)
    await recommendations.recommend_range(
        services, as_of, recommendations.LOWEST_ID, recommendations.HIGHEST_ID
    )
    assert await stored(viewer)
    await consent(services, viewer, granted=False)
    result = await recommendations.recommend_range(
        services, as_of, recommendations.LOWEST_ID, recommendations.HIGHEST_ID
    )
    assert result.changed == 1
    assert await stored(viewer) == []


async def test_a_dry_run_counts_and_stores_nothing(services: Services, clock: FrozenClock) -> None:
    w = await world(services, clock)
    for m in w.crowd[:2]:
        await consent(services, m)
    summary, _ = await JOBS["recommendations"](services, business_today(clock), True)
    assert summary.startswith("recommendations as of ")
    assert "2 member(s) would get lists" in summary
    assert await MemberRecommendation.all().count() == 0
    assert await RecommendationModel.all().count() == 0


# --- the offline evaluation --------------------------------------------------------------


async def test_the_evaluation_beats_the_popular_baseline_on_planted_clusters(
    clock: FrozenClock,
    services: Services,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await generated(clock, 120, seed=3)
    result = await recommendations.evaluate(10)
    print(result.line(10))
    assert result.members == 120
    assert result.similar_rate > 0.9
    assert result.similar_rate > result.popular_rate + 0.3


async def test_an_erased_member_keeps_no_recommendations(
    services: Services, clock: FrozenClock
) -> None:
    w = await world(services, clock)
    viewer = await member(clock, "viewer")
    await consent(services, viewer)
    await joins(clock, viewer, w.hermes_club)
    as_of = business_today(clock)
    await recommendations.recommend_range(
        services, as_of, recommendations.LOWEST_ID, recommendations.HIGHEST_ID
    )
    assert await stored(viewer)
    await Member.filter(id=viewer).update(erasure_due_at=clock.now())
    assert await erase_member(services, viewer)
    assert await stored(viewer) == []
