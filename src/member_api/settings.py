"""One typed settings object, read from the environment in one place."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from member_api.community.domain import CommunityRules
from member_api.points.domain import PointsRules
from member_api.provenance.domain import CloneRules
from member_api.tasks.domain import TaskRules
from member_api.tiers.rules import TierRules

Environment = Literal["development", "production"]

# Deterministic keys for development and tests only; production refuses them.
_DEV_SIGNING_SEED = hashlib.sha256(b"member-api development signing key").digest()
_DEV_DATA_KEY = hashlib.sha256(b"member-api development data key").digest()
_DEV_LOG_SEED = hashlib.sha256(b"member-api development provenance log key").digest()


class SettingsError(ValueError):
    """The environment describes a configuration the service must not run with."""


def development_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_DEV_SIGNING_SEED)


def development_log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_DEV_LOG_SEED)


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _load_signing_key(pem: str | None, name: str = "JWT_PRIVATE_KEY") -> Ed25519PrivateKey | None:
    if not pem:
        return None
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as exc:
        raise SettingsError(f"{name} is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{name} must be an Ed25519 key")
    return key


def _load_data_key(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise SettingsError("DATA_KEY must be base64") from exc
    if len(raw) != 32:
        raise SettingsError("DATA_KEY must decode to 32 bytes")
    return raw


def _tier_rules(path: str | None) -> TierRules:
    try:
        return TierRules.from_file(path)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"TIER_RULES_FILE: {exc}") from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {value!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {value!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _default_clients_dir() -> str:
    """The clients' operations beside the project (as `make run` finds them), if there."""
    candidate = Path("../shared/clients")
    return str(candidate) if candidate.is_dir() else ""


