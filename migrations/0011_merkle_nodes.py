from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_provenance')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MerkleNode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('level', fields.SmallIntField()),
                ('position', fields.BigIntField()),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'merkle_node', 'app': 'models', 'unique_together': (('level', 'position'),), 'pk_attr': 'id', 'table_description': 'The hash of a perfect subtree of the log above the leaves, written by the append'},
            bases=['Model'],
        ),
    ]
