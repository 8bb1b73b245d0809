"""Demo data for `make run`: one member per tier, reached through real events.

README.md's "Demo data" section describes what each demo member holds; a test holds the
two together, so a change here changes the README in the same commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from datetime import timedelta

from member_api.business_calendar import business_date
from member_api.checkin.service import check_in
from member_api.clock import FrozenClock
from member_api.commerce.domain import CommerceEventIn, EventType
from member_api.commerce.service import apply_event
from member_api.community import quiz as community_quiz
from member_api.community import service as community
from member_api.community.domain import QuizVerdict
from member_api.events.service import create_event, record_attendance
from member_api.members import service as members
from member_api.members.activity import mark_active
from member_api.members.models import Member
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.provenance import service as provenance
from member_api.provenance.domain import EventKind
from member_api.provenance.models import Item
from member_api.rewards.domain import RewardDraft, RewardKind
from member_api.rewards.service import create_reward
from member_api.services import Services
from member_api.staff import service as staff
from member_api.staff.domain import StaffRole
from member_api.tasks.service import share_authentication
from member_api.tiers import service as tiers
from member_api.tiers.rules import TierCode

logger = logging.getLogger(__name__)

DEMO_MEMBER_PASSWORD = "demo-pass-1"
DEMO_STAFF_PASSWORD = "demo-staff-1"
JOINED_DAYS_AGO = 120

# phone, display name, paid orders in yuan (oldest first), offline events attended,
# completed consignments (each earns carbon credits)
DEMO_MEMBERS = [
    ("13800000003", "金卡 Wang", [9_000, 9_500, 8_800], 0, 1),
    # Referred by Wang (Wang's successful referral); one order short of Silver.
    ("13800000001", "新客 Lin", [2_800, 600], 0, 1),
    ("13800000002", "银卡 Chen", [1_200, 800, 1_500], 0, 2),
    ("13800000004", "钻石 Zhao", [15_000, 12_000, 18_000, 16_000], 2, 3),
    ("13800000005", "黑钻 Sun", [40_000, 45_000, 38_000, 42_000], 2, 4),
]


async def database_is_empty() -> bool:
    return not await Member.exists()


async def seed_demo(services: Services) -> None:
    now = services.clock.now()
    staff_ids = {}
    for role in StaffRole:
        user = await staff.create_staff(
            services, username=role.value, password=DEMO_STAFF_PASSWORD, roles=[role.value]
        )
        staff_ids[role] = user.id
    # The demo members joined four months ago; registration happens at that time.
    joined = dataclasses.replace(services, clock=FrozenClock(now - timedelta(days=JOINED_DAYS_AGO)))
    referral_code = None
    for phone, name, orders, events, consignments in DEMO_MEMBERS:
        await members.register(
            joined,
            phone=phone,
            password=DEMO_MEMBER_PASSWORD,
            display_name=name,
            referral_code=referral_code if phone == "13800000001" else None,
        )
        member = await Member.get(phone_index=members.phone_index(services, phone))
        if phone == "13800000003":
            referral_code = member.referral_code
        await _activity(member.id, services, days=JOINED_DAYS_AGO)
        await _orders(services, member.id, orders, phone)
        await _consignments(services, member.id, consignments, phone)
        for n in range(events):
            attended = business_date(now - timedelta(days=30 * (n + 1)))
            await record_attendance(
                services, member_id=member.id, event_ref=f"demo-salon-{n + 1}", attended_on=attended
            )
    black = await Member.get(phone_index=members.phone_index(services, "13800000005"))
    await tiers.invite_to_black_diamond(
        services, member_id=black.id, staff_id=staff_ids[StaffRole.OPERATOR]
    )
    await _points_expiring_soon(services, staff_ids[StaffRole.OPERATOR])
    await _check_ins(services)
    await _tasks(services)
    await _community(services)
    await _provenance(services, staff_ids)
    await _rewards(services)
    await _events(services)
    logger.info("demo data seeded: %d members, %d staff", len(DEMO_MEMBERS), len(StaffRole))


async def _check_ins(services: Services) -> None:
    """A running streak: the last six days up to yesterday, so today's check-in extends it."""
    now = services.clock.now()
    for phone in ("13800000002", "13800000003", "13800000004", "13800000005"):
        member = await Member.get(phone_index=members.phone_index(services, phone))
        for back in range(6, 0, -1):
            day = dataclasses.replace(services, clock=FrozenClock(now - timedelta(days=back)))
            await check_in(day, member_id=member.id)


