from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0026_tags_and_score_rules')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CareAlert',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='care_alerts', on_delete=OnDelete.CASCADE)),
                ('source_kind', fields.CharField(max_length=10)),
                ('source_id', fields.UUIDField()),
                ('matched', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharField(default='OPEN', max_length=10)),
                ('posted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'care_alert', 'app': 'models', 'unique_together': (('source_kind', 'source_id'),), 'indexes': [Index(fields=['status', 'created_at']), Index(fields=['member_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A negative remark about the service, for customer care to follow up: one per post'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContentSentiment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('source_kind', fields.CharField(max_length=10)),
                ('source_id', fields.UUIDField()),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='content_sentiments', on_delete=OnDelete.CASCADE)),
                ('negative', fields.BooleanField()),
                ('matched', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('posted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('classified_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'content_sentiment', 'app': 'models', 'unique_together': (('source_kind', 'source_id'),), 'indexes': [Index(fields=['member_id', 'negative']), Index(fields=['posted_at'])], 'pk_attr': 'id', 'table_description': 'The verdict on one post or comment, once: negative about the service or not, and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SentimentPhrase',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=12)),
                ('phrase', fields.CharField(max_length=12)),
                ('active', fields.BooleanField()),
                ('changed_by', fields.UUIDField(null=True)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sentiment_phrase', 'app': 'models', 'unique_together': (('kind', 'phrase'),), 'pk_attr': 'id', 'table_description': "An operator's change to the sentiment phrases: a phrase added to its kind (active),"},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['created_at']),
        ),
        ops.AddIndex(
            model_name='Post',
            index=Index(fields=['created_at']),
        ),
    ]
