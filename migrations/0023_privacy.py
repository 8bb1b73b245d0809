from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0022_order_lines_and_interactions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccountDeletion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='account_deletions', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(default='PENDING', max_length=10)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('requested_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('erases_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('erased_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account_deletion', 'app': 'models', 'indexes': [Index(fields=['member_id', 'requested_at'])], 'pk_attr': 'id', 'table_description': 'A request to delete the account: pending until erased, or cancelled.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='consent_records', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharField(max_length=20)),
                ('granted', fields.BooleanField()),
                ('policy_version', fields.CharField(max_length=20)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'consent_record', 'app': 'models', 'indexes': [Index(fields=['member_id', 'purpose', 'id'])], 'pk_attr': 'id', 'table_description': 'One grant or withdrawal of a purpose. The latest row per purpose is the state.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DataExport',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='data_exports', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(default='PENDING', max_length=12)),
                ('requested_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ready_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('downloaded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('content', fields.TextField(null=True, unique=False)),
                ('error', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'data_export', 'app': 'models', 'indexes': [Index(fields=['member_id', 'requested_at'])], 'pk_attr': 'id', 'table_description': 'A file of everything held about a member, built in the background, served once.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Member',
            name='birthday_day',
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name='Member',
            name='birthday_month',
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name='Member',
            name='erased_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Member',
            name='erasure_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='device',
            field=fields.CharField(null=True, max_length=200),
        ),
    ]
