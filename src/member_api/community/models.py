"""Interest groups, their posts, comments, likes and reports, quiz answers, moderation log."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from member_api.members.models import Member


class Group(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    slug = fields.CharField(max_length=60, unique=True)
    name = fields.CharField(max_length=60)
    description = fields.TextField(default="")
    owner: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="owned_groups", on_delete=fields.RESTRICT
    )
    owner_id: uuid.UUID
    member_count = fields.IntField(default=0)
    created_at = fields.DatetimeField()

    class Meta:
        table = "community_group"
        constraints = (
            CheckConstraint(check="member_count >= 0", name="community_group_count_not_negative"),
        )


class GroupMembership(Model):
    id = fields.BigIntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="memberships", on_delete=fields.CASCADE
    )
    group_id: uuid.UUID
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="group_memberships", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    joined_at = fields.DatetimeField()

    class Meta:
        table = "group_membership"
        unique_together = (("group", "member"),)
        indexes = (("member_id", "group_id"),)


class GroupMute(Model):
    """A member muted in a group by staff until `muted_until`: no posts or comments there
    until then. One row per group and member, kept when the member leaves the group."""

    id = fields.BigIntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="mutes", on_delete=fields.CASCADE
    )
    group_id: uuid.UUID
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="group_mutes", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    muted_at = fields.DatetimeField()
    muted_until = fields.DatetimeField()
    muted_by = fields.UUIDField()
    reason = fields.CharField(max_length=500)

    class Meta:
        table = "group_mute"
        unique_together = (("group", "member"),)


class Post(Model):
    """A post, or an entry for a group's weekly authentication quiz (kind QUIZ): a member's
    item for the group to judge. `quiz_week` is the Monday of the week the quiz is open
    (one per group and week; NULL while it waits its turn), `quiz_key` the verdict its
    author declared (hidden until the reveal), `quiz_answer` the revealed verdict."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="posts", on_delete=fields.CASCADE
    )
    group_id: uuid.UUID
    author: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="posts", on_delete=fields.CASCADE
    )
    author_id: uuid.UUID
    kind = fields.CharField(max_length=10, default="POST")
    body = fields.TextField()
    image_urls: list[str] = fields.JSONField(default=list)
    like_count = fields.IntField(default=0)
    comment_count = fields.IntField(default=0)
    report_count = fields.IntField(default=0)
    state = fields.CharField(max_length=20, default="VISIBLE")
    hidden_reason = fields.CharField(max_length=500, null=True)
    points_awarded = fields.IntField(default=0)
    created_on = fields.DateField()
    created_at = fields.DatetimeField()
    quiz_question = fields.CharField(max_length=300, null=True)
    quiz_answer = fields.CharField(max_length=12, null=True)
    quiz_revealed_at = fields.DatetimeField(null=True)
    quiz_key = fields.CharField(max_length=12, null=True)
    quiz_week = fields.DateField(null=True)

    class Meta:
        table = "post"
        # created_at alone: the sentiment sweep's look at the last days' posts.
        indexes = (("group_id", "created_at"), ("author_id", "created_on"), ("created_at",))
        unique_together = (("group", "quiz_week"),)
        constraints = (
            CheckConstraint(
                check="like_count >= 0 AND comment_count >= 0 AND report_count >= 0",
                name="post_counts_not_negative",
            ),
        )


class Comment(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="comments", on_delete=fields.CASCADE
    )
    post_id: uuid.UUID
    author: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="comments", on_delete=fields.CASCADE
    )
    author_id: uuid.UUID
    body = fields.TextField()
    state = fields.CharField(max_length=20, default="VISIBLE")
    hidden_reason = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "comment"
        indexes = (("post_id", "created_at"), ("author_id", "created_at"), ("created_at",))


class PostLike(Model):
    id = fields.BigIntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="likes", on_delete=fields.CASCADE
    )
    post_id: uuid.UUID
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="post_likes", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    created_at = fields.DatetimeField()

    class Meta:
        table = "post_like"
        unique_together = (("post", "member"),)
        indexes = (("member_id", "post_id"),)


class PostReport(Model):
    id = fields.BigIntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="reports", on_delete=fields.CASCADE
    )
    post_id: uuid.UUID
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="post_reports", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    reason = fields.CharField(max_length=300)
    created_at = fields.DatetimeField()

    class Meta:
        table = "post_report"
        unique_together = (("post", "member"),)


class QuizAnswer(Model):
    id = fields.BigIntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="quiz_answers", on_delete=fields.CASCADE
    )
    post_id: uuid.UUID
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="quiz_answers", on_delete=fields.CASCADE
    )
    member_id: uuid.UUID
    answer = fields.CharField(max_length=12)
    answered_at = fields.DatetimeField()

    class Meta:
        table = "quiz_answer"
        unique_together = (("post", "member"),)


class ModerationAction(Model):
    """Every moderation decision, by a moderator or by the report threshold (staff null)."""

    id = fields.BigIntField(primary_key=True)
    staff_id = fields.UUIDField(null=True)
    target_kind = fields.CharField(max_length=10)
    target_id = fields.UUIDField()
    action = fields.CharField(max_length=20)
    reason = fields.CharField(max_length=500)
    at = fields.DatetimeField()

    class Meta:
        table = "moderation_action"
        indexes = (("target_id", "at"),)
