"""One typed settings object, read from the environment in one place."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from member_api.badges.domain import BadgeRules
from member_api.community.domain import CommunityRules
from member_api.intelligence.domain import ScoreRules
from member_api.points.domain import PointsRules
from member_api.provenance.domain import CloneRules
from member_api.rights.domain import RightsRules
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
    # An env file holds one line per variable: accept the PEM's newlines written as \n.
    pem = pem.strip().replace("\\n", "\n")
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


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {value!r}") from exc


def _at_least(env: Mapping[str, str], name: str, default: int, least: int) -> int:
    value = _int(env, name, default)
    if value < least:
        raise SettingsError(f"{name} must be at least {least}, got {value}")
    return value


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


DEFAULT_SCHEDULES = {
    "expire-points": "5 0 * * *",
    "downgrade-warnings": "15 0 * * *",
    "tier-review": "30 0 1 1,4,7,10 *",
    "weekly-quiz": "10 0 * * 1",
    "erase-accounts": "20 0 * * *",
    "member-scores": "40 1 * * *",
    "recommendations": "50 1 * * *",
}


def _schedules(value: str | None) -> tuple[tuple[str, str], ...]:
    """JOB_SCHEDULES: JSON of job name to cron line, over the defaults ("" switches off)."""
    schedules = dict(DEFAULT_SCHEDULES)
    if value:
        try:
            given = json.loads(value)
        except ValueError as exc:
            raise SettingsError("JOB_SCHEDULES must be JSON: {job: cron line}") from exc
        if not isinstance(given, dict):
            raise SettingsError("JOB_SCHEDULES must be a JSON object: {job: cron line}")
        for job, line in given.items():
            if job not in DEFAULT_SCHEDULES:
                raise SettingsError(
                    f"JOB_SCHEDULES: no job {job!r} (jobs: {', '.join(DEFAULT_SCHEDULES)})"
                )
            if not isinstance(line, str) or (line and len(line.split()) != 5):
                raise SettingsError(f"JOB_SCHEDULES: {job}'s cron line needs five fields")
            schedules[job] = line
    return tuple((job, line) for job, line in schedules.items() if line)


def _policy_version(value: str | None) -> str:
    """PRIVACY_POLICY_VERSION: a short label of the policy text in force, e.g. 2026-01."""
    version = (value or "2026-01").strip()
    if not version or len(version) > 20 or not version.isprintable():
        raise SettingsError("PRIVACY_POLICY_VERSION must be 1-20 printable characters")
    return version


def _proxies(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """TRUSTED_PROXIES: addresses or networks (comma-separated), or "*" for any."""
    proxies = _words(value, default)
    for proxy in proxies:
        if proxy == "*":
            continue
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise SettingsError(
                f"TRUSTED_PROXIES: {proxy!r} is not an address or a network"
            ) from exc
    return proxies


def _words(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list; unset keeps the default, empty means none."""
    if value is None:
        return default
    return tuple(word.strip() for word in value.split(",") if word.strip())


# The sections of RULES_FILE: each holds one area's rules and fills one Settings field.
RULE_SECTIONS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "tiers": ("tier_rules", TierRules.from_mapping),
    "points": ("points_rules", PointsRules.from_mapping),
    "tasks": ("task_rules", TaskRules.from_mapping),
    "community": ("community_rules", CommunityRules.from_mapping),
    "rights": ("rights_rules", RightsRules.from_mapping),
    "badges": ("badge_rules", BadgeRules.from_mapping),
    "scores": ("score_rules", ScoreRules.from_mapping),
}
# Variables that set one rule each, over RULES_FILE.
_RULE_VARIABLES: dict[str, dict[str, str]] = {
    "points": {"POINTS_PER_YUAN": "points_per_yuan", "POINTS_EXPIRY_MONTHS": "expiry_months"},
    "tasks": {
        "NEW_MEMBER_TASK_DAYS": "new_member_days",
        "NEW_MEMBER_TASK_INTERACTIONS": "new_member_interactions",
        "WELCOME_POINTS": "welcome_points",
    },
    "community": {
        "REPORT_THRESHOLD": "report_threshold",
        "REWARDED_POSTS_PER_DAY": "rewarded_posts_per_day",
        "POSTS_PER_WINDOW": "posts_per_window",
        "COMMENTS_PER_WINDOW": "comments_per_window",
        "RATE_WINDOW_SECONDS": "rate_window_seconds",
    },
    "scores": {"SCORE_REFERENCE_ORDER_FEN": "reference_order_fen"},
}


