from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0023_privacy')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MemberScore',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('r', fields.SmallIntField()),
                ('f', fields.SmallIntField()),
                ('m', fields.SmallIntField()),
                ('tags', fields.CharField(default='[]', max_length=200)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member_score', 'app': 'models', 'unique_together': (('member_id', 'day'),), 'pk_attr': 'id', 'table_description': 'The RFM scores and tags of one member as of one business date (the nightly job).'},
            bases=['Model'],
        ),
    ]
