from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0028_recommendations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Segment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=60)),
                ('version', fields.IntField(default=1)),
                ('created_by', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'segment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A named group of members defined by a filter (intelligence/segments.py). Each'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SegmentVersion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('segment', fields.ForeignKeyField('models.Segment', source_field='segment_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('tree', fields.TextField(unique=False)),
                ('created_by', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'segment_version', 'app': 'models', 'unique_together': (('segment_id', 'version'),), 'pk_attr': 'id', 'table_description': "One version of a segment's filter, kept as it was saved."},
            bases=['Model'],
        ),
    ]
