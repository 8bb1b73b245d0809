"""The documented container commands give compose every variable the service needs.

Docker cannot run here, so the test does what compose does with the files: read the
env file the documented commands write, interpolate `compose.yaml` with it, and start
production settings from the environment the api container would receive.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from member_api.cli import main
from member_api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`."""

    def one(match: re.Match[str]) -> str:
        value = env.get(match["name"], "")
        if match["op"] == ":?" and not value:
            raise MissingVariable(f"{match['name']}: {match['arg']}")
        if match["op"] == ":-" and not value:
            return match["arg"]
        return value

    return _VARIABLE.sub(one, text)


def render(compose: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return interpolate(node, env) if isinstance(node, str) else node

    rendered: dict[str, Any] = walk(compose)
    return rendered


def read_env_file(text: str) -> dict[str, str]:
    """An env file as compose reads it: KEY=VALUE, double quotes expand \\n."""
    env = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace("\\n", "\n")
        env[name.strip()] = value
    return env


def readme_env_file() -> str:
    """What the documented container commands put in `.env`."""
    section = (ROOT / "docs" / "operations.md").read_text().split("## Containers", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    assert "member-api make-keys > .env" in block
    heredoc = block.split("cat >> .env <<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["make-keys"]) == 0
    return out.getvalue() + heredoc + "\n"


def api_environment(env: dict[str, str]) -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    rendered = render(compose, env)
    environment: dict[str, str] = rendered["services"]["api"]["environment"]
    return {key: str(value) for key, value in environment.items()}


def test_the_readme_commands_give_the_api_everything_production_needs() -> None:
    env = read_env_file(readme_env_file())
    environment = api_environment(env)
    settings = Settings.from_env(environment)
    assert settings.is_production
    assert settings.production_problems() == []
    settings.check_safe_for_environment()
    # The database password the api uses is the one the database was given.
    compose = render(yaml.safe_load((ROOT / "compose.yaml").read_text()), env)
    password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert f":{password}@postgres:" in settings.database_url
    assert password == env["POSTGRES_PASSWORD"]


def test_no_password_is_written_into_the_compose_file() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    postgres = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert postgres.startswith("${")
    assert "${POSTGRES_PASSWORD" in compose["services"]["api"]["environment"]["DATABASE_URL"]


def test_every_service_restarts_by_itself() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert {name: s.get("restart") for name, s in compose["services"].items()} == {
        "api": "unless-stopped",
        "worker": "unless-stopped",
        "scheduler": "unless-stopped",
        "postgres": "unless-stopped",
        "redis": "unless-stopped",
        "rabbitmq": "unless-stopped",
    }


def test_workers_and_schedulers_get_what_the_api_gets() -> None:
    env = read_env_file(readme_env_file())
    compose = render(yaml.safe_load((ROOT / "compose.yaml").read_text()), env)
    services = compose["services"]
    api = services["api"]["environment"]
    for name in ("worker", "scheduler"):
        assert services[name]["environment"] == api
        assert services[name]["command"] == ["member-api", name]
    settings = Settings.from_env({key: str(value) for key, value in api.items()})
    assert settings.broker_url.startswith("amqp://member_api:")
    password = services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"]
    assert f":{password}@rabbitmq:5672" in settings.broker_url


@pytest.mark.parametrize(
    "dropped",
    [
        "JWT_PRIVATE_KEY",
        "PROVENANCE_PRIVATE_KEY",
        "DATA_KEY",
        "COMMERCE_WEBHOOK_SECRET",
        "POSTGRES_PASSWORD",
        "RABBITMQ_PASSWORD",
        "PUBLIC_BASE_URL",
        "MINIPROGRAM_APP_ID",
        "MINIPROGRAM_APP_SECRET",
    ],
)
def test_compose_stops_naming_a_missing_variable(dropped: str) -> None:
    env = read_env_file(readme_env_file())
    del env[dropped]
    with pytest.raises(MissingVariable, match=dropped):
        render(yaml.safe_load((ROOT / "compose.yaml").read_text()), env)


def test_make_keys_gives_fresh_keys_each_time() -> None:
    first, second = read_env_file(readme_env_file()), read_env_file(readme_env_file())
    for name in ("JWT_PRIVATE_KEY", "PROVENANCE_PRIVATE_KEY", "DATA_KEY", "RABBITMQ_PASSWORD"):
        assert first[name] != second[name]


def test_the_image_checks_readiness_on_its_own_port_after_a_start_period() -> None:
    text = (ROOT / "Dockerfile").read_text()
    healthcheck = text.split("HEALTHCHECK", 1)[1].split("\nCMD", 1)[0]
    assert "--start-period=" in healthcheck
    assert '"member-api", "healthcheck"' in healthcheck  # /readyz on $PORT
    assert "8000" not in healthcheck