async def _tasks(services: Services) -> None:
    """Tasks in progress: profiles completed by most, authentications (and one share) by some."""
    now = services.clock.now()
    for n, phone in enumerate(("13800000002", "13800000003", "13800000004", "13800000005")):
        member = await Member.get(phone_index=members.phone_index(services, phone))
        await members.update_profile(
            services, member_id=member.id, avatar_url=f"https://img.example.com/avatars/{n}.png"
        )
        for k in range(n):
            await apply_event(
                services,
                CommerceEventIn(
                    event_id=f"demo-auth-{phone}-{k + 1}",
                    type=EventType.AUTHENTICATION_COMPLETED,
                    occurred_at=now - timedelta(days=40 - k),
                    member_id=member.id,
                    amount_fen=None,
                    item_public_id=f"demo-item-{phone[-2:]}-{k + 1}",
                ),
                source="seed",
            )
    sharer = await Member.get(phone_index=members.phone_index(services, "13800000005"))
    await share_authentication(services, member_id=sharer.id, item_public_id="demo-item-05-1")


DEMO_GROUPS = [
    ("bag-study-club", "箱包研习社 Bag Study Club", "Hermès, Chanel and friends.", "13800000004"),
    ("watch-collectors", "腕表收藏圈 Watch Collectors", "Movements and papers.", "13800000005"),
    ("couture-circle", "高定风尚会 Couture Circle", "Runway pieces, worn.", "13800000003"),
]
DEMO_POSTS = [
    ("bag-study-club", "13800000004", "How to read a date stamp on a 2019 Kelly."),
    ("bag-study-club", "13800000003", "Found a Lady Dior in great shape this week."),
    ("bag-study-club", "13800000002", "First post here: what should I check on stitching?"),
    ("watch-collectors", "13800000005", "Service papers matter more than the box."),
    ("watch-collectors", "13800000004", "A Nautilus 5711 arrived at the authentication centre."),
    ("couture-circle", "13800000003", "Archive Margiela: how we date the labels."),
]


async def _community(services: Services) -> None:
    """The three groups, each owned by a KOC, with posts, comments, likes and a quiz."""
    now = services.clock.now()

    async def member_id(phone: str) -> uuid.UUID:
        return (await Member.get(phone_index=members.phone_index(services, phone))).id

    groups = {}
    for slug, name, description, owner in DEMO_GROUPS:
        group = await community.create_group(
            services, slug=slug, name=name, description=description, owner_id=await member_id(owner)
        )
        groups[slug] = group.id
        for phone, *_ in DEMO_MEMBERS:
            await community.join_group(
                services, member_id=await member_id(phone), group_id=group.id
            )
    for n, (slug, phone, body) in enumerate(DEMO_POSTS):
        at = dataclasses.replace(
            services, clock=FrozenClock(now - timedelta(hours=2 * (len(DEMO_POSTS) - n)))
        )
        post = await community.create_post(
            at, member_id=await member_id(phone), group_id=groups[slug], body=body, image_urls=[]
        )
        for liker, *_ in DEMO_MEMBERS[: n + 1]:
            await community.like_post(at, member_id=await member_id(liker), post_id=post.id)
        if n % 2 == 0:
            await community.comment_on_post(
                at,
                member_id=await member_id("13800000001"),
                post_id=post.id,
                body="Thanks, useful!",
            )
    quiz = await community_quiz.create_quiz(
        services,
        member_id=await member_id("13800000004"),
        group_id=groups["bag-study-club"],
        body="每周一鉴 Weekly quiz: this Birkin 30 came in last week.",
        image_urls=["https://img.example.com/quiz/birkin-30-front.jpg"],
        question="Genuine or counterfeit?",
        verdict=QuizVerdict.GENUINE,
    )
    await community_quiz.answer_quiz(
        services,
        member_id=await member_id("13800000003"),
        post_id=quiz.id,
        verdict=QuizVerdict.GENUINE,
    )


