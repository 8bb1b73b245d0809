from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ActivityDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='activity_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
            ],
            options={'table': 'member_activity_day', 'app': 'models', 'unique_together': (('member', 'day'),), 'pk_attr': 'id', 'table_description': 'A business date on which the member did something while signed in.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AmlFlag',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='aml_flags', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=30)),
                ('reference', fields.CharField(max_length=128)),
                ('amount_fen', fields.BigIntField()),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'aml_flag', 'app': 'models', 'unique_together': (('member', 'kind', 'reference'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CommerceEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('event_id', fields.CharField(unique=True, max_length=128)),
                ('type', fields.CharField(max_length=40)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='commerce_events', on_delete=OnDelete.RESTRICT)),
                ('order_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('consignment_id', fields.CharField(null=True, max_length=128)),
                ('item_public_id', fields.CharField(null=True, max_length=128)),
                ('amount_fen', fields.BigIntField(null=True)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('source', fields.CharField(max_length=80)),
            ],
            options={'table': 'commerce_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EventAttendance',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='attendances', on_delete=OnDelete.CASCADE)),
                ('event_ref', fields.CharField(max_length=128)),
                ('attended_on', fields.DateField()),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'event_attendance', 'app': 'models', 'unique_together': (('member', 'event_ref'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberOrder',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.CharField(unique=True, max_length=128)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('paid_fen', fields.BigIntField()),
                ('refunded_fen', fields.BigIntField(default=0)),
                ('paid_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('paid_on', fields.DateField(db_index=True)),
            ],
            options={'table': 'member_order', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One paid order. Refunds never take more than was paid (the database checks it).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=40)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('dedupe_key', fields.CharField(null=True, max_length=128)),
            ],
            options={'table': 'notification', 'app': 'models', 'unique_together': (('member', 'dedupe_key'),), 'indexes': [Index(fields=['member_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RightUsage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='right_usages', on_delete=OnDelete.CASCADE)),
                ('right_code', fields.CharField(max_length=40)),
                ('period_start', fields.DateField()),
                ('sequence', fields.IntField()),
                ('used_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('staff_id', fields.UUIDField()),
                ('note', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'right_usage', 'app': 'models', 'unique_together': (('member', 'right_code', 'period_start', 'sequence'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TierChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='tier_changes', on_delete=OnDelete.CASCADE)),
                ('from_tier', fields.CharField(null=True, max_length=20)),
                ('to_tier', fields.CharField(max_length=20)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(max_length=20)),
                ('reference', fields.CharField(null=True, max_length=128)),
            ],
            options={'table': 'tier_change', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TierReview',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('review_date', fields.DateField(unique=True)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tier_review', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One quarterly review, identified by its date. It is complete when every member'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TierReviewResult',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('review', fields.ForeignKeyField('models.TierReview', source_field='review_id', db_constraint=True, to_field='id', related_name='results', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='review_results', on_delete=OnDelete.CASCADE)),
                ('from_tier', fields.CharField(max_length=20)),
                ('to_tier', fields.CharField(max_length=20)),
            ],
            options={'table': 'tier_review_result', 'app': 'models', 'unique_together': (('review', 'member'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Member',
            name='facts_version',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='Member',
            name='tier',
            field=fields.CharField(default='NEW', max_length=20),
        ),
        ops.AddField(
            model_name='Member',
            name='tier_since',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddConstraint(
            model_name='CommerceEvent',
            constraint=CheckConstraint(check='amount_fen IS NULL OR amount_fen > 0', name='commerce_event_amount_positive'),
        ),
        ops.AddConstraint(
            model_name='MemberOrder',
            constraint=CheckConstraint(check='refunded_fen >= 0 AND refunded_fen <= paid_fen', name='member_order_refund_within_paid'),
        ),
    ]
