from tortoise import migrations
from tortoise.migrations import operations as ops

# Unique keys that SQLite lost when 0003 and 0004 rebuilt the tables to add their CHECK
# constraints (tortoise's rebuild keeps columns and checks, not unique_together), by the
# names PostgreSQL gave them.
LOST_ON_SQLITE = (
    ("uid_ledger_acco_member__514367", "ledger_account", ("member_id", "currency")),
    ("uid_redemption_member__9a13b7", "redemption", ("member_id", "idempotency_key")),
)


async def restore_unique_keys(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect != "sqlite":
        return
    for name, table, columns in LOST_ON_SQLITE:
        quoted = ", ".join(f'"{column}"' for column in columns)
        await client.execute_script(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}" ON "{table}" ({quoted})'
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0013_carbon_credit_reason')]

    initial = False

    operations = [
        ops.RunPython(restore_unique_keys, ops.RunPython.noop),
    ]
