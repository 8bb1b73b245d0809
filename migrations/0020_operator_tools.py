from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0019_care_notes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AmlFlagNote',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('flag', fields.ForeignKeyField('models.AmlFlag', source_field='flag_id', db_constraint=True, to_field='id', related_name='notes', on_delete=OnDelete.RESTRICT)),
                ('staff_id', fields.UUIDField()),
                ('staff_username', fields.CharField(max_length=64)),
                ('from_state', fields.CharField(max_length=12)),
                ('to_state', fields.CharField(max_length=12)),
                ('note', fields.TextField(unique=False)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'aml_flag_note', 'app': 'models', 'indexes': [Index(fields=['flag_id', 'at'])], 'pk_attr': 'id', 'table_description': 'One change of a flag state, with the note staff wrote and who wrote it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupMute',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='mutes', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='group_mutes', on_delete=OnDelete.CASCADE)),
                ('muted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('muted_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('muted_by', fields.UUIDField()),
                ('reason', fields.CharField(max_length=500)),
            ],
            options={'table': 'group_mute', 'app': 'models', 'unique_together': (('group', 'member'),), 'pk_attr': 'id', 'table_description': 'A member muted in a group by staff until `muted_until`: no posts or comments there'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AmlFlag',
            name='state',
            field=fields.CharField(default='OPEN', db_index=True, max_length=12),
        ),
        ops.AddField(
            model_name='OfflineEvent',
            name='cancel_reason',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='OfflineEvent',
            name='cancelled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OfflineEvent',
            name='cancelled_by',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='OfflineEvent',
            name='description',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='TierChange',
            name='note',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