def _json_file(path: str, name: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{name}: {exc}") from exc


def _rule_sections(env: Mapping[str, str]) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    path = env.get("RULES_FILE")
    if path:
        data = _json_file(path, "RULES_FILE")
        if not isinstance(data, dict):
            raise SettingsError("RULES_FILE must hold a JSON object with a section per area")
        unknown = sorted(set(data) - set(RULE_SECTIONS))
        if unknown:
            raise SettingsError(
                f"RULES_FILE: unknown section(s) {', '.join(unknown)} "
                f"(known: {', '.join(RULE_SECTIONS)})"
            )
        sections.update(data)
    tier_path = env.get("TIER_RULES_FILE")
    if tier_path:
        if "tiers" in sections:
            raise SettingsError("give tier rules in TIER_RULES_FILE or RULES_FILE, not both")
        sections["tiers"] = _json_file(tier_path, "TIER_RULES_FILE")
    for section, variables in _RULE_VARIABLES.items():
        given: dict[str, object] = {
            key: _int(env, name, 0) for name, key in variables.items() if env.get(name)
        }
        if section == "community" and env.get("BANNED_WORDS") is not None:
            given["banned_words"] = list(_words(env.get("BANNED_WORDS"), ()))
        if given:
            base = sections.get(section, {})
            sections[section] = {**base, **given} if isinstance(base, dict) else base
    return sections


def read_rules(env: Mapping[str, str]) -> dict[str, Any]:
    """The business rules by Settings field: DOMAIN.md's defaults, overridden by the
    sections of RULES_FILE (TIER_RULES_FILE may hold the tier section), then by the
    variables that set a single rule."""
    sections = _rule_sections(env)
    rules: dict[str, Any] = {}
    for section, (field_name, from_mapping) in RULE_SECTIONS.items():
        try:
            rules[field_name] = from_mapping(sections.get(section, {}))
        except ValueError as exc:
            raise SettingsError(f"rules ({section}): {exc}") from exc
    return rules


def _outbox_settings(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "outbox_max_attempts": _int(env, "OUTBOX_MAX_ATTEMPTS", 8),
        "outbox_backoff_base_seconds": _float(env, "OUTBOX_BACKOFF_BASE_SECONDS", 30.0),
        "outbox_backoff_cap_seconds": _float(env, "OUTBOX_BACKOFF_CAP_SECONDS", 3600.0),
        "outbox_timeout_seconds": _float(env, "OUTBOX_TIMEOUT_SECONDS", 10.0),
        "outbox_lease_seconds": _float(env, "OUTBOX_LEASE_SECONDS", 60.0),
        "outbox_push_url": env.get("OUTBOX_PUSH_URL", ""),
        "outbox_push_token": env.get("OUTBOX_PUSH_TOKEN", ""),
        "outbox_wechat_base_url": env.get("OUTBOX_WECHAT_BASE_URL", ""),
        "outbox_sms_url": env.get("OUTBOX_SMS_URL", ""),
        "outbox_sms_token": env.get("OUTBOX_SMS_TOKEN", ""),
        "outbox_webhook_url": env.get("OUTBOX_WEBHOOK_URL", ""),
        "outbox_webhook_secret": env.get("OUTBOX_WEBHOOK_SECRET", ""),
    }
    if values["outbox_max_attempts"] < 1:
        raise SettingsError("OUTBOX_MAX_ATTEMPTS must be at least 1")
    base, cap = values["outbox_backoff_base_seconds"], values["outbox_backoff_cap_seconds"]
    if base <= 0 or cap < base:
        raise SettingsError(
            "OUTBOX_BACKOFF_BASE_SECONDS must be positive and OUTBOX_BACKOFF_CAP_SECONDS "
            "at least as long"
        )
    if values["outbox_lease_seconds"] <= values["outbox_timeout_seconds"]:
        raise SettingsError(
            "OUTBOX_LEASE_SECONDS must be longer than OUTBOX_TIMEOUT_SECONDS: a claim that "
            "ran out while its request was still waiting would let another deliverer "
            "send the message again"
        )
    if values["outbox_webhook_url"] and not values["outbox_webhook_secret"]:
        raise SettingsError("OUTBOX_WEBHOOK_URL needs OUTBOX_WEBHOOK_SECRET to sign with")
    return values


# A webhook secret shorter than this is guessable; production refuses it.
MIN_WEBHOOK_SECRET_CHARS = 32


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
    # Stored answers to the clients' registered read operations, per process (0: none).
    response_cache_size: int = 2000
    response_cache_ttl_seconds: int = 300
    metrics_token: str = field(default="", repr=False)
    # The task queue: RabbitMQ (amqp://...) for `member-api worker` processes; empty runs
    # background work inside each server process.
    broker_url: str = field(default="", repr=False)
    # The exchange and the prefix of the queues on the broker.
    broker_queue: str = "member-api"
    # How long a chunk stays with the process that took it before another may take over
    # (longer than any chunk takes: a live worker's chunk is never taken from it).
    job_chunk_lease_seconds: int = 600
    # Tries of a chunk (failures, or workers that died holding it) before it is FAILED.
    job_chunk_max_attempts: int = 5
    # Cron lines (in the business time zone) of the scheduled jobs; "" switches one off.
    job_schedules: tuple[tuple[str, str], ...] = ()
    # With no broker, the server process also runs the scheduler (`make run`).
    run_scheduler: bool = False
    # Reverse proxies whose X-Forwarded-For is believed: addresses or networks, or "*".
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
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
    rights_rules: RightsRules = field(default_factory=RightsRules)
    badge_rules: BadgeRules = field(default_factory=BadgeRules)
    score_rules: ScoreRules = field(default_factory=ScoreRules)
    carbon_credits_per_consignment: int = 10
    aml_single_order_above_fen: int = 5_000_000
    aml_monthly_total_above_fen: int = 20_000_000

    # Data protection: the privacy policy text in force (consents are given to a version),
    # the cooling-off period before a deleted account is erased, and how long the link to
    # a data export works.
    privacy_policy_version: str = "2026-01"
    account_erasure_days: int = 15
    data_export_link_ttl_seconds: int = 24 * 3600

    # The outbox: retries, and each channel's gateway (an empty URL turns it off).
    outbox_max_attempts: int = 8
    outbox_backoff_base_seconds: float = 30.0
    outbox_backoff_cap_seconds: float = 3600.0
    outbox_timeout_seconds: float = 10.0
    outbox_lease_seconds: float = 60.0
    outbox_push_url: str = ""
    outbox_push_token: str = field(default="", repr=False)
    outbox_wechat_base_url: str = ""
    outbox_sms_url: str = ""
    outbox_sms_token: str = field(default="", repr=False)
    outbox_webhook_url: str = ""
    outbox_webhook_secret: str = field(default="", repr=False)

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
        # The host without a port: the log keeps its name when the server moves port.
        host = urlsplit(self.public_base_url).hostname or "localhost"
        return f"{host}/provenance"

    @property
    def uses_development_log_key(self) -> bool:
        return _raw_public(self.provenance_signing_key) == _raw_public(development_log_key())

    @property
    def uses_development_data_key(self) -> bool:
        return self.data_key == _DEV_DATA_KEY

    def production_problems(self) -> list[str]:
        """Every setting production cannot run without, each with how to fix it."""
        problems = []
        if self.uses_development_signing_key:
            problems.append(
                "JWT_PRIVATE_KEY: an Ed25519 PEM key of your own "
                "(the development signing key is refused)"
            )
        if self.uses_development_data_key:
            problems.append(
                "DATA_KEY: 32 random bytes, base64 (the development data key is refused)"
            )
        if self.uses_development_log_key:
            problems.append(
                "PROVENANCE_PRIVATE_KEY: an Ed25519 PEM key for the provenance log "
                "(the development log key is refused)"
            )
        secret = self.commerce_webhook_secret
        if secret == "dev-commerce-secret" or len(secret) < MIN_WEBHOOK_SECRET_CHARS:
            problems.append(
                f"COMMERCE_WEBHOOK_SECRET: at least {MIN_WEBHOOK_SECRET_CHARS} characters, "
                "shared with the commerce systems (without it every webhook is refused)"
            )
        if self.miniprogram_app_id in ("", "dev-app-id"):
            problems.append("MINIPROGRAM_APP_ID: the mini-program's AppID from its platform")
        if self.miniprogram_app_secret in ("", "dev-app-secret"):
            problems.append("MINIPROGRAM_APP_SECRET: the mini-program's AppSecret")
        if not self.public_base_url.startswith("https://"):
            problems.append("PUBLIC_BASE_URL: the https:// address scanned QR codes and links open")
        if not self.database_url.startswith(("postgres://", "postgresql://")):
            problems.append(
                "DATABASE_URL: a PostgreSQL address (postgres://...); SQLite is for development"
            )
        if not self.cache_url.startswith(("redis://", "rediss://")):
            problems.append(
                "CACHE_URL: a Redis address (redis://...); an in-memory cache is not shared "
                "between processes, so limits and caches would disagree"
            )
        return problems

    def check_safe_for_environment(self) -> None:
        """Refuse to run in production without every secret and setting it needs."""
        if not self.is_production:
            return
        problems = self.production_problems()
        if problems:
            raise SettingsError(
                "production cannot start; set:\n" + "\n".join(f"  - {p}" for p in problems)
            )

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
        kwargs.update(read_rules(env))
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
            response_cache_size=_at_least(env, "RESPONSE_CACHE_SIZE", 2000, 0),
            response_cache_ttl_seconds=_at_least(env, "RESPONSE_CACHE_TTL_SECONDS", 300, 1),
            metrics_token=env.get("METRICS_TOKEN", ""),
            broker_url=env.get("BROKER_URL", ""),
            broker_queue=env.get("BROKER_QUEUE", cls.broker_queue),
            job_chunk_lease_seconds=_at_least(env, "JOB_CHUNK_LEASE_SECONDS", 600, 1),
            job_chunk_max_attempts=_at_least(env, "JOB_CHUNK_MAX_ATTEMPTS", 5, 1),
            job_schedules=_schedules(env.get("JOB_SCHEDULES")),
            run_scheduler=_bool(env, "RUN_SCHEDULER", not env.get("BROKER_URL")),
            trusted_proxies=_proxies(env.get("TRUSTED_PROXIES"), cls.trusted_proxies),
            # In development the links follow the port the server listens on.
            public_base_url=(
                env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{_int(env, 'PORT', cls.port)}"
            ).rstrip("/"),
            provenance_log_name=env.get("PROVENANCE_LOG_NAME", ""),
            clone_rules=CloneRules(
                max_places_per_day=_int(env, "CLONE_MAX_PLACES_PER_DAY", 3),
                max_speed_kmh=_float(env, "CLONE_MAX_SPEED_KMH", 800.0),
            ),
            commerce_webhook_secret=env.get(
                "COMMERCE_WEBHOOK_SECRET", "" if production else "dev-commerce-secret"
            ),
            carbon_credits_per_consignment=_int(env, "CARBON_CREDITS_PER_CONSIGNMENT", 10),
            aml_single_order_above_fen=_int(env, "AML_SINGLE_ORDER_ABOVE_FEN", 5_000_000),
            aml_monthly_total_above_fen=_int(env, "AML_MONTHLY_TOTAL_ABOVE_FEN", 20_000_000),
            privacy_policy_version=_policy_version(env.get("PRIVACY_POLICY_VERSION")),
            account_erasure_days=_int(env, "ACCOUNT_ERASURE_DAYS", 15),
            data_export_link_ttl_seconds=_int(env, "DATA_EXPORT_LINK_TTL_SECONDS", 24 * 3600),
            **_outbox_settings(env),
            **kwargs,  # type: ignore[arg-type]
        )
        return settings
