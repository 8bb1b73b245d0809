from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0021_audit_and_staff')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ItemInteraction',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('models.CommerceEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='interactions', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='item_interactions', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=12)),
                ('item_id', fields.CharField(max_length=128)),
                ('brand', fields.CharField(max_length=80)),
                ('category', fields.CharField(max_length=80)),
                ('count', fields.IntField()),
                ('day', fields.DateField()),
            ],
            options={'table': 'item_interaction', 'app': 'models', 'constraints': [CheckConstraint(check='count > 0', name='item_interaction_count_positive')], 'indexes': [Index(fields=['member_id', 'day'])], 'pk_attr': 'id', 'table_description': 'A favourite, or a day of views of one item, by one member (one per event).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderLine',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.MemberOrder', source_field='order_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('brand', fields.CharField(max_length=80)),
                ('category', fields.CharField(max_length=80)),
                ('amount_fen', fields.BigIntField()),
            ],
            options={'table': 'order_line', 'app': 'models', 'constraints': [CheckConstraint(check='amount_fen > 0', name='order_line_amount_positive')], 'pk_attr': 'id', 'table_description': 'What a paid order held, by brand and category, as the shop reported it.'},
            bases=['Model'],
        ),
        ops.AddConstraint(
            model_name='ItemInteraction',
            constraint=CheckConstraint(check='count > 0', name='item_interaction_count_positive'),
        ),
        ops.AddConstraint(
            model_name='OrderLine',
            constraint=CheckConstraint(check='amount_fen > 0', name='order_line_amount_positive'),
        ),
    ]
