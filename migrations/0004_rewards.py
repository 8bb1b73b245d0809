from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0003_points_ledger')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Reward',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('description', fields.TextField(default='', unique=False)),
                ('kind', fields.CharField(max_length=30)),
                ('currency', fields.CharField(default='POINTS', max_length=10)),
                ('price', fields.BigIntField()),
                ('stock', fields.IntField()),
                ('limit_per_member', fields.IntField(null=True)),
                ('min_tier', fields.CharField(null=True, max_length=20)),
                ('active', fields.BooleanField(default=True)),
                ('active_from', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('active_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reward', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Redemption',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.RESTRICT)),
                ('reward', fields.ForeignKeyField('models.Reward', source_field='reward_id', db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
                ('points_spent', fields.BigIntField()),
                ('currency', fields.CharField(max_length=10)),
                ('status', fields.CharField(default='ACTIVE', max_length=12)),
                ('voucher_code', fields.CharField(unique=True, max_length=32)),
                ('idempotency_key', fields.CharField(max_length=128)),
                ('debit_entry_id', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'redemption', 'app': 'models', 'unique_together': (('member', 'idempotency_key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddConstraint(
            model_name='Reward',
            constraint=CheckConstraint(check='stock >= 0', name='reward_stock_not_negative'),
        ),
        ops.AddConstraint(
            model_name='Reward',
            constraint=CheckConstraint(check='price > 0', name='reward_price_positive'),
        ),
        ops.AddConstraint(
            model_name='Redemption',
            constraint=CheckConstraint(check='quantity >= 1 AND quantity <= 10', name='redemption_quantity_in_range'),
        ),
    ]
