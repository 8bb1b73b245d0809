"""Each member's scores per business date, so that any past day's scores stay known;
the sentiment phrases operators changed, each post's verdict, and the care alerts."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from member_api.members.models import Member


class MemberScore(Model):
    """The RFM scores and tags of one member as of one business date (the nightly job)."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="scores", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    day = fields.DateField()
    r = fields.SmallIntField()
    f = fields.SmallIntField()
    m = fields.SmallIntField()
    # A JSON list of tag codes, e.g. KEY_RETENTION.
    tags = fields.CharField(max_length=200, default="[]")
    rules_version = fields.IntField(default=0)  # the score rules version they came from
    computed_at = fields.DatetimeField()

    class Meta:
        table = "member_score"
        unique_together = (("member_id", "day"),)


class MemberFact(Model):
    """What is known of one member as of a business date: the inputs of the scores, the
    persona tags, segments and churn risk. One row per member, rewritten by the nightly
    job and by the member's own events (orders, refunds, favourites, views, a first
    visit of the day). Windows are trailing business days ending on `as_of`."""

    id = fields.BigIntField(primary_key=True)
    member: fields.OneToOneRelation[Member] = fields.OneToOneField(
        "models.Member", related_name="facts", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    as_of = fields.DateField()
    last_purchase_on = fields.DateField(null=True)
    last_active_on = fields.DateField(null=True)
    # Paid orders not fully refunded, and their spend net of refunds, in fen.
    orders_30d = fields.IntField(default=0)
    orders_90d = fields.IntField(default=0)
    orders_prev_90d = fields.IntField(default=0)  # the 90 days before the last 90
    orders_365d = fields.IntField(default=0)
    spend_30d_fen = fields.BigIntField(default=0)
    spend_90d_fen = fields.BigIntField(default=0)
    spend_365d_fen = fields.BigIntField(default=0)
    average_order_365d_fen = fields.BigIntField(default=0)  # rounded down
    active_days_30d = fields.IntField(default=0)
    active_days_90d = fields.IntField(default=0)
    active_days_prev_90d = fields.IntField(default=0)
    posts_90d = fields.IntField(default=0)  # visible posts
    comments_90d = fields.IntField(default=0)  # visible comments
    likes_90d = fields.IntField(default=0)  # likes given
    groups = fields.IntField(default=0)  # groups joined now
    favourites_90d = fields.IntField(default=0)
    views_30d = fields.IntField(default=0)
    views_90d = fields.IntField(default=0)
    computed_at = fields.DatetimeField()

    class Meta:
        table = "member_fact"


class MemberAffinity(Model):
    """A member's leaning to a brand or a category: its share of their spend (order
    lines) and of their favourites, each weighted by a half-life decay of its age."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="affinities", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    dimension = fields.CharField(max_length=10)  # BRAND or CATEGORY
    value = fields.CharField(max_length=80)
    spend_share = fields.FloatField(default=0)  # 0..1 of the decayed spend
    favourite_share = fields.FloatField(default=0)  # 0..1 of the decayed favourites

    class Meta:
        table = "member_affinity"
        unique_together = (("member_id", "dimension", "value"),)


class MemberTag(Model):
    """A tag staff put on a member by hand, and when it was taken off: the rows say
    which tags a member had on any past day."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="manual_tags", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    tag = fields.CharField(max_length=40)
    added_by = fields.UUIDField()
    added_at = fields.DatetimeField()
    removed_by = fields.UUIDField(null=True)
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "member_tag"
        indexes = (("member_id", "tag"),)


class ScoreRulesVersion(Model):
    """A version of the score rules (bands, reference value, personas) set by staff.
    The latest is in force; version 0 is the rules file's."""

    id = fields.IntField(primary_key=True)
    rules = fields.TextField()  # the whole rules, as JSON
    note = fields.CharField(max_length=500)
    created_by = fields.UUIDField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "score_rules_version"


class SentimentPhrase(Model):
    """An operator's change to the sentiment phrases: a phrase added to its kind (active),
    or a built-in one taken away (not active). The defaults themselves live in code."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=12)
    phrase = fields.CharField(max_length=12)
    active = fields.BooleanField()
    changed_by = fields.UUIDField(null=True)
    changed_at = fields.DatetimeField()

    class Meta:
        table = "sentiment_phrase"
        unique_together = (("kind", "phrase"),)


class ContentSentiment(Model):
    """The verdict on one post or comment, once: negative about the service or not, and
    the phrases that made it so (the text itself stays with the post)."""

    id = fields.BigIntField(primary_key=True)
    source_kind = fields.CharField(max_length=10)  # POST, COMMENT
    source_id = fields.UUIDField()
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="content_sentiments", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    negative = fields.BooleanField()
    matched: list[str] = fields.JSONField(default=list)
    posted_at = fields.DatetimeField()
    classified_at = fields.DatetimeField()

    class Meta:
        table = "content_sentiment"
        unique_together = (("source_kind", "source_id"),)
        indexes = (("member_id", "negative"), ("posted_at",))


class CareAlert(Model):
    """A negative remark about the service, for customer care to follow up: one per post
    or comment, naming the member and the phrases, never copying the text."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="care_alerts", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    source_kind = fields.CharField(max_length=10)
    source_id = fields.UUIDField()
    matched: list[str] = fields.JSONField(default=list)
    status = fields.CharField(max_length=10, default="OPEN")
    posted_at = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "care_alert"
        unique_together = (("source_kind", "source_id"),)
        indexes = (("status", "created_at"), ("member_id", "created_at"))


class MemberRecommendation(Model):
    """One of a member's recommendations, best first by rank (the nightly job)."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="recommendations", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    rank = fields.SmallIntField()
    target_kind = fields.CharField(max_length=10)  # REWARD, EVENT, GROUP or POST
    target_id = fields.UUIDField()
    score = fields.FloatField()
    reason = fields.CharField(max_length=300)
    # The business date of the run that wrote the member's list as it is.
    day = fields.DateField()

    class Meta:
        table = "member_recommendation"
        unique_together = (("member_id", "rank"),)


class PopularItem(Model):
    """The items most members of a tier have, best first: for newcomers, to fill up, and
    for members who do not consent to personalisation."""

    id = fields.BigIntField(primary_key=True)
    tier = fields.CharField(max_length=20)
    rank = fields.SmallIntField()
    target_kind = fields.CharField(max_length=10)
    target_id = fields.UUIDField()
    members = fields.IntField()
    day = fields.DateField()

    class Meta:
        table = "popular_item"
        unique_together = (("tier", "rank"),)


class ItemSimilarity(Model):
    """A target most similar to a source item (members who have both), as computed once
    per run of the recommendations job."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField()
    source_kind = fields.CharField(max_length=10)
    # A UUID, or the name of a favourited brand as the shop reported it.
    source_id = fields.CharField(max_length=128)
    target_kind = fields.CharField(max_length=10)
    target_id = fields.UUIDField()
    similarity = fields.FloatField()
    together = fields.IntField()

    class Meta:
        table = "item_similarity"
        indexes = (("day", "source_kind", "source_id"),)


class RecommendationModel(Model):
    """Marks that the similarities and popular lists of a run's day are stored: the first
    chunk of the run computes them, the others read them."""

    id = fields.BigIntField(primary_key=True)
    day = fields.DateField(unique=True)
    # Names this computation: a process keeps what it read under it.
    token = fields.UUIDField(default=uuid.uuid4)
    computed_at = fields.DatetimeField()
    items = fields.IntField()
    pairs = fields.IntField()

    class Meta:
        table = "recommendation_model"


class Segment(Model):
    """A named group of members defined by a filter (intelligence/segments.py). Each
    change of its filter is a new version, the latest in force."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=60, unique=True)
    version = fields.IntField(default=1)
    created_by = fields.UUIDField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "segment"


class SegmentVersion(Model):
    """One version of a segment's filter, kept as it was saved."""

    id = fields.BigIntField(primary_key=True)
    segment: fields.ForeignKeyRelation[Segment] = fields.ForeignKeyField(
        "models.Segment", related_name="versions", on_delete=fields.CASCADE
    )
    segment_id: uuid.UUID
    version = fields.IntField()
    tree = fields.TextField()  # the filter tree, as JSON
    created_by = fields.UUIDField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "segment_version"
        unique_together = (("segment_id", "version"),)
