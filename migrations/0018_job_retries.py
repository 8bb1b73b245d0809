from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0017_outbox')]

    initial = False

    operations = [
        ops.AddField(
            model_name='JobChunk',
            name='not_before',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='JobRun',
            name='chunks_failed',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='JobRun',
            name='progressed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
