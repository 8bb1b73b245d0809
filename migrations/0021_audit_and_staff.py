from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

POSTGRES_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""

SQLITE_APPEND_ONLY = """
CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: DELETE refused'); END;
"""


async def refuse_updates_and_deletes(apps, schema_editor):
    """The audit log is append-only, in the database too: a trigger refuses UPDATE and
    DELETE, whoever asks (the table owner included)."""
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(POSTGRES_APPEND_ONLY)
    elif client.capabilities.dialect == "sqlite":
        await client.execute_script(SQLITE_APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [('models', '0020_operator_tools')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('staff_id', fields.UUIDField(null=True, db_index=True)),
                ('staff_username', fields.CharField(default='', max_length=64)),
                ('roles', fields.CharField(default='', max_length=200)),
                ('kind', fields.CharField(description='MUTATION or READ', max_length=10)),
                ('action', fields.CharField(db_index=True, max_length=100)),
                ('target_kind', fields.CharField(default='', max_length=40)),
                ('target_id', fields.CharField(default='', max_length=100)),
                ('member_id', fields.UUIDField(null=True, db_index=True)),
                ('request_id', fields.CharField(default='', max_length=100)),
                ('client_address', fields.CharField(default='', max_length=100)),
                ('outcome', fields.CharField(description='OK or the error code', max_length=64)),
                ('diff', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'audit_entry', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only. In PostgreSQL and SQLite a trigger refuses UPDATE and DELETE.'},
            bases=['Model'],
        ),
        ops.RunPython(refuse_updates_and_deletes, ops.RunPython.noop),
    ]
