"""Sentiment use cases: the phrases in force, the verdict on each post and comment, and a
care alert for each negative remark about the service.

A post or comment is classified soon after it is committed (a task sent once the write
is done, `send_classify`), and a sweep every minute classifies whatever that missed (a
process that died between the commit and the send, a broker that was away). Both end in
`classify_source`, which writes the verdict and the alert once per post or comment: the
unique keys on the source make a second delivery, a rerun or a sweep change nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from member_api.audit import service as audit
from member_api.community.models import Comment, Post
from member_api.db import create_once
from member_api.error_codes import SentimentErrorCode
from member_api.errors import Conflict, NotFound
from member_api.intelligence import sentiment
from member_api.intelligence.models import CareAlert, ContentSentiment, SentimentPhrase
from member_api.intelligence.sentiment import DEFAULT_PHRASES, Lexicon, PhraseKind
from member_api.services import Services

logger = logging.getLogger(__name__)
# How far back the sweep looks for posts and comments nobody classified.
SWEEP_LOOKBACK = timedelta(days=2)
# At most this many of each kind per sweep; the next sweep takes the rest.
SWEEP_BATCH = 500


class SourceKind(StrEnum):
    POST = "POST"
    COMMENT = "COMMENT"


class AlertStatus(StrEnum):
    OPEN = "OPEN"


# --- the phrases ----------------------------------------------------------------------


async def lexicon() -> Lexicon:
    """The built-in phrases with the operators' changes."""
    rows = await SentimentPhrase.all().values_list("kind", "phrase", "active")
    changes = [(PhraseKind(kind), phrase, active) for kind, phrase, active in rows]
    return Lexicon.of(
        added=[(kind, phrase) for kind, phrase, active in changes if active],
        removed=[(kind, phrase) for kind, phrase, active in changes if not active],
    )


@dataclass(frozen=True)
class PhraseInForce:
    kind: PhraseKind
    phrase: str
    # A built-in phrase, or one an operator added.
    built_in: bool


async def phrases(kind: PhraseKind | None = None) -> list[PhraseInForce]:
    current = await lexicon()
    kinds = [kind] if kind is not None else list(PhraseKind)
    return [
        PhraseInForce(k, phrase, phrase in DEFAULT_PHRASES[k])
        for k in kinds
        for phrase in sorted(current.phrases[k])
    ]


async def _set_phrase(
    services: Services, kind: PhraseKind, phrase: str, active: bool, staff_id: uuid.UUID
) -> None:
    """Record the change as the one row of (kind, phrase); a built-in phrase put back is
    no change any more, so its row goes."""
    now = services.clock.now()
    built_in = phrase in DEFAULT_PHRASES[kind]
    await SentimentPhrase.filter(kind=kind.value, phrase=phrase).delete()
    if built_in == active:
        return
    if not await create_once(
        SentimentPhrase,
        kind=kind.value,
        phrase=phrase,
        active=active,
        changed_by=staff_id,
        changed_at=now,
    ):
        raise Conflict(
            SentimentErrorCode.PHRASE_ALREADY_ACTIVE,
            f"{phrase} was changed by someone else just now; look again.",
            field="phrase",
        )


async def add_phrase(
    services: Services, *, kind: PhraseKind, phrase: str, staff_id: uuid.UUID
) -> PhraseInForce:
    """Put a phrase in force: the next posts and comments are classified with it."""
    phrase = sentiment.clean_phrase(phrase)
    async with in_transaction():
        if (await lexicon()).has(kind, phrase):
            raise Conflict(
                SentimentErrorCode.PHRASE_ALREADY_ACTIVE,
                f"{phrase} is a {kind.value} phrase already.",
                field="phrase",
            )
        await _set_phrase(services, kind, phrase, True, staff_id)
        audit.note(
            target_kind="SentimentPhrase",
            target_id=f"{kind.value}:{phrase}",
            after={"kind": kind.value, "phrase": phrase, "active": True},
        )
    return PhraseInForce(kind, phrase, phrase in DEFAULT_PHRASES[kind])