# Every demo member owns one item (owner's phone, brand, model, category, GTIN, serial).
DEMO_ITEMS = [
    ("13800000005", "Hermès", "Birkin 30 Togo", "BAG", "3760000000000", "HB30-7781"),
    ("13800000004", "Rolex", "Daytona 116500LN", "WATCH", None, None),
    ("13800000003", "Chanel", "Classic Flap Medium", "BAG", None, None),
    ("13800000002", "Gucci", "Ophidia GG Card Case", "ACCESSORY", None, None),
    ("13800000001", "Louis Vuitton", "Pochette Accessoires Monogram", "BAG", None, None),
]
COPIED_TAG = "13800000003"  # the owner of the item whose tag was copied: scanned in two cities


@dataclasses.dataclass(frozen=True)
class DemoItem:
    owner_phone: str
    brand: str
    model: str
    public_id: str
    url: str


async def demo_items(services: Services) -> list[DemoItem]:
    """The items the demo members own now, by phone number (none before seeding)."""
    found = []
    for phone in sorted(phone for phone, *_ in DEMO_MEMBERS):
        owner = await Member.get_or_none(phone_index=members.phone_index(services, phone))
        if owner is None:
            continue
        for item in await Item.filter(owner_id=owner.id).order_by("created_at", "id"):
            url = provenance.public_url(services, item.public_id)
            found.append(DemoItem(phone, item.brand, item.model, item.public_id, url))
    return found


async def _provenance(services: Services, staff_ids: dict[StaffRole, uuid.UUID]) -> None:
    """Items with full histories owned by demo members; one item's tag was copied."""
    now = services.clock.now()
    authenticator = staff_ids[StaffRole.AUTHENTICATOR]
    operator = staff_ids[StaffRole.OPERATOR]
    digest = "sha256:" + hashlib.sha256(b"demo authentication report").hexdigest()
    items = {}
    for n, (phone, brand, model, category, gtin, serial) in enumerate(DEMO_ITEMS):
        owner = await Member.get(phone_index=members.phone_index(services, phone))
        item = await provenance.register_item(
            services,
            brand=brand,
            model=model,
            category=category,
            photos=[f"https://img.example.com/items/{n}.jpg"],
            gtin=gtin,
            serial=serial,
        )
        steps = [
            (operator, EventKind.SOURCING, "Shanghai", {}, 120),
            (
                authenticator,
                EventKind.AUTHENTICATION,
                "Shanghai",
                {"verdict": "GENUINE", "reportDigest": digest},
                118,
            ),
            (operator, EventKind.CONSIGNMENT, "Shanghai", {}, 117),
            (operator, EventKind.SALE, None, {}, 90),
            (authenticator, EventKind.MAINTENANCE, "Beijing", {"note": "Cleaning and polish"}, 20),
        ]
        for staff_id, kind, place, details, days in steps:
            await provenance.record_event(
                services,
                staff_id=staff_id,
                item_public_id=item.public_id,
                kind=kind,
                occurred_at=now - timedelta(days=days - n),
                place=place,
                details=details,
                new_owner_id=owner.id if kind is EventKind.SALE else None,
            )
        items[phone] = item
    copied = items[COPIED_TAG]
    for hours, city in ((3, "Shanghai"), (2, "Beijing")):
        at = dataclasses.replace(services, clock=FrozenClock(now - timedelta(hours=hours)))
        await provenance.record_scan(at, copied, city=city, address=None)


