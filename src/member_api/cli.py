"""The `member-api` command: serve, migrate, seed-demo, seed-synthetic, create-staff, schema
tools."""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from member_api import db
from member_api.errors import DomainError
from member_api.logs import configure_logging
from member_api.settings import Settings, SettingsError
from member_api.staff.domain import StaffRole


def _settings() -> Settings:
    settings = Settings.from_env()
    configure_logging(level=settings.log_level, json_lines=settings.is_production)
    return settings


async def _seed_demo(settings: Settings, *, if_empty: bool) -> str:
    from member_api import seed
    from member_api.services import open_services

    async with open_services(settings) as services:
        if if_empty and not await seed.database_is_empty():
            said = "database has members already; demo data not seeded"
        else:
            await seed.seed_demo(services)
            said = "demo data seeded"
        lines = [said] + [
            f"demo item of {item.owner_phone}: {item.brand} {item.model}, {item.url}"
            for item in await seed.demo_items(services)
        ]
        return "\n".join(lines)


async def _seed_synthetic(settings: Settings, members: int, seed: int, as_of: date | None) -> str:
    from member_api.business_calendar import business_today
    from member_api.services import open_services
    from member_api.synthetic import seed_synthetic

    async with open_services(settings) as services:
        day = as_of or business_today(services.clock)
        summary = await seed_synthetic(services, members=members, seed=seed, as_of=day)
        return "\n".join(summary.lines())


async def _create_staff(settings: Settings, username: str, password: str, roles: list[str]) -> str:
    from member_api.services import open_services
    from member_api.staff import service as staff

    async with open_services(settings) as services:
        user = await staff.create_staff(services, username=username, password=password, roles=roles)
        return f"staff user {user.username} created with roles {user.roles}"


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from member_api.app import create_app

    settings = _settings()
    if args.port and not os.environ.get("PUBLIC_BASE_URL"):
        # QR codes and share links point at the port actually served.
        settings = dataclasses.replace(
            settings, port=args.port, public_base_url=f"http://127.0.0.1:{args.port}"
        )
    settings.check_safe_for_environment()
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        proxy_headers=False,  # the app reads them itself, from TRUSTED_PROXIES only
        timeout_graceful_shutdown=20,
    )
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    asyncio.run(db.migrate(settings.database_url))
    print("migrations applied")
    return 0


def _cmd_makemigrations(args: argparse.Namespace) -> int:
    paths = asyncio.run(db.make_migrations(args.name))
    for path in paths:
        print(f"created {path}")
    if not paths:
        print("no changes detected")
    return 0


def _cmd_seed_demo(args: argparse.Namespace) -> int:
    print(asyncio.run(_seed_demo(_settings(), if_empty=args.if_empty)))
    return 0


