from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


async def keep_the_unique_use_slots(apps, schema_editor):
    """On SQLite, AlterField rebuilds the table without its unique_together key; put the
    key that makes a use beyond a right's limit impossible back (PostgreSQL kept it)."""
    client = schema_editor.client
    if client.capabilities.dialect != "sqlite":
        return
    await client.execute_script(
        'CREATE UNIQUE INDEX IF NOT EXISTS "uid_right_usage_member__586fcb"'
        ' ON "right_usage" ("member_id", "right_code", "period_start", "sequence")'
    )


async def first_authentications_used(apps, schema_editor):
    """Members authenticated before the right existed have had their first authentication:
    its once-ever use is recorded from their earliest `authentication.completed` event."""
    client = schema_editor.client
    # The once-ever period starts on date.min, which asyncpg writes as -infinity.
    start = "-infinity" if client.capabilities.dialect == "postgres" else "0001-01-01"
    await client.execute_script(
        "INSERT INTO right_usage"
        " (member_id, right_code, period_start, sequence, used_at, staff_id, note)"
        f" SELECT e.member_id, 'FIRST_AUTHENTICATION_FREE', '{start}', 1, e.occurred_at,"
        " NULL, 'event ' || e.event_id"
        " FROM commerce_event e"
        " WHERE e.type = 'authentication.completed' AND NOT EXISTS ("
        "  SELECT 1 FROM commerce_event f"
        "  WHERE f.member_id = e.member_id AND f.type = e.type"
        "  AND (f.occurred_at < e.occurred_at OR (f.occurred_at = e.occurred_at AND f.id < e.id))"
        " ) AND NOT EXISTS ("
        "  SELECT 1 FROM right_usage u"
        "  WHERE u.member_id = e.member_id AND u.right_code = 'FIRST_AUTHENTICATION_FREE'"
        " )"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0014_sqlite_unique_keys')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='RightUsage',
            name='staff_id',
            field=fields.UUIDField(null=True),
        ),
        ops.RunPython(keep_the_unique_use_slots, ops.RunPython.noop),
        ops.RunPython(first_authentications_used, ops.RunPython.noop),
    ]
