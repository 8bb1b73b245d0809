from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0008_tasks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Group',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=60)),
                ('name', fields.CharField(max_length=60)),
                ('description', fields.TextField(default='', unique=False)),
                ('owner', fields.ForeignKeyField('models.Member', source_field='owner_id', db_constraint=True, to_field='id', related_name='owned_groups', on_delete=OnDelete.RESTRICT)),
                ('member_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'community_group', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupMembership',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='group_memberships', on_delete=OnDelete.CASCADE)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'group_membership', 'app': 'models', 'unique_together': (('group', 'member'),), 'indexes': [Index(fields=['member_id', 'group_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModerationAction',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff_id', fields.UUIDField(null=True)),
                ('target_kind', fields.CharField(max_length=10)),
                ('target_id', fields.UUIDField()),
                ('action', fields.CharField(max_length=20)),
                ('reason', fields.CharField(max_length=500)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'moderation_action', 'app': 'models', 'indexes': [Index(fields=['target_id', 'at'])], 'pk_attr': 'id', 'table_description': 'Every moderation decision, by a moderator or by the report threshold (staff null).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Post',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.Member', source_field='author_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(default='POST', max_length=10)),
                ('body', fields.TextField(unique=False)),
                ('image_urls', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('like_count', fields.IntField(default=0)),
                ('comment_count', fields.IntField(default=0)),
                ('report_count', fields.IntField(default=0)),
                ('state', fields.CharField(default='VISIBLE', max_length=20)),
                ('hidden_reason', fields.CharField(null=True, max_length=500)),
                ('points_awarded', fields.IntField(default=0)),
                ('created_on', fields.DateField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('quiz_question', fields.CharField(null=True, max_length=300)),
                ('quiz_answer', fields.CharField(null=True, max_length=12)),
                ('quiz_revealed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'post', 'app': 'models', 'indexes': [Index(fields=['group_id', 'created_at']), Index(fields=['author_id', 'created_on'])], 'pk_attr': 'id', 'table_description': 'A post, or a weekly authentication quiz (kind QUIZ) when a group owner asks one.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Comment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.Member', source_field='author_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('body', fields.TextField(unique=False)),
                ('state', fields.CharField(default='VISIBLE', max_length=20)),
                ('hidden_reason', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'comment', 'app': 'models', 'indexes': [Index(fields=['post_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PostLike',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='likes', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='post_likes', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'post_like', 'app': 'models', 'unique_together': (('post', 'member'),), 'indexes': [Index(fields=['member_id', 'post_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PostReport',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='post_reports', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'post_report', 'app': 'models', 'unique_together': (('post', 'member'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuizAnswer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='quiz_answers', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='quiz_answers', on_delete=OnDelete.CASCADE)),
                ('answer', fields.CharField(max_length=12)),
                ('answered_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'quiz_answer', 'app': 'models', 'unique_together': (('post', 'member'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddConstraint(
            model_name='Group',
            constraint=CheckConstraint(check='member_count >= 0', name='community_group_count_not_negative'),
        ),
        ops.AddConstraint(
            model_name='Post',
            constraint=CheckConstraint(check='like_count >= 0 AND comment_count >= 0 AND report_count >= 0', name='post_counts_not_negative'),
        ),
    ]
