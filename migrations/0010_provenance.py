from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_community')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Checkpoint',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('size', fields.BigIntField(unique=True)),
                ('root_hash', fields.CharField(max_length=64)),
                ('note', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'log_checkpoint', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Item',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('public_id', fields.CharField(unique=True, max_length=32)),
                ('brand', fields.CharField(max_length=80)),
                ('model', fields.CharField(max_length=120)),
                ('category', fields.CharField(max_length=40)),
                ('photos', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('gtin', fields.CharField(null=True, max_length=14)),
                ('serial_encrypted', fields.TextField(null=True, unique=False)),
                ('owner', fields.ForeignKeyField('models.Member', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(default='REGISTERED', max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'item', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CustodyEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('leaf_index', fields.BigIntField(unique=True)),
                ('item', fields.ForeignKeyField('models.Item', source_field='item_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=20)),
                ('item_seq', fields.IntField()),
                ('previous_leaf', fields.BigIntField(null=True)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('place', fields.CharField(null=True, max_length=60)),
                ('actor', fields.CharField(max_length=40)),
                ('biz_step', fields.CharField(max_length=40)),
                ('disposition', fields.CharField(max_length=40)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('leaf_hash', fields.CharField(max_length=64)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'custody_event', 'app': 'models', 'indexes': [Index(fields=['item_id', 'leaf_index'])], 'pk_attr': 'id', 'table_description': 'A leaf of the log. Append-only: nothing updates or deletes these rows, and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LogHead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('size', fields.BigIntField(default=0)),
                ('frontier', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'log_head', 'app': 'models', 'pk_attr': 'id', 'table_description': "The log's size and the roots of its perfect subtrees, locked for each append."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Scan',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('item', fields.ForeignKeyField('models.Item', source_field='item_id', db_constraint=True, to_field='id', related_name='scans', on_delete=OnDelete.CASCADE)),
                ('city', fields.CharField(null=True, max_length=60)),
                ('network', fields.CharField(null=True, max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'item_scan', 'app': 'models', 'indexes': [Index(fields=['item_id', 'at'])], 'pk_attr': 'id', 'table_description': "A scan of an item's code: a coarse place only, never who scanned."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TransferCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('item', fields.ForeignKeyField('models.Item', source_field='item_id', db_constraint=True, to_field='id', related_name='transfer_codes', on_delete=OnDelete.CASCADE)),
                ('from_member_id', fields.UUIDField()),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('used_by_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'transfer_code', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
