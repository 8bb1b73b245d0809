from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0024_member_scores')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberAffinity',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='affinities', on_delete=OnDelete.CASCADE)),
                ('dimension', fields.CharField(max_length=10)),
                ('value', fields.CharField(max_length=80)),
                ('spend_share', fields.FloatField(default=0)),
                ('favourite_share', fields.FloatField(default=0)),
            ],
            options={'table': 'member_affinity', 'app': 'models', 'unique_together': (('member_id', 'dimension', 'value'),), 'pk_attr': 'id', 'table_description': "A member's leaning to a brand or a category: its share of their spend (order"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberFact',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.OneToOneField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='facts', on_delete=OnDelete.CASCADE)),
                ('as_of', fields.DateField()),
                ('last_purchase_on', fields.DateField(null=True)),
                ('last_active_on', fields.DateField(null=True)),
                ('orders_30d', fields.IntField(default=0)),
                ('orders_90d', fields.IntField(default=0)),
                ('orders_prev_90d', fields.IntField(default=0)),
                ('orders_365d', fields.IntField(default=0)),
                ('spend_30d_fen', fields.BigIntField(default=0)),
                ('spend_90d_fen', fields.BigIntField(default=0)),
                ('spend_365d_fen', fields.BigIntField(default=0)),
                ('average_order_365d_fen', fields.BigIntField(default=0)),
                ('active_days_30d', fields.IntField(default=0)),
                ('active_days_90d', fields.IntField(default=0)),
                ('active_days_prev_90d', fields.IntField(default=0)),
                ('posts_90d', fields.IntField(default=0)),
                ('comments_90d', fields.IntField(default=0)),
                ('likes_90d', fields.IntField(default=0)),
                ('groups', fields.IntField(default=0)),
                ('favourites_90d', fields.IntField(default=0)),
                ('views_30d', fields.IntField(default=0)),
                ('views_90d', fields.IntField(default=0)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member_fact', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What is known of one member as of a business date: the inputs of the scores, the'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['author_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='MemberOrder',
            index=Index(fields=['member_id', 'paid_on']),
        ),
    ]
