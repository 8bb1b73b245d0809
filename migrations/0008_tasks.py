from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_offline_events')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Coupon',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='coupons', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=30)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('source', fields.CharField(max_length=80)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'coupon', 'app': 'models', 'unique_together': (('member', 'source'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberAction',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='actions', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=30)),
                ('reference', fields.CharField(max_length=160)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member_action', 'app': 'models', 'unique_together': (('member', 'action', 'reference'),), 'indexes': [Index(fields=['member_id', 'at'])], 'pk_attr': 'id', 'table_description': 'One thing a member did, once per (action, reference): a replay adds nothing.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TaskCompletion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='task_completions', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=40)),
                ('completed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('points', fields.IntField()),
            ],
            options={'table': 'task_completion', 'app': 'models', 'unique_together': (('member', 'code'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
