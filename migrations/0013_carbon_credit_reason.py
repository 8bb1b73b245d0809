from tortoise import migrations
from tortoise.migrations import operations as ops


async def name_carbon_credits(apps, schema_editor):
    """Carbon credits used to be written with the purchase reason SPEND: give every
    such entry its real cause. An entry whose cause was already credited under the
    new reason (a replay after the rename) keeps its old reason, so nothing moves."""
    await schema_editor.client.execute_script(
        "UPDATE ledger_entry SET reason = 'CARBON_CREDIT'"
        " WHERE reason = 'SPEND' AND delta > 0"
        " AND account_id IN (SELECT id FROM ledger_account WHERE currency = 'CARBON')"
        " AND NOT EXISTS (SELECT 1 FROM ledger_entry AS later"
        " WHERE later.account_id = ledger_entry.account_id"
        " AND later.reason = 'CARBON_CREDIT' AND later.reference = ledger_entry.reference)"
    )


async def name_carbon_spend(apps, schema_editor):
    await schema_editor.client.execute_script(
        "UPDATE ledger_entry SET reason = 'SPEND' WHERE reason = 'CARBON_CREDIT'"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0012_weekly_quiz')]

    initial = False

    operations = [
        ops.RunPython(name_carbon_credits, name_carbon_spend),
    ]