def _cmd_seed_synthetic(args: argparse.Namespace) -> int:
    from member_api.synthetic import AlreadyGenerated

    try:
        print(asyncio.run(_seed_synthetic(_settings(), args.members, args.seed, args.as_of)))
    except AlreadyGenerated as exc:
        print(f"member-api: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_create_staff(args: argparse.Namespace) -> int:
    password = os.environ.get("STAFF_PASSWORD") or getpass.getpass("Password: ")
    print(asyncio.run(_create_staff(_settings(), args.username, password, list(args.role))))
    return 0


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def _cmd_job(args: argparse.Namespace) -> int:
    from member_api.business_calendar import business_today
    from member_api.clock import SystemClock
    from member_api.jobs import run_job

    as_of = args.as_of or business_today(SystemClock())
    bar = _progress_bar if sys.stderr.isatty() else None
    report = asyncio.run(
        run_job(
            _settings(),
            args.job,
            as_of,
            dry_run=args.dry_run,
            wait=not args.no_wait,
            progress=bar,
        )
    )
    if bar is not None:
        print(file=sys.stderr)
    print(report.summary)
    shown = report.details[:DETAIL_LINES]
    for line in shown:
        print(f"  {line}")
    if len(report.details) > len(shown):
        print(f"  ... and {len(report.details) - len(shown)} more")
    return 0


DETAIL_LINES = 200


def _cmd_recommendations_eval(args: argparse.Namespace) -> int:
    if args.k < 1:
        print("--k must be at least 1", file=sys.stderr)
        return 2
    print(asyncio.run(_recommendations_eval(_settings(), args.k)))
    return 0


async def _recommendations_eval(settings: Settings, k: int) -> str:
    from member_api.intelligence.recommendations import evaluate
    from member_api.services import open_services

    async with open_services(settings):
        return (await evaluate(k)).line(k)


def _progress_bar(run: Any) -> None:
    total = max(1, run.chunks_total)
    filled = 30 * run.chunks_done // total
    print(
        f"\r[{'#' * filled}{'.' * (30 - filled)}] {run.chunks_done}/{run.chunks_total} chunks, "
        f"{run.processed} processed, {run.errors} error(s)",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _cmd_worker(args: argparse.Namespace) -> int:
    from member_api.background.worker import run_worker

    asyncio.run(run_worker(_settings(), max_async_tasks=args.tasks))
    return 0


def _cmd_scheduler(args: argparse.Namespace) -> int:
    from member_api.background.worker import run_scheduler

    asyncio.run(run_scheduler(_settings()))
    return 0


async def _verify_log(settings: Settings) -> tuple[bool, str]:
    from member_api.provenance.jobs import verify_log
    from member_api.services import open_services

    async with open_services(settings) as services:
        return await verify_log(services)


async def _export_bundle(settings: Settings, public_id: str) -> str:
    from member_api.provenance.jobs import export_bundle
    from member_api.services import open_services

    async with open_services(settings) as services:
        return await export_bundle(services, public_id)


def _cmd_provenance_verify(args: argparse.Namespace) -> int:
    ok, text = asyncio.run(_verify_log(_settings()))
    print(text, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _cmd_provenance_export(args: argparse.Namespace) -> int:
    text = asyncio.run(_export_bundle(_settings(), args.item))
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


def _cmd_provenance_verify_bundle(args: argparse.Namespace) -> int:
    from member_api.provenance import bundle

    key = args.key
    if Path(key).is_file():
        key = Path(key).read_text(encoding="utf-8").strip()
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
        print(bundle.verify(data, key))
    except (OSError, ValueError) as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    return 0


async def _deliver_outbox(settings: Settings, limit: int) -> str:
    from member_api.outbox.service import delivery_pass
    from member_api.services import open_services

    async with open_services(settings) as services:
        outcomes = await delivery_pass(services, now=services.clock.now(), limit=limit)
        attempted = sum(outcomes.values())
        parts = ", ".join(f"{o.value.lower()} {n}" for o, n in sorted(outcomes.items()))
        return f"{attempted} messages attempted" + (f": {parts}" if parts else "")


def _cmd_outbox_deliver(args: argparse.Namespace) -> int:
    print(asyncio.run(_deliver_outbox(_settings(), args.limit)))
    return 0


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


async def _phrases_in_force(settings: Settings) -> Any:
    from member_api.intelligence import sentiment_service

    await db.init_orm(settings.database_url)
    try:
        return await sentiment_service.lexicon()
    finally:
        await db.close_orm()


def _cmd_sentiment_eval(args: argparse.Namespace) -> int:
    from member_api.intelligence import sentiment_eval
    from member_api.intelligence.sentiment import Lexicon

    lexicon = asyncio.run(_phrases_in_force(_settings())) if args.database else Lexicon.of()
    paths = [Path(p) for p in args.file] or list(sentiment_eval.SHIPPED_SETS)
    for path in paths:
        evaluation = sentiment_eval.evaluate(sentiment_eval.load(path), lexicon)
        print(f"{path.name}: {evaluation.summary()}")
        for miss in evaluation.misses if args.misses else ():
            label = "missed" if miss.example.label else "raised"
            why = "; ".join(miss.verdict.reasons)
            print(f"  {label}: {miss.example.text}  ({why})")
    return 0


def _cmd_persisted_queries(args: argparse.Namespace) -> int:
    from member_api.graphql.persisted import PersistedQueries

    store = PersistedQueries()
    store.register_directory(Path(args.directory))
    if args.write:
        text = json.dumps(store.manifest(), indent=1, ensure_ascii=False, sort_keys=True)
        Path(args.write).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {len(store.registered)} operations to {args.write}")
        return 0
    print(json.dumps(store.names, indent=2, sort_keys=True))
    return 0


def _cmd_healthcheck(args: argparse.Namespace) -> int:
    """Exit 0 when the server on this machine answers /readyz with 200 (the container's
    health check): database and cache reachable, on the port the server was given."""
    import httpx

    port = args.port or _port_from_env()
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        response = httpx.get(url, timeout=args.timeout)
    except httpx.HTTPError as exc:
        print(f"not ready: {url}: {type(exc).__name__}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"not ready: {url}: {response.status_code} {response.text[:200]}", file=sys.stderr)
        return 1
    print("ready")
    return 0


def _port_from_env() -> int:
    value = os.environ.get("PORT", "") or "8000"
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SettingsError(f"PORT must be a port number, got {value!r}")
    return int(value)


def _cmd_make_keys(args: argparse.Namespace) -> int:
    """Fresh keys and secrets for a production deployment, as an env file."""
    import secrets

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    def pem() -> str:
        text = (
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
        return text.strip().replace("\n", "\\n")

    print("# member-api production keys; keep this file secret.")
    print(f'JWT_PRIVATE_KEY="{pem()}"')
    print(f'PROVENANCE_PRIVATE_KEY="{pem()}"')
    print(f"DATA_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}")
    print(f"COMMERCE_WEBHOOK_SECRET={secrets.token_urlsafe(32)}")
    print(f"METRICS_TOKEN={secrets.token_urlsafe(24)}")
    print(f"POSTGRES_PASSWORD={secrets.token_urlsafe(24)}")
    print(f"RABBITMQ_PASSWORD={secrets.token_urlsafe(24)}")
    return 0


def _cmd_export_schema(args: argparse.Namespace) -> int:
    from member_api.graphql.schema import export_sdl

    member, admin = export_sdl(Path(args.directory))
    print(f"wrote {member} and {admin}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="member-api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(handler=_cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=_cmd_migrate)

    worker = sub.add_parser("worker", help="run tasks from the broker (BROKER_URL)")
    worker.add_argument("--tasks", type=int, default=8, help="tasks run at once")
    worker.set_defaults(handler=_cmd_worker)
    sub.add_parser(
        "scheduler", help="fire the scheduled jobs (JOB_SCHEDULES); replicas fire each once"
    ).set_defaults(handler=_cmd_scheduler)

    make = sub.add_parser("makemigrations", help="write a migration for model changes")
    make.add_argument("--name", default=None)
    make.set_defaults(handler=_cmd_makemigrations)

    seed = sub.add_parser("seed-demo", help="load demo members and staff")
    seed.add_argument("--if-empty", action="store_true", help="only into an empty database")
    seed.set_defaults(handler=_cmd_seed_demo)

    synthetic = sub.add_parser(
        "seed-synthetic",
        help="generate N members with order, login, community and favourite histories "
        "(churners among them) for scores, segments and benchmarks; the same seed, date "
        "and N give the same data",
    )
    synthetic.add_argument(
        "--members", type=_positive, required=True, metavar="N", help="how many members"
    )
    synthetic.add_argument("--seed", type=int, default=1, help="the random seed (default: 1)")
    synthetic.add_argument(
        "--as-of",
        type=_as_of,
        default=None,
        metavar="YYYY-MM-DD",
        help="the day the histories end (default: today; give it for the same data again)",
    )
    synthetic.set_defaults(handler=_cmd_seed_synthetic)

    staff = sub.add_parser(
        "create-staff", help="create a staff account (password from STAFF_PASSWORD or a prompt)"
    )
    staff.add_argument("username")
    staff.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[role.value for role in StaffRole],
        help="repeat for several roles",
    )
    staff.set_defaults(handler=_cmd_create_staff)

    jobs = sub.add_parser("jobs", help="scheduled jobs (idempotent; safe to rerun)")
    job_sub = jobs.add_subparsers(dest="job", required=True)
    review = job_sub.add_parser(
        "tier-review", help="quarterly tier review on the review date; resumable"
    )
    warnings = job_sub.add_parser(
        "downgrade-warnings", help="warn members who would drop at the next review"
    )
    expire = job_sub.add_parser(
        "expire-points", help="expire points whose date has come; safe to rerun"
    )
    quiz = job_sub.add_parser(
        "weekly-quiz",
        help="reveal past weeks' quizzes, finish their payouts, open this week's; safe to rerun",
    )
    erase = job_sub.add_parser(
        "erase-accounts",
        help="erase the personal data of accounts whose cooling-off period is over",
    )
    scores = job_sub.add_parser(
        "member-scores", help="score every member (RFM and tags) as of the date; safe to rerun"
    )
    recs = job_sub.add_parser(
        "recommendations",
        help="rank rewards, events, groups and posts for every consenting member; safe to rerun",
    )
    for job in (review, warnings, expire, quiz, erase, scores, recs):
        job.add_argument(
            "--as-of",
            type=_as_of,
            default=None,
            metavar="YYYY-MM-DD",
            help="the business date to run as of: today (the default) or earlier",
        )
        job.add_argument(
            "--dry-run", action="store_true", help="show what it would change; change nothing"
        )
        job.add_argument(
            "--no-wait", action="store_true", help="with a broker: send the chunks, do not wait"
        )
        job.set_defaults(handler=_cmd_job)

    evaluation = job_sub.add_parser(
        "recommendations-eval",
        help="hold out each member's latest interaction: hit rate of the recommendations "
        "against the popular baseline (changes nothing)",
    )
    evaluation.add_argument("--k", type=int, default=10, help="the list length (default 10)")
    evaluation.set_defaults(handler=_cmd_recommendations_eval)

    provenance = sub.add_parser("provenance", help="the transparency log of item histories")
    prov_sub = provenance.add_subparsers(dest="provenance_command", required=True)
    prov_sub.add_parser(
        "verify", help="recompute the log from the database and check every signed checkpoint"
    ).set_defaults(handler=_cmd_provenance_verify)
    prov_export = prov_sub.add_parser(
        "export", help="write an item's evidence bundle (events, proofs, checkpoint)"
    )
    prov_export.add_argument(
        "item", help="the item's public id or its QR link (an id that begins with - goes after --)"
    )
    prov_export.add_argument("--out", default=None, help="a file (default: standard output)")
    prov_export.set_defaults(handler=_cmd_provenance_export)
    prov_check = prov_sub.add_parser(
        "verify-bundle", help="check a bundle offline with the log's public key"
    )
    prov_check.add_argument("file")
    prov_check.add_argument(
        "--key", required=True, help="the verifier key (name+id+key), or a file holding it"
    )
    prov_check.set_defaults(handler=_cmd_provenance_verify_bundle)

    outbox = sub.add_parser("outbox", help="messages that leave the service")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    deliver = outbox_sub.add_parser(
        "deliver", help="one delivery pass: send the messages that are due; safe to rerun"
    )
    deliver.add_argument("--limit", type=_positive, default=100, help="at most this many")
    deliver.set_defaults(handler=_cmd_outbox_deliver)

    sentiment = sub.add_parser(
        "sentiment-eval",
        help="precision and recall of the sentiment rules (built-in phrases) on labelled sentences",
    )
    sentiment.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="TSV",
        help="a set of label<TAB>text lines after a header (default: the shipped sets)",
    )
    sentiment.add_argument("--misses", action="store_true", help="list what it got wrong")
    sentiment.add_argument(
        "--database",
        action="store_true",
        help="with the operators' phrase changes in DATABASE_URL (default: built-in phrases)",
    )
    sentiment.set_defaults(handler=_cmd_sentiment_eval)

    manifest = sub.add_parser(
        "persisted-queries", help="print the hashes of the clients' operations (the manifest)"
    )
    manifest.add_argument("--directory", default="../shared/clients")
    manifest.add_argument(
        "--write",
        default=None,
        metavar="FILE",
        help="write the manifest (names, hashes, texts) that the package ships",
    )
    manifest.set_defaults(handler=_cmd_persisted_queries)

    health = sub.add_parser(
        "healthcheck", help="exit 0 if the local server is ready (/readyz on PORT)"
    )
    health.add_argument("--port", type=int, default=None, help="default: PORT, else 8000")
    health.add_argument("--timeout", type=float, default=3.0)
    health.set_defaults(handler=_cmd_healthcheck)

    sub.add_parser(
        "make-keys", help="print fresh production keys and secrets as an env file"
    ).set_defaults(handler=_cmd_make_keys)

    export = sub.add_parser("export-schema", help="write schema/schema.graphql and admin.graphql")
    export.add_argument("--directory", default="schema")
    export.set_defaults(handler=_cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as exc:
        print(f"member-api: configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"member-api: {exc.code}: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
