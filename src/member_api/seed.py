"""Demo data for `make run`: members across the tiers and one account per staff role."""

from __future__ import annotations

import logging

from member_api.members import service as members
from member_api.members.models import Member
from member_api.services import Services
from member_api.staff import service as staff
from member_api.staff.domain import StaffRole

logger = logging.getLogger(__name__)

DEMO_MEMBER_PASSWORD = "demo-pass-1"
DEMO_STAFF_PASSWORD = "demo-staff-1"
DEMO_MEMBERS = [
    ("13800000001", "新客 Lin"),
    ("13800000002", "银卡 Chen"),
    ("13800000003", "金卡 Wang"),
    ("13800000004", "钻石 Zhao"),
    ("13800000005", "黑钻 Sun"),
]


async def database_is_empty() -> bool:
    return not await Member.exists()


async def seed_demo(services: Services) -> None:
    for phone, name in DEMO_MEMBERS:
        await members.register(
            services, phone=phone, password=DEMO_MEMBER_PASSWORD, display_name=name
        )
    for role in StaffRole:
        await staff.create_staff(
            services, username=role.value, password=DEMO_STAFF_PASSWORD, roles=[role.value]
        )
    logger.info("demo data seeded: %d members, %d staff", len(DEMO_MEMBERS), len(StaffRole))
