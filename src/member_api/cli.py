"""The `member-api` command: serve, migrate, seed-demo, create-staff, schema tools."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from member_api import db
from member_api.errors import DomainError
from member_api.logs import configure_logging
from member_api.settings import Settings, SettingsError


def _settings() -> Settings:
    settings = Settings.from_env()
    configure_logging(level=settings.log_level, json_lines=settings.is_production)
    return settings


async def _with_orm_and_services(settings: Settings, work: str, **kwargs: object) -> None:
    from member_api import seed
    from member_api.services import build_services
    from member_api.staff import service as staff

    await db.init_orm(settings.database_url)
    services = build_services(settings)
    try:
        if work == "seed-demo":
            if kwargs.get("if_empty") and not await seed.database_is_empty():
                print("database has members already; demo data not seeded")
                return
            await seed.seed_demo(services)
            print("demo data seeded")
        elif work == "create-staff":
            user = await staff.create_staff(
                services,
                username=str(kwargs["username"]),
                password=str(kwargs["password"]),
                roles=list(kwargs["roles"]),  # type: ignore[call-overload]
            )
            print(f"staff user {user.username} created with roles {user.roles}")
    finally:
        await services.aclose()
        await db.close_orm()


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from member_api.app import create_app

    settings = _settings()
    settings.check_safe_for_environment()
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        proxy_headers=True,
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
    asyncio.run(_with_orm_and_services(_settings(), "seed-demo", if_empty=args.if_empty))
    return 0


def _cmd_create_staff(args: argparse.Namespace) -> int:
    password = os.environ.get("STAFF_PASSWORD") or getpass.getpass("Password: ")
    asyncio.run(
        _with_orm_and_services(
            _settings(),
            "create-staff",
            username=args.username,
            password=password,
            roles=args.role,
        )
    )
    return 0


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


async def _run_job(settings: Settings, job: str, as_of: date) -> str:
    from member_api.points.service import expire_points
    from member_api.services import build_services
    from member_api.tiers.review import run_review, send_downgrade_warnings

    await db.init_orm(settings.database_url)
    services = build_services(settings)
    try:
        if job == "tier-review":
            report = await run_review(services, as_of)
            return (
                f"review {report.review_date}: {report.reviewed} reviewed, {report.changed} changed"
            )
        if job == "expire-points":
            expired = await expire_points(services, as_of)
            return f"points expiry as of {as_of}: {expired} lot(s) expired"
        warned = await send_downgrade_warnings(services, as_of)
        return f"downgrade warnings as of {as_of}: {warned} sent"
    finally:
        await services.aclose()
        await db.close_orm()


def _cmd_job(args: argparse.Namespace) -> int:
    print(asyncio.run(_run_job(_settings(), args.job, args.as_of)))
    return 0


async def _provenance(settings: Settings, action: str, item: str | None) -> tuple[int, str]:
    from member_api.provenance import bundle, log, service
    from member_api.services import build_services

    await db.init_orm(settings.database_url)
    services = build_services(settings)
    try:
        key = service.log_key(services)
        if action == "verify":
            findings = await log.audit(key)
            if findings:
                return 1, "\n".join(f"FAIL: {f.problem}" for f in findings)
            latest = await log.latest_checkpoint()
            size = latest.size if latest else 0
            return 0, f"OK: {size} log entries match every signed checkpoint of {key.origin}"
        found = await service.item_by_public_id(str(item))
        return 0, json.dumps(await bundle.export(key, found), ensure_ascii=False, indent=2)
    finally:
        await services.aclose()
        await db.close_orm()


def _cmd_provenance_verify(args: argparse.Namespace) -> int:
    code, text = asyncio.run(_provenance(_settings(), "verify", None))
    print(text, file=sys.stderr if code else sys.stdout)
    return code


def _cmd_provenance_export(args: argparse.Namespace) -> int:
    _, text = asyncio.run(_provenance(_settings(), "export", args.item))
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


def _cmd_persisted_queries(args: argparse.Namespace) -> int:
    from member_api.graphql.persisted import PersistedQueries

    store = PersistedQueries()
    store.register_directory(Path(args.directory))
    print(json.dumps(store.names, indent=2, sort_keys=True))
    return 0


def _cmd_export_schema(args: argparse.Namespace) -> int:
    from member_api.graphql.schema import admin_schema, member_schema, sdl

    out = Path(args.directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / "schema.graphql").write_text(sdl(member_schema), encoding="utf-8")
    (out / "admin.graphql").write_text(sdl(admin_schema), encoding="utf-8")
    print(f"wrote {out / 'schema.graphql'} and {out / 'admin.graphql'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="member-api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(handler=_cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=_cmd_migrate)

    make = sub.add_parser("makemigrations", help="write a migration for model changes")
    make.add_argument("--name", default=None)
    make.set_defaults(handler=_cmd_makemigrations)

    seed = sub.add_parser("seed-demo", help="load demo members and staff")
    seed.add_argument("--if-empty", action="store_true", help="only into an empty database")
    seed.set_defaults(handler=_cmd_seed_demo)

    staff = sub.add_parser(
        "create-staff", help="create a staff account (password from STAFF_PASSWORD or a prompt)"
    )
    staff.add_argument("username")
    staff.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["operator", "authenticator", "moderator"],
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
    for job in (review, warnings, expire):
        job.add_argument("--as-of", type=_as_of, required=True, metavar="YYYY-MM-DD")
        job.set_defaults(handler=_cmd_job)

    provenance = sub.add_parser("provenance", help="the transparency log of item histories")
    prov_sub = provenance.add_subparsers(dest="provenance_command", required=True)
    prov_sub.add_parser(
        "verify", help="recompute the log from the database and check every signed checkpoint"
    ).set_defaults(handler=_cmd_provenance_verify)
    prov_export = prov_sub.add_parser(
        "export", help="write an item's evidence bundle (events, proofs, checkpoint)"
    )
    prov_export.add_argument("item", help="the item's public id")
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

    manifest = sub.add_parser(
        "persisted-queries", help="print the hashes of the clients' operations (the manifest)"
    )
    manifest.add_argument("--directory", default="../shared/clients")
    manifest.set_defaults(handler=_cmd_persisted_queries)

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
