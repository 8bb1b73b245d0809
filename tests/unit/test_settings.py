"""Settings come from the environment; production refuses development secrets."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from member_api.app import create_app
from member_api.cli import main
from member_api.settings import Settings, SettingsError


def _pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _production_env(**extra: str) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "production",
        "JWT_PRIVATE_KEY": _pem(),
        "DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "MINIPROGRAM_APP_ID": "wx0123456789abcdef",
        "MINIPROGRAM_APP_SECRET": "real-secret",
        "PUBLIC_BASE_URL": "https://member.example.com",
        "PROVENANCE_PRIVATE_KEY": _pem(),
        "COMMERCE_WEBHOOK_SECRET": base64.b64encode(os.urandom(32)).decode(),
        "DATABASE_URL": "postgres://member_api:secret@db:5432/member_api",
        "CACHE_URL": "redis://cache:6379/0",
    }
    env.update(extra)
    return env


def test_defaults_are_the_embedded_development_set_up() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite://var/")
    assert settings.cache_url == "memory://"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.graphiql
    settings.check_safe_for_environment()


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgres://u@db/x",
            "CACHE_URL": "redis://cache:6379/0",
            "HOST": "0.0.0.0",
            "PORT": "9000",
        }
    )
    assert settings.database_url == "postgres://u@db/x"
    assert settings.cache_url == "redis://cache:6379/0"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)


def test_production_with_real_keys_starts() -> None:
    settings = Settings.from_env(_production_env())
    settings.check_safe_for_environment()
    assert not settings.graphiql
    create_app(settings)


REQUIRED_IN_PRODUCTION = [
    "JWT_PRIVATE_KEY",
    "DATA_KEY",
    "PROVENANCE_PRIVATE_KEY",
    "COMMERCE_WEBHOOK_SECRET",
    "MINIPROGRAM_APP_ID",
    "MINIPROGRAM_APP_SECRET",
    "PUBLIC_BASE_URL",
    "DATABASE_URL",
    "CACHE_URL",
]


@pytest.mark.parametrize("missing", REQUIRED_IN_PRODUCTION)
def test_production_refuses_missing_secrets(missing: str) -> None:
    env = _production_env()
    del env[missing]
    with pytest.raises(SettingsError, match=missing) as refused:
        create_app(Settings.from_env(env))
    others = [name for name in REQUIRED_IN_PRODUCTION if name != missing]
    assert not any(name in str(refused.value) for name in others)


def test_production_names_everything_missing_at_once() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"ENVIRONMENT": "production"}).check_safe_for_environment()
    assert all(name in str(refused.value) for name in REQUIRED_IN_PRODUCTION)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COMMERCE_WEBHOOK_SECRET", "dev-commerce-secret"),
        ("COMMERCE_WEBHOOK_SECRET", "short-secret"),
        ("MINIPROGRAM_APP_ID", "dev-app-id"),
        ("MINIPROGRAM_APP_SECRET", "dev-app-secret"),
        ("PUBLIC_BASE_URL", "http://member.example.com"),
        ("DATABASE_URL", "sqlite://var/member-api.sqlite3"),
        ("CACHE_URL", "memory://"),
    ],
)
def test_production_refuses_development_values(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(_production_env(**{name: value})).check_safe_for_environment()


def test_production_refuses_the_development_signing_key() -> None:
    dev_pem = (
        Settings()
        .signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(SettingsError, match="development signing key"):
        Settings.from_env(_production_env(JWT_PRIVATE_KEY=dev_pem)).check_safe_for_environment()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENVIRONMENT", "staging"),
        ("PORT", "eighty"),
        ("JWT_PRIVATE_KEY", "not a key"),
        ("DATA_KEY", "c2hvcnQ"),
        ("TRUSTED_PROXIES", "10.0.0.1, proxy.internal"),
    ],
)
def test_bad_values_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_serve_refuses_to_start_in_production_without_keys(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("JWT_PRIVATE_KEY", raising=False)
    assert main(["serve"]) == 2
    assert "JWT_PRIVATE_KEY" in capsys.readouterr().err


def test_development_links_follow_the_port() -> None:
    assert Settings.from_env({"PORT": "8123"}).public_base_url == "http://127.0.0.1:8123"
    assert Settings.from_env({}).public_base_url == "http://127.0.0.1:8000"
    given = Settings.from_env({"PORT": "8123", "PUBLIC_BASE_URL": "https://m.example.com/"})
    assert given.public_base_url == "https://m.example.com"
    # The log's name leaves the port out, so moving the server keeps its checkpoints valid.
    origins = {Settings.from_env({"PORT": p}).provenance_origin for p in ("8000", "8123")}
    assert origins == {"127.0.0.1/provenance"}


def test_serve_on_another_port_points_links_at_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    import member_api.app

    served: dict[str, object] = {}

    def fake_create_app(settings: Settings) -> object:
        served["settings"] = settings
        return object()

    monkeypatch.setattr(member_api.app, "create_app", fake_create_app)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(kwargs))
    for name in ("PORT", "PUBLIC_BASE_URL", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--port", "8765"]) == 0
    assert served["port"] == 8765
    settings = served["settings"]
    assert isinstance(settings, Settings)
    assert settings.public_base_url == "http://127.0.0.1:8765"
