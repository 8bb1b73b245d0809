from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0025_member_facts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberTag',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='manual_tags', on_delete=OnDelete.CASCADE)),
                ('tag', fields.CharField(max_length=40)),
                ('added_by', fields.UUIDField()),
                ('added_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('removed_by', fields.UUIDField(null=True)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member_tag', 'app': 'models', 'indexes': [Index(fields=['member_id', 'tag'])], 'pk_attr': 'id', 'table_description': 'A tag staff put on a member by hand, and when it was taken off: the rows say'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScoreRulesVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('rules', fields.TextField(unique=False)),
                ('note', fields.CharField(max_length=500)),
                ('created_by', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'score_rules_version', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A version of the score rules (bands, reference value, personas) set by staff.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='MemberScore',
            name='rules_version',
            field=fields.IntField(default=0),
        ),
    ]
