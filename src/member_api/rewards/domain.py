"""The rules of the rewards catalogue and of redemption, as plain functions.

A reward has a points price, stock, an optional per-member limit, an optional minimum
tier and an optional sale window; a redemption is one to `MAX_QUANTITY` units of it. The
service reads and writes the rows and moves the points; it asks these functions what is
allowed.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from member_api.error_codes import RewardErrorCode
from member_api.errors import Conflict, Forbidden, InvalidInput
from member_api.tiers.rules import TierCode

# Units in one redemption; the redemption table holds the same bound.
MAX_QUANTITY = 10
# Prices and stock live in 32-bit columns, and so does the total of one redemption.
_INT_LIMIT = 2**31
MAX_NAME_CHARS = 120
MAX_IDEMPOTENCY_KEY_CHARS = 128

# Vouchers are read aloud and typed in store: no 0/O or 1/I to confuse.
VOUCHER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
VOUCHER_CHARS = 12
VOUCHER_GROUP = 4


class RewardKind(StrEnum):
    AUTHENTICATION_VOUCHER = "AUTHENTICATION_VOUCHER"
    MAINTENANCE = "MAINTENANCE"
    EVENT_SEAT = "EVENT_SEAT"
    COUPON = "COUPON"
    ECO_GIFT = "ECO_GIFT"


class Currency(StrEnum):
    """The balance a reward is paid from: points, or carbon credits for eco gifts."""

    POINTS = "POINTS"
    CARBON = "CARBON"


class RedemptionStatus(StrEnum):
    ACTIVE = "ACTIVE"  # paid, voucher not used yet
    USED = "USED"  # the voucher was used in store
    CANCELLED = "CANCELLED"  # points and stock went back


@dataclass(frozen=True)
class RewardDraft:
    """A reward as an operator describes it, before it is checked."""

    name: str
    description: str
    kind: RewardKind
    price: int
    stock: int
    currency: str = Currency.POINTS
    limit_per_member: int | None = None
    min_tier: TierCode | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None


@dataclass(frozen=True)
class RewardChanges:
    """An operator's change to a reward: each field given replaces the reward's."""

    name: str | None = None
    description: str | None = None
    price: int | None = None
    stock: int | None = None
    limit_per_member: int | None = None
    active: bool | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None

    def given(self) -> dict[str, Any]:
        """The fields to change; a field left out (None) keeps its value."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}


def check_draft(draft: RewardDraft) -> None:
    """Refuse a reward the catalogue cannot hold."""
    if not draft.name.strip() or len(draft.name) > MAX_NAME_CHARS:
        raise InvalidInput(RewardErrorCode.INVALID_NAME, "Name: 1 to 120 characters.", field="name")
    if draft.price <= 0 or draft.price * MAX_QUANTITY >= _INT_LIMIT:
        raise InvalidInput(
            RewardErrorCode.INVALID_PRICE,
            "The price must be positive and below 214,748,364.",
            field="price",
        )
    if draft.stock < 0 or draft.stock >= _INT_LIMIT:
        raise InvalidInput(
            RewardErrorCode.INVALID_STOCK, "Stock cannot be negative.", field="stock"
        )
    if draft.limit_per_member is not None and draft.limit_per_member < 1:
        raise InvalidInput(
            RewardErrorCode.INVALID_LIMIT, "The limit must be at least 1.", field="limitPerMember"
        )
    if draft.currency not in (Currency.POINTS, Currency.CARBON):
        raise InvalidInput(RewardErrorCode.INVALID_CURRENCY, "POINTS or CARBON.", field="currency")
    for moment in (draft.active_from, draft.active_until):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(RewardErrorCode.INVALID_WINDOW, "Give times with a UTC offset.")
    if draft.active_from and draft.active_until and draft.active_until <= draft.active_from:
        raise InvalidInput(RewardErrorCode.INVALID_WINDOW, "The window ends before it starts.")


@dataclass(frozen=True)
class Offer:
    """What redemption needs to know of a catalogue entry."""

    price: int
    stock: int
    limit_per_member: int | None = None
    min_tier: TierCode | None = None
    active: bool = True
    active_from: datetime | None = None
    active_until: datetime | None = None


def unavailable_reason(offer: Offer, now: datetime) -> str | None:
    """Why the reward is not on sale at `now`, or None when it is. The window includes
    its first instant and excludes its last."""
    if not offer.active:
        return "This reward is no longer offered."
    if offer.active_from and now < offer.active_from:
        return "This reward is not offered yet."
    if offer.active_until and now >= offer.active_until:
        return "This reward is no longer offered."
    return None


