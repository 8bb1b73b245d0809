from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0002_tiers_and_commerce')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LedgerAccount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='ledger_accounts', on_delete=OnDelete.RESTRICT)),
                ('currency', fields.CharField(max_length=10)),
                ('debt', fields.BigIntField(default=0)),
            ],
            options={'table': 'ledger_account', 'app': 'models', 'unique_together': (('member', 'currency'),), 'pk_attr': 'id', 'table_description': 'One balance of a member. Its row is locked by every change to the balance.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.LedgerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT)),
                ('delta', fields.BigIntField()),
                ('reason', fields.CharField(max_length=20)),
                ('reference', fields.CharField(null=True, max_length=160)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_on', fields.DateField(null=True)),
                ('note', fields.CharField(default='', max_length=500)),
                ('staff_id', fields.UUIDField(null=True)),
            ],
            options={'table': 'ledger_entry', 'app': 'models', 'unique_together': (('account', 'reason', 'reference'),), 'indexes': [Index(fields=['account_id', 'occurred_at'])], 'pk_attr': 'id', 'table_description': 'An append-only change of a balance with its reason.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerLot',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.LedgerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('remaining', fields.BigIntField()),
                ('earned_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_on', fields.DateField(null=True)),
                ('source', fields.CharField(null=True, max_length=160)),
            ],
            options={'table': 'ledger_lot', 'app': 'models', 'indexes': [Index(fields=['account_id', 'remaining'])], 'pk_attr': 'id', 'table_description': 'What one credit left to spend, and until when.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerAllocation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.LedgerEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='allocations', on_delete=OnDelete.RESTRICT)),
                ('lot', fields.ForeignKeyField('models.LedgerLot', source_field='lot_id', db_constraint=True, to_field='id', related_name='allocations', on_delete=OnDelete.RESTRICT)),
                ('points', fields.BigIntField()),
            ],
            options={'table': 'ledger_allocation', 'app': 'models', 'pk_attr': 'id', 'table_description': 'How much of a lot an entry took (a debit) or gave back (a cancellation).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderPoints',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order_id', fields.CharField(unique=True, max_length=128)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='order_points', on_delete=OnDelete.RESTRICT)),
                ('points', fields.BigIntField()),
                ('reversed', fields.BigIntField(default=0)),
            ],
            options={'table': 'order_points', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Points an order earned and how many of them refunds took back.'},
            bases=['Model'],
        ),
        ops.AddConstraint(
            model_name='LedgerAccount',
            constraint=CheckConstraint(check='debt >= 0', name='ledger_account_debt_not_negative'),
        ),
        ops.AddConstraint(
            model_name='LedgerLot',
            constraint=CheckConstraint(check='remaining >= 0 AND remaining <= amount', name='ledger_lot_remaining_in_range'),
        ),
        ops.AddConstraint(
            model_name='LedgerAllocation',
            constraint=CheckConstraint(check='points > 0', name='ledger_allocation_positive'),
        ),
        ops.AddConstraint(
            model_name='OrderPoints',
            constraint=CheckConstraint(check='reversed >= 0 AND reversed <= points', name='order_points_reversed_in_range'),
        ),
    ]
