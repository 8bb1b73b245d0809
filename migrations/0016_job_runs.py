from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0015_rights_used_by_events')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JobRun',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job', fields.CharField(max_length=40)),
                ('as_of', fields.DateField()),
                ('status', fields.CharField(default='RUNNING', max_length=10)),
                ('chunks_total', fields.IntField(default=0)),
                ('chunks_done', fields.IntField(default=0)),
                ('processed', fields.BigIntField(default=0)),
                ('changed', fields.BigIntField(default=0)),
                ('errors', fields.IntField(default=0)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('triggers', fields.IntField(default=0)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_run', 'app': 'models', 'unique_together': (('job', 'as_of'),), 'pk_attr': 'id', 'table_description': 'One job as of one business date: the progress of its chunks, whoever started it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JobChunk',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run', fields.ForeignKeyField('models.JobRun', source_field='run_id', db_constraint=True, to_field='id', related_name='chunks', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('low', fields.CharField(max_length=36)),
                ('high', fields.CharField(max_length=36)),
                ('status', fields.CharField(default='PENDING', max_length=10)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('processed', fields.IntField(default=0)),
                ('changed', fields.IntField(default=0)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_chunk', 'app': 'models', 'unique_together': (('run', 'position'),), 'pk_attr': 'id', 'table_description': 'A slice of a run over an id range, done once however often it is delivered.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScheduleClaim',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('schedule_id', fields.CharField(max_length=60)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(max_length=120)),
                ('claimed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'schedule_claim', 'app': 'models', 'unique_together': (('schedule_id', 'due_at'),), 'pk_attr': 'id', 'table_description': 'The scheduler replica that fires a schedule at a due time: the first to insert.'},
            bases=['Model'],
        ),
    ]
