from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Member',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('display_name', fields.CharField(max_length=40)),
                ('avatar_url', fields.CharField(null=True, max_length=500)),
                ('phone_encrypted', fields.TextField(null=True, unique=False)),
                ('phone_index', fields.CharField(null=True, unique=True, max_length=64)),
                ('phone_masked', fields.CharField(null=True, max_length=20)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('miniprogram_openid', fields.CharField(null=True, unique=True, max_length=128)),
                ('miniprogram_unionid', fields.CharField(null=True, db_index=True, max_length=128)),
                ('referral_code', fields.CharField(unique=True, max_length=16)),
                ('referred_by', fields.ForeignKeyField('models.Member', source_field='referred_by_id', null=True, db_constraint=True, to_field='id', related_name='referees', on_delete=OnDelete.SET_NULL)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('family_id', fields.UUIDField(db_index=True)),
                ('subject_kind', fields.CharField(max_length=10)),
                ('subject_id', fields.UUIDField(db_index=True)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refresh_token', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffUser',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('password_hash', fields.CharField(max_length=255)),
                ('roles', fields.CharField(max_length=200)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_user', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