def tier_allows(member_tier: TierCode, min_tier: TierCode | None) -> bool:
    return min_tier is None or member_tier.rank >= min_tier.rank


def check_gates(offer: Offer, member_tier: TierCode, now: datetime) -> None:
    """On sale now, and open to the member's tier."""
    reason = unavailable_reason(offer, now)
    if reason:
        raise Conflict(RewardErrorCode.REWARD_UNAVAILABLE, reason)
    if not tier_allows(member_tier, offer.min_tier):
        raise Forbidden(RewardErrorCode.TIER_TOO_LOW, f"This reward needs tier {offer.min_tier}.")


def within_limit(limit: int | None, already: int, quantity: int) -> bool:
    """Whether `quantity` more units keep the member within the per-member limit, given
    the units `already` held in redemptions that were not cancelled."""
    return limit is None or already + quantity <= limit


def check_limit(limit: int | None, already: int, quantity: int) -> None:
    if not within_limit(limit, already, quantity):
        raise Conflict(RewardErrorCode.LIMIT_REACHED, f"At most {limit} per member.")


def in_stock(stock: int, quantity: int) -> bool:
    return stock >= quantity


def out_of_stock() -> Conflict:
    return Conflict(RewardErrorCode.OUT_OF_STOCK, "Not enough of this reward is left.")


def check_stock(stock: int, quantity: int) -> None:
    if not in_stock(stock, quantity):
        raise out_of_stock()


def total_price(price: int, quantity: int) -> int:
    """What `quantity` units cost, in the reward's currency."""
    return price * quantity


def can_afford(balance: int, price: int, quantity: int = 1) -> bool:
    return balance >= total_price(price, quantity)


def redeemable(
    offer: Offer, member_tier: TierCode, balance: int, already: int, now: datetime
) -> bool:
    """Whether one unit would be redeemed now: on sale, open to the tier, in stock, within
    the per-member limit (given the units `already` held) and affordable from `balance`."""
    return (
        in_stock(offer.stock, 1)
        and unavailable_reason(offer, now) is None
        and tier_allows(member_tier, offer.min_tier)
        and within_limit(offer.limit_per_member, already, 1)
        and can_afford(balance, offer.price)
    )


def check_request(quantity: int, idempotency_key: str) -> None:
    """A member's redemption request before anything is looked up."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            RewardErrorCode.INVALID_QUANTITY,
            f"Quantity must be 1 to {MAX_QUANTITY}.",
            field="quantity",
        )
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InvalidInput(
            RewardErrorCode.INVALID_IDEMPOTENCY_KEY,
            "Send a key of 1 to 128 characters.",
            field="idempotencyKey",
        )


def check_replay(
    earlier_reward_id: uuid.UUID, earlier_quantity: int, reward_id: uuid.UUID, quantity: int
) -> None:
    """A key already used replays only the request it was first sent with."""
    if earlier_reward_id != reward_id or earlier_quantity != quantity:
        raise Conflict(
            RewardErrorCode.IDEMPOTENCY_KEY_REUSED, "This key was used for a different redemption."
        )


def new_voucher_code(choose: Callable[[str], str] = secrets.choice) -> str:
    """A fresh voucher code, V-XXXX-XXXX-XXXX."""
    raw = "".join(choose(VOUCHER_ALPHABET) for _ in range(VOUCHER_CHARS))
    groups = [raw[i : i + VOUCHER_GROUP] for i in range(0, VOUCHER_CHARS, VOUCHER_GROUP)]
    return "-".join(["V", *groups])


def normal_voucher_code(typed: str) -> str:
    """A code as staff typed it, in the form it was issued in."""
    return typed.strip().upper()


def check_cancellable(status: str) -> None:
    """Only an active redemption (voucher unused) can be cancelled."""
    if status != RedemptionStatus.ACTIVE:
        raise Conflict(
            RewardErrorCode.NOT_CANCELLABLE, f"This redemption is {status.lower()} already."
        )


def check_usable(status: str) -> None:
    """A voucher is used once, and never after its redemption was cancelled."""
    if status != RedemptionStatus.ACTIVE:
        raise Conflict(RewardErrorCode.VOUCHER_NOT_ACTIVE, f"The voucher is {status.lower()}.")