async def remove_phrase(
    services: Services, *, kind: PhraseKind, phrase: str, staff_id: uuid.UUID
) -> PhraseInForce:
    """Take a phrase out of force, a built-in one included."""
    phrase = sentiment.clean_phrase(phrase)
    async with in_transaction():
        if not (await lexicon()).has(kind, phrase):
            raise NotFound(
                SentimentErrorCode.UNKNOWN_PHRASE,
                f"{phrase} is not a {kind.value} phrase.",
                field="phrase",
            )
        await _set_phrase(services, kind, phrase, False, staff_id)
        audit.note(
            target_kind="SentimentPhrase",
            target_id=f"{kind.value}:{phrase}",
            before={"kind": kind.value, "phrase": phrase, "active": True},
            after={"kind": kind.value, "phrase": phrase, "active": False},
        )
    return PhraseInForce(kind, phrase, phrase in DEFAULT_PHRASES[kind])


# --- classifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    id: uuid.UUID
    member_id: uuid.UUID
    body: str
    posted_at: datetime


async def _source(kind: SourceKind, source_id: uuid.UUID) -> Source | None:
    """The post or comment, unless it is gone or its author was erased."""
    model: type[Post] | type[Comment] = Post if kind is SourceKind.POST else Comment
    row = await model.filter(id=source_id, author__erased_at__isnull=True).first()
    if row is None:
        return None
    return Source(kind, row.id, row.author_id, row.body, row.created_at)


async def classify_source(
    services: Services, kind: SourceKind, source_id: uuid.UUID, rules: Lexicon | None = None
) -> ContentSentiment | None:
    """The verdict on one post or comment, written once, with its care alert if it is a
    negative remark about the service; a later call finds the verdict and changes
    nothing. None when the post or comment is gone or its author erased."""
    found = await ContentSentiment.get_or_none(source_kind=kind.value, source_id=source_id)
    if found is not None:
        return found
    source = await _source(kind, source_id)
    if source is None:
        return None
    rules = rules if rules is not None else await lexicon()
    # Segmenting is pure CPU (and the first call loads the dictionary): off the loop.
    verdict = await asyncio.to_thread(sentiment.classify, source.body, rules)
    now = services.clock.now()
    async with in_transaction():
        written = await create_once(
            ContentSentiment,
            source_kind=kind.value,
            source_id=source.id,
            member_id=source.member_id,
            negative=verdict.negative,
            matched=list(verdict.matched),
            posted_at=source.posted_at,
            classified_at=now,
        )
        if written and verdict.negative:
            await create_once(
                CareAlert,
                member_id=source.member_id,
                source_kind=kind.value,
                source_id=source.id,
                matched=list(verdict.matched),
                status=AlertStatus.OPEN.value,
                posted_at=source.posted_at,
                created_at=now,
            )
            logger.info("care alert: %s %s (%s)", kind.value, source.id, ", ".join(verdict.matched))
    return await ContentSentiment.get(source_kind=kind.value, source_id=source.id)


async def unclassified(services: Services) -> list[tuple[SourceKind, uuid.UUID]]:
    """Posts and comments of the last SWEEP_LOOKBACK with no verdict, oldest first."""
    since = services.clock.now() - SWEEP_LOOKBACK
    found: list[tuple[SourceKind, uuid.UUID]] = []
    for kind, model in ((SourceKind.POST, Post), (SourceKind.COMMENT, Comment)):
        done = ContentSentiment.filter(source_kind=kind.value, posted_at__gte=since)
        ids = (
            await model.filter(created_at__gte=since, author__erased_at__isnull=True)
            .exclude(id__in=Subquery(done.values("source_id")))
            .order_by("created_at")
            .limit(SWEEP_BATCH)
            .values_list("id", flat=True)
        )
        found += [(kind, uuid.UUID(str(value))) for value in ids]
    return found


async def sweep(services: Services) -> int:
    """Classify what the tasks sent after each write did not; returns how many."""
    missed = await unclassified(services)
    if not missed:
        return 0
    rules = await lexicon()
    for kind, source_id in missed:
        await classify_source(services, kind, source_id, rules)
    logger.info("sentiment sweep: %d post(s) and comment(s) classified", len(missed))
    return len(missed)


# --- reads ------------------------------------------------------------------------------


def alerts(status: AlertStatus = AlertStatus.OPEN) -> QuerySet[CareAlert]:
    return CareAlert.filter(status=status.value)


async def negative_remarks(member_id: uuid.UUID) -> int:
    """How many of the member's posts and comments were negative about the service."""
    return await ContentSentiment.filter(member_id=member_id, negative=True).count()