def _words(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list; unset keeps the default, empty means none."""
    if value is None:
        return default
    return tuple(word.strip() for word in value.split(",") if word.strip())


@dataclass(frozen=True)
class Settings:
    environment: Environment = "development"
    database_url: str = "sqlite://var/member-api.sqlite3"
    cache_url: str = "memory://"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    signing_key: Ed25519PrivateKey = field(default_factory=development_signing_key, repr=False)
    signing_key_id: str = ""
    data_key: bytes = field(default=_DEV_DATA_KEY, repr=False)
    jwt_issuer: str = "member-api"
    member_audience: str = "member-api:member"
    staff_audience: str = "member-api:staff"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    # Argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    password_hash_memory_kib: int = 65536
    password_hash_time_cost: int = 3

    login_max_failures_per_phone: int = 5
    login_max_failures_per_address: int = 20
    login_failure_window_seconds: int = 900

    miniprogram_base_url: str = "https://api.weixin.qq.com"
    miniprogram_app_id: str = "dev-app-id"
    miniprogram_app_secret: str = field(default="dev-app-secret", repr=False)
    miniprogram_timeout_seconds: float = 5.0

    graphiql: bool = True
    introspection: bool = True
    max_body_bytes: int = 64 * 1024
    persisted_queries_dir: str = ""
    persisted_queries_only: bool = False
    requests_per_member: int = 600
    requests_per_address: int = 1200
    request_window_seconds: int = 60
    metrics_token: str = field(default="", repr=False)
    # Where the public provenance pages live (printed in QR codes and share links).
    public_base_url: str = "http://127.0.0.1:8000"
    # The transparency log of item histories: its name (the checkpoints' origin line)
    # and its own Ed25519 key.
    provenance_log_name: str = ""
    provenance_signing_key: Ed25519PrivateKey = field(
        default_factory=development_log_key, repr=False
    )
    clone_rules: CloneRules = field(default_factory=CloneRules)

    commerce_webhook_secret: str = field(default="dev-commerce-secret", repr=False)
    tier_rules: TierRules = field(default_factory=TierRules)
    points_rules: PointsRules = field(default_factory=PointsRules)
    task_rules: TaskRules = field(default_factory=TaskRules)
    community_rules: CommunityRules = field(default_factory=CommunityRules)
    carbon_credits_per_consignment: int = 10
    aml_single_order_above_fen: int = 5_000_000
    aml_monthly_total_above_fen: int = 20_000_000

    def __post_init__(self) -> None:
        if not self.signing_key_id:
            digest = hashlib.sha256(_raw_public(self.signing_key)).digest()
            kid = base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")
            object.__setattr__(self, "signing_key_id", kid)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def uses_development_signing_key(self) -> bool:
        return _raw_public(self.signing_key) == _raw_public(development_signing_key())

    @property
    def provenance_origin(self) -> str:
        if self.provenance_log_name:
            return self.provenance_log_name
        host = urlsplit(self.public_base_url).netloc or "localhost"
        return f"{host}/provenance"

    @property
    def uses_development_log_key(self) -> bool:
        return _raw_public(self.provenance_signing_key) == _raw_public(development_log_key())

    @property
    def uses_development_data_key(self) -> bool:
        return self.data_key == _DEV_DATA_KEY

    def check_safe_for_environment(self) -> None:
        """Refuse to run in production with development secrets."""
        if not self.is_production:
            return
        if self.uses_development_signing_key:
            raise SettingsError(
                "production needs JWT_PRIVATE_KEY (an Ed25519 PEM key); "
                "the development signing key is refused"
            )
        if self.uses_development_data_key:
            raise SettingsError(
                "production needs DATA_KEY (32 random bytes, base64); "
                "the development data key is refused"
            )
        if self.commerce_webhook_secret == "dev-commerce-secret":
            raise SettingsError("production needs its own COMMERCE_WEBHOOK_SECRET")
        if self.miniprogram_app_secret == "dev-app-secret":
            raise SettingsError("production needs MINIPROGRAM_APP_SECRET")
        if self.uses_development_log_key:
            raise SettingsError(
                "production needs PROVENANCE_PRIVATE_KEY (an Ed25519 PEM key for the log)"
            )
        if not self.public_base_url.startswith("https://"):
            raise SettingsError("production needs PUBLIC_BASE_URL starting with https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        environment = env.get("ENVIRONMENT", "development").strip().lower()
        if environment not in ("development", "production"):
            raise SettingsError(
                f"ENVIRONMENT must be 'development' or 'production', got {environment!r}"
            )
        kwargs: dict[str, object] = {}
        signing_key = _load_signing_key(env.get("JWT_PRIVATE_KEY"))
        if signing_key is not None:
            kwargs["signing_key"] = signing_key
        log_key = _load_signing_key(env.get("PROVENANCE_PRIVATE_KEY"), "PROVENANCE_PRIVATE_KEY")
        if log_key is not None:
            kwargs["provenance_signing_key"] = log_key
        data_key = _load_data_key(env.get("DATA_KEY"))
        if data_key is not None:
            kwargs["data_key"] = data_key
        production = environment == "production"
        settings = cls(
            environment=environment,  # type: ignore[arg-type]
            database_url=env.get("DATABASE_URL", cls.database_url),
            cache_url=env.get("CACHE_URL", cls.cache_url),
            host=env.get("HOST", cls.host),
            port=_int(env, "PORT", cls.port),
            log_level=env.get("LOG_LEVEL", cls.log_level).upper(),
            signing_key_id=env.get("JWT_KEY_ID", ""),
            jwt_issuer=env.get("JWT_ISSUER", cls.jwt_issuer),
            access_token_ttl_seconds=_int(env, "ACCESS_TOKEN_TTL_SECONDS", 900),
            refresh_token_ttl_seconds=_int(env, "REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600),
            password_hash_memory_kib=_int(env, "PASSWORD_HASH_MEMORY_KIB", 65536),
            password_hash_time_cost=_int(env, "PASSWORD_HASH_TIME_COST", 3),
            login_max_failures_per_phone=_int(env, "LOGIN_MAX_FAILURES_PER_PHONE", 5),
            login_max_failures_per_address=_int(env, "LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
            login_failure_window_seconds=_int(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900),
            miniprogram_base_url=env.get("MINIPROGRAM_BASE_URL", cls.miniprogram_base_url),
            miniprogram_app_id=env.get("MINIPROGRAM_APP_ID", cls.miniprogram_app_id),
            miniprogram_app_secret=env.get("MINIPROGRAM_APP_SECRET", "dev-app-secret"),
            miniprogram_timeout_seconds=_float(env, "MINIPROGRAM_TIMEOUT_SECONDS", 5.0),
            graphiql=_bool(env, "GRAPHIQL", not production),
            introspection=_bool(env, "GRAPHQL_INTROSPECTION", not production),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024),
            persisted_queries_dir=env.get("PERSISTED_QUERIES_DIR", _default_clients_dir()),
            persisted_queries_only=_bool(env, "PERSISTED_QUERIES_ONLY", False),
            requests_per_member=_int(env, "REQUESTS_PER_MEMBER", 600),
            requests_per_address=_int(env, "REQUESTS_PER_ADDRESS", 1200),
            request_window_seconds=_int(env, "REQUEST_WINDOW_SECONDS", 60),
            metrics_token=env.get("METRICS_TOKEN", ""),
            public_base_url=env.get("PUBLIC_BASE_URL", cls.public_base_url).rstrip("/"),
            provenance_log_name=env.get("PROVENANCE_LOG_NAME", ""),
            clone_rules=CloneRules(
                max_places_per_day=_int(env, "CLONE_MAX_PLACES_PER_DAY", 3),
                max_speed_kmh=_float(env, "CLONE_MAX_SPEED_KMH", 800.0),
            ),
            commerce_webhook_secret=env.get(
                "COMMERCE_WEBHOOK_SECRET", "" if production else "dev-commerce-secret"
            ),
            tier_rules=_tier_rules(env.get("TIER_RULES_FILE")),
            points_rules=PointsRules(
                points_per_yuan=_int(env, "POINTS_PER_YUAN", 1),
                expiry_months=_int(env, "POINTS_EXPIRY_MONTHS", 36),
            ),
            task_rules=TaskRules(
                new_member_days=_int(env, "NEW_MEMBER_TASK_DAYS", 7),
                new_member_interactions=_int(env, "NEW_MEMBER_TASK_INTERACTIONS", 3),
                welcome_points=_int(env, "WELCOME_POINTS", 100),
            ),
            community_rules=CommunityRules(
                report_threshold=_int(env, "REPORT_THRESHOLD", 5),
                rewarded_posts_per_day=_int(env, "REWARDED_POSTS_PER_DAY", 3),
                posts_per_window=_int(env, "POSTS_PER_WINDOW", 5),
                comments_per_window=_int(env, "COMMENTS_PER_WINDOW", 20),
                rate_window_seconds=_int(env, "RATE_WINDOW_SECONDS", 600),
                banned_words=_words(env.get("BANNED_WORDS"), CommunityRules.banned_words),
            ),
            carbon_credits_per_consignment=_int(env, "CARBON_CREDITS_PER_CONSIGNMENT", 10),
            aml_single_order_above_fen=_int(env, "AML_SINGLE_ORDER_ABOVE_FEN", 5_000_000),
            aml_monthly_total_above_fen=_int(env, "AML_MONTHLY_TOTAL_ABOVE_FEN", 20_000_000),
            **kwargs,  # type: ignore[arg-type]
        )
        return settings
