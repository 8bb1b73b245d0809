from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_check_in')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Badge',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='badges', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=40)),
                ('earned_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'badge', 'app': 'models', 'unique_together': (('member', 'code'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
