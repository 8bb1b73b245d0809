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
        "MINIPROGRAM_APP_SECRET": "real-secret",
        "PUBLIC_BASE_URL": "https://member.example.com",
        "PROVENANCE_PRIVATE_KEY": _pem(),
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


@pytest.mark.parametrize(
    "missing",
    [
        "JWT_PRIVATE_KEY",
        "DATA_KEY",
        "MINIPROGRAM_APP_SECRET",
        "PUBLIC_BASE_URL",
        "PROVENANCE_PRIVATE_KEY",
    ],
)
def test_production_refuses_missing_secrets(missing: str) -> None:
    env = _production_env()
    del env[missing]
    with pytest.raises(SettingsError):
        create_app(Settings.from_env(env))


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
