from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0027_sentiment')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ItemSimilarity',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField()),
                ('source_kind', fields.CharField(max_length=10)),
                ('source_id', fields.CharField(max_length=128)),
                ('target_kind', fields.CharField(max_length=10)),
                ('target_id', fields.UUIDField()),
                ('similarity', fields.FloatField()),
                ('together', fields.IntField()),
            ],
            options={'table': 'item_similarity', 'app': 'models', 'indexes': [Index(fields=['day', 'source_kind', 'source_id'])], 'pk_attr': 'id', 'table_description': 'A target most similar to a source item (members who have both), as computed once'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberRecommendation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='recommendations', on_delete=OnDelete.CASCADE)),
                ('rank', fields.SmallIntField()),
                ('target_kind', fields.CharField(max_length=10)),
                ('target_id', fields.UUIDField()),
                ('score', fields.FloatField()),
                ('reason', fields.CharField(max_length=300)),
                ('day', fields.DateField()),
            ],
            options={'table': 'member_recommendation', 'app': 'models', 'unique_together': (('member_id', 'rank'),), 'pk_attr': 'id', 'table_description': "One of a member's recommendations, best first by rank (the nightly job)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PopularItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tier', fields.CharField(max_length=20)),
                ('rank', fields.SmallIntField()),
                ('target_kind', fields.CharField(max_length=10)),
                ('target_id', fields.UUIDField()),
                ('members', fields.IntField()),
                ('day', fields.DateField()),
            ],
            options={'table': 'popular_item', 'app': 'models', 'unique_together': (('tier', 'rank'),), 'pk_attr': 'id', 'table_description': 'The items most members of a tier have, best first: for newcomers, to fill up, and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RecommendationModel',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField(unique=True)),
                ('token', fields.UUIDField(default=uuid4)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('items', fields.IntField()),
                ('pairs', fields.IntField()),
            ],
            options={'table': 'recommendation_model', 'app': 'models', 'pk_attr': 'id', 'table_description': "Marks that the similarities and popular lists of a run's day are stored: the first"},
            bases=['Model'],
        ),
    ]