async def _points_expiring_soon(services: Services, staff_id: uuid.UUID) -> None:
    """A goodwill credit from almost three years ago: it expires within 90 days."""
    rules = services.settings.points_rules
    granted = services.clock.now() - timedelta(days=365 * 3 - 40)
    for phone in ("13800000002", "13800000003", "13800000004"):
        member = await Member.get(phone_index=members.phone_index(services, phone))
        await ledger.credit(
            member.id,
            300,
            Reason.ADJUSTMENT,
            reference="demo-goodwill",
            at=granted,
            expires_on=rules.expiry_for(business_date(granted)),
            note="goodwill credit",
            staff_id=staff_id,
        )


async def _rewards(services: Services) -> None:
    catalogue = [
        ("鉴定券 Authentication voucher", RewardKind.AUTHENTICATION_VOUCHER, 500, 200, None, None),
        ("免费保养 Maintenance service", RewardKind.MAINTENANCE, 3_000, 50, 1, TierCode.SILVER),
        ("沙龙席位 Salon seat", RewardKind.EVENT_SEAT, 1_500, 20, 1, TierCode.GOLD),
        ("满减券 200 off 2,000", RewardKind.COUPON, 800, 500, 5, None),
        ("限量丝巾 Limited scarf", RewardKind.COUPON, 20_000, 1, 1, TierCode.DIAMOND),
    ]
    for name, kind, price, stock, limit, min_tier in catalogue:
        await create_reward(
            services,
            RewardDraft(
                name=name,
                description=f"{name}, redeemable with points.",
                kind=kind,
                price=price,
                stock=stock,
                limit_per_member=limit,
                min_tier=min_tier,
            ),
        )
    await create_reward(
        services,
        RewardDraft(
            name="环保购物袋 Eco tote",
            description="Made from recycled dust bags; paid with carbon credits.",
            kind=RewardKind.ECO_GIFT,
            price=10,
            stock=100,
            currency=ledger.CARBON,
        ),
    )


async def _events(services: Services) -> None:
    now = services.clock.now()
    for days, title, city, seats, min_tier in (
        (5, "箱包研习社 Bag care salon", "Shanghai", 20, None),
        (12, "腕表收藏圈 Watch masterclass", "Beijing", 12, TierCode.GOLD),
        (26, "高定风尚会 Couture evening", "Hangzhou", 8, TierCode.DIAMOND),
    ):
        await create_event(
            services,
            title=title,
            city=city,
            starts_at=now + timedelta(days=days),
            seats=seats,
            min_tier=min_tier,
        )


async def _activity(member_id: uuid.UUID, services: Services, *, days: int) -> None:
    """Signed in three days a week since joining."""
    today = business_date(services.clock.now())
    for back in range(days):
        day = today - timedelta(days=back)
        if day.weekday() in (0, 2, 5):
            await mark_active(member_id, day)


async def _consignments(services: Services, member_id: uuid.UUID, count: int, tag: str) -> None:
    """Consignments completed over the last months, reported as the consignment system does."""
    now = services.clock.now()
    for n in range(count):
        event = CommerceEventIn(
            event_id=f"demo-consignment-{tag}-{n + 1}",
            type=EventType.CONSIGNMENT_COMPLETED,
            occurred_at=now - timedelta(days=15 + 20 * (count - n)),
            member_id=member_id,
            amount_fen=(2_000 + 1_000 * n) * 100,
            consignment_id=f"demo-consignment-{tag}-{n + 1}",
        )
        await apply_event(services, event, source="seed")


async def _orders(services: Services, member_id: uuid.UUID, amounts: list[int], tag: str) -> None:
    now = services.clock.now()
    for n, yuan in enumerate(amounts):
        at = now - timedelta(days=10 + 20 * (len(amounts) - n))
        event = CommerceEventIn(
            event_id=f"demo-{tag}-{n + 1}",
            type=EventType.ORDER_PAID,
            occurred_at=at,
            member_id=member_id,
            amount_fen=yuan * 100,
            order_id=f"demo-order-{tag}-{n + 1}",
        )
        await apply_event(services, event, source="seed")
