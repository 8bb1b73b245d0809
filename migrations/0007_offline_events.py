from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0006_badges')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OfflineEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=120)),
                ('city', fields.CharField(max_length=60)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('seats', fields.IntField()),
                ('seats_taken', fields.IntField(default=0)),
                ('min_tier', fields.CharField(null=True, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'offline_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A salon or masterclass with a fixed number of seats.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EventSignup',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('models.OfflineEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='signups', on_delete=OnDelete.RESTRICT)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='event_signups', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(default='ACTIVE', max_length=12)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'event_signup', 'app': 'models', 'unique_together': (('event', 'member'),), 'pk_attr': 'id', 'table_description': "A member's seat at an event: one per member and event."},
            bases=['Model'],
        ),
        ops.AddConstraint(
            model_name='OfflineEvent',
            constraint=CheckConstraint(check='seats_taken >= 0 AND seats_taken <= seats', name='offline_event_seats'),
        ),
    ]
