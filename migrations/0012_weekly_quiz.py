from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint
import uuid
from datetime import date, timedelta


async def open_existing_quizzes(apps, schema_editor):
    """Quizzes asked before weeks existed stay open: the first of each group and week
    takes that week; any later one of the same week waits for a week of its own."""
    client = schema_editor.client
    rows = await client.execute_query_dict(
        "SELECT id, group_id, created_on FROM post WHERE kind = 'QUIZ' ORDER BY created_at, id"
    )
    taken = set()
    for row in rows:
        day = date.fromisoformat(str(row["created_on"])[:10])
        week = day - timedelta(days=day.weekday())
        if (str(row["group_id"]), week) in taken:
            continue
        taken.add((str(row["group_id"]), week))
        post_id = uuid.UUID(str(row["id"]))
        await client.execute_script(
            f"UPDATE post SET quiz_week = '{week.isoformat()}' WHERE id = '{post_id}'"
        )

class Migration(migrations.Migration):
    dependencies = [('models', '0011_merkle_nodes')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='Post',
            options={'table': 'post', 'app': 'models', 'unique_together': (('group', 'quiz_week'),), 'constraints': [CheckConstraint(check='like_count >= 0 AND comment_count >= 0 AND report_count >= 0', name='post_counts_not_negative')], 'indexes': [Index(fields=['group_id', 'created_at']), Index(fields=['author_id', 'created_on'])], 'pk_attr': 'id', 'table_description': "A post, or an entry for a group's weekly authentication quiz (kind QUIZ): a member's"},
        ),
        ops.AddField(
            model_name='Post',
            name='quiz_key',
            field=fields.CharField(null=True, max_length=12),
        ),
        ops.AddField(
            model_name='Post',
            name='quiz_week',
            field=fields.DateField(null=True),
        ),
        ops.RunPython(open_existing_quizzes, ops.RunPython.noop),
        ops.AddConstraint(
            model_name='Post',
            constraint=UniqueConstraint(fields=('group', 'quiz_week'), name=None),
        ),
    ]
