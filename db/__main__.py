"""Command line: `python -m db upgrade | seed | users | kpis | import | tune | quotas | report | backup |
restore | notify`.

Only `upgrade` migrates (and `seed`, on a database that has no tables yet). Every other command uses the
schema as it is and refuses, before reading or writing anything, a database whose schema is not this code's
newest, naming `python -m db upgrade`; `backup` copies a database at any schema (take one before upgrading).
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import getpass
import json
import math
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine, make_url

from db.access import OPERATOR
from db.engine import (
    DatabaseUnreachable,
    check_reachable,
    is_sqlite,
    make_engine,
    read_session,
    safe_url,
    write_session,
)
from db.logs import configure_logging
from db.migrate import UPGRADE_COMMAND, schema_state, upgrade_to_head
from db.models import Role, UserCreate
from db.progress import TerminalProgress
from db.settings import get_settings
from db.users import UserError, create_user, disable_user, get_or_create_team, list_users, set_password

PROBLEMS_ON_SCREEN = 20
GROUPINGS = ("source", "campaign", "team", "region", "owner", "industry", "month", "quarter")


if TYPE_CHECKING:
    from db.backup import BackupSummary
    from db.importing.run import ImportResult


class CliError(Exception):
    """A problem to print as one line, without a stack trace."""


class SchemaUse(enum.Enum):
    """What a command needs of the database's schema, checked before the command runs."""

    ANY = "any"  # upgrade, restore: any schema, and a SQLite file that does not exist yet is made
    EXISTING = "existing"  # backup: any schema of a database that exists
    EMPTY_OR_NEWEST = "empty-or-newest"  # seed: a database without tables is migrated first
    NEWEST = "newest"  # every other command: the newest schema, or a refusal that changes nothing


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in the form YYYY-MM-DD") from error


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a whole number above zero")
    return number


def read_new_password(prompt: str = "Password") -> str:
    """From the terminal (asked twice) or, when piped, the first line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass(f"{prompt} (again): ") != first:
        raise CliError("the two passwords differ")
    return first


# ---------------------------------------------------------------- verbs


def cmd_upgrade(engine: Engine, _args: argparse.Namespace) -> int:
    before = schema_state(engine)
    if not before.known or (before.current is None and before.tables):  # not Huddle's to migrate
        raise CliError(before.problem(safe_url(str(engine.url))) or "unknown schema")
    if before.at_head:
        print(f"the database is already at the newest schema ({before.head})")
        return 0
    upgrade_to_head(engine)
    print(f"migrated the database from schema {before.current or 'none'} to {before.head}")
    return 0


def cmd_seed(engine: Engine, args: argparse.Namespace) -> int:
    if not args.demo:
        raise CliError("say what to seed: `python -m db seed --demo`")
    from db.demo import DatabaseNotEmpty, seed_demo

    try:
        with TerminalProgress() as progress:
            summary = seed_demo(engine, leads=args.leads, seed=args.seed, reset=args.reset, progress=progress)
    except DatabaseNotEmpty as error:
        if args.if_empty:
            print("the database already holds data; leaving it as it is")
            return 0
        raise CliError(str(error)) from error
    print(summary.describe())
    return 0


def cmd_users_add(engine: Engine, args: argparse.Namespace) -> int:
    password = read_new_password()
    with write_session(engine) as session:
        team_id = get_or_create_team(session=session, name=args.team).id if args.team else None
        user = create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(
                username=args.username,
                name=args.name or args.username,
                email=args.email,
                role=Role(args.role),
                team_id=team_id,
                password=password,
            ),
        )
        print(f"added {user.username} ({user.role.value})")
    return 0


def cmd_users_list(engine: Engine, args: argparse.Namespace) -> int:
    with read_session(engine) as session:
        users = list_users(session=session, actor=OPERATOR, include_inactive=args.all)
        rows = [(u.username, u.name, u.role.value, "active" if u.active else "disabled") for u in users]
    width = max((len(r[0]) for r in rows), default=8)
    for username, name, role, state in rows:
        print(f"{username:<{width}}  {role:<13}  {state:<8}  {name}")
    if not rows:
        print("no users yet: add the first admin with `python -m db users add --role admin USERNAME`")
    return 0


def cmd_users_disable(engine: Engine, args: argparse.Namespace) -> int:
    with write_session(engine) as session:
        disable_user(session=session, actor=OPERATOR, username=args.username)
    print(f"disabled {args.username}")
    return 0


def cmd_users_set_password(engine: Engine, args: argparse.Namespace) -> int:
    password = read_new_password("New password")
    with write_session(engine) as session:
        set_password(session=session, actor=OPERATOR, username=args.username, password=password)
    print(f"password set for {args.username}")
    return 0


def cmd_kpis(engine: Engine, args: argparse.Namespace) -> int:
    from db.kpis import kpis_report

    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise CliError("--from is after --to")
    report = kpis_report(engine, start=args.date_from, end=args.date_to, by=args.by, source=args.source)
    print(json.dumps(report, indent=2 if args.pretty else None, default=str))
    return 0


def _print_import(result: ImportResult, report_path: Path | None) -> int:
    if result.ok:
        print(result.describe())
        return 0
    print(f"refused: {result.describe()}", file=sys.stderr)
    for line in result.report.lines(PROBLEMS_ON_SCREEN):  # grouped: one line per problem, with its rows
        print(f"  {line}", file=sys.stderr)
    if report_path is not None:
        report_path.write_text(result.report.to_csv(), encoding="utf-8")
        print(f"every problem is listed in {report_path}", file=sys.stderr)
    return 1


def _existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no file at {value}")
    return path


def _existing_folder(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"no folder at {value}")
    return path


def cmd_import(engine: Engine, args: argparse.Namespace) -> int:
    from db.importing.mapping import MappingError, parse_mapping
    from db.importing.run import RunOptions, import_csv, import_maven, import_olist

    with TerminalProgress() as progress:
        options = RunOptions(actor=OPERATOR, dry_run=args.dry_run, progress=progress)
        if args.kind == "olist":
            result = import_olist(engine, args.leads, args.deals, options=options)
        elif args.kind == "maven":
            result = import_maven(engine, args.dir, options=options)
        else:
            try:
                mapping = parse_mapping(args.mapping.read_text(encoding="utf-8"))
            except (MappingError, UnicodeDecodeError) as error:
                raise CliError(f"{args.mapping}: {error}") from error
            if args.source:
                try:
                    mapping = mapping.with_source(args.source)
                except MappingError as error:
                    raise CliError(str(error)) from error
            result = import_csv(engine, args.path, mapping, options=options)
    return _print_import(result, args.report)


def cmd_quotas_import(engine: Engine, args: argparse.Namespace) -> int:
    from db.quotas import QuotaFileError, read_quota_file, write_quotas

    try:
        rows = read_quota_file(args.path)
        with write_session(engine) as session:
            added, replaced = write_quotas(
                session=session, actor=OPERATOR, rows=rows, file_name=args.path.name
            )
    except QuotaFileError as error:
        for problem in error.problems[:PROBLEMS_ON_SCREEN]:
            print(problem, file=sys.stderr)
        raise CliError(f"{len(error.problems)} problem(s) in {args.path}; no quota was imported") from error
    print(f"quotas imported: {added} added, {replaced} replaced")
    return 0


TUNING_GOALS = ("volume", "committed", "wins")  # core.goals.Goal's values, without importing polars here


def _share_to_keep(value: str) -> float:
    """--keep: a share of won deals, more than 0 and at most 1."""
    try:
        share = float(value)
    except ValueError:
        share = math.nan
    if not 0 < share <= 1:  # NaN fails this too
        raise argparse.ArgumentTypeError(
            f"the share of won deals to keep is more than 0 and at most 1 (0.9 keeps 90%), not {value}"
        )
    return share


def cmd_tune(engine: Engine, args: argparse.Namespace) -> int:
    from core.goals import Goal
    from db.tuning import run_tuning, tuning_report

    try:
        result = run_tuning(
            engine,
            window_days=args.window_days,
            source_system=args.source,
            goal=Goal(args.goal) if args.goal else None,
            keep=args.keep,
        )
    except ValueError as error:
        raise CliError(str(error)) from error
    print(json.dumps(tuning_report(result), indent=2 if args.pretty else None, ensure_ascii=False))
    return 0


def _iso_week(value: str) -> str:
    from core.weekly import week_period

    try:
        week_period(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return value.strip()


def _writable_file(value: str) -> Path:
    path = Path(value)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {path.parent}")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; name the HTML file to write")
    return path


def cmd_report(engine: Engine, args: argparse.Namespace) -> int:
    from datetime import UTC

    from core.report import report_csvs
    from core.weekly import last_complete_week
    from core.weekly_report import report_sections
    from db import clock
    from db.criteria import activation_dates
    from db.report import actions_table, build_week, week_report_html

    now = clock.now().replace(tzinfo=None)
    week = args.week or last_complete_week(now.date())
    sync = build_week(engine, week, now=now)
    with read_session(engine) as session:
        actions, activations = actions_table(session, week), activation_dates(session)
    html = week_report_html(sync, actions, activations, made_at=now.replace(tzinfo=UTC))
    args.out.write_text(html, encoding="utf-8")
    print(f"weekly sync report for {week} written to {args.out} ({len(html.encode()) / 1e6:.1f} MB)")
    if args.csv is not None:
        args.csv.mkdir(parents=True, exist_ok=True)
        for name, data in report_csvs(report_sections(sync, actions, activations)).items():
            (args.csv / name).write_bytes(data)
        print(f"tables written as CSV to {args.csv}")
    return 0


def _on_sqlite(engine: Engine, verb: str, file: Path, work: Callable[[], BackupSummary]) -> BackupSummary:
    """Run a backup or restore of a SQLite database; for PostgreSQL, say which pg_ command does it."""
    from db.backup import BackupError, is_sqlite_engine, postgres_commands

    if not is_sqlite_engine(engine):
        raise CliError(postgres_commands(engine.url, dump_file=str(file)).explain(verb))
    try:
        return work()
    except BackupError as error:
        raise CliError(str(error)) from error


def cmd_backup(engine: Engine, args: argparse.Namespace) -> int:
    from db.backup import backup_sqlite

    summary = _on_sqlite(engine, "backup", args.out, lambda: backup_sqlite(engine, args.out))
    print(f"backed up to {summary.describe()}")
    return 0


def cmd_restore(engine: Engine, args: argparse.Namespace) -> int:
    from db.backup import restore_sqlite

    summary = _on_sqlite(
        engine, "restore", args.path, lambda: restore_sqlite(engine, args.path, force=args.force)
    )
    print(f"restored {args.path} into {summary.describe()}")
    return 0


def cmd_notify(engine: Engine, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from db import notify

    settings = get_settings()
    # Neither the SMTP password nor the webhook's URL (its path is a token) is ever logged.
    configure_logging(secrets=(settings.huddle_smtp_password, settings.huddle_chat_webhook_url))
    lease = timedelta(seconds=args.lease)
    if args.dry_run:
        enqueued, due = notify.dry_run(engine)
        print(f"would enqueue {enqueued} new messages; would send {len(due)} (nothing sent, nothing changed)")
        for message in due:
            print(f"  #{message.id} {message.channel.value} to {message.to}: {message.subject}")
        for channel, problem in notify.channel_problems(settings).items():
            print(f"{channel.value} is off: {problem}; its messages wait")
        return 0
    if args.serve:
        import signal
        import threading

        stop = threading.Event()
        # systemd stops a service with SIGTERM: finish the message in hand, mark it, then stop.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            notify.serve(
                engine, settings, interval=args.interval, lease=lease, batch_size=args.batch, stop=stop
            )
        print("stopped")
        return 0
    print(notify.run_once(engine, settings, lease=lease, batch_size=args.batch).describe())
    return 0


def _add_notify_parser(verbs: Any) -> None:
    notify = verbs.add_parser("notify", help="send the alerts that are due (email, chat) from the outbox")
    mode = notify.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="enqueue and deliver what is due, then stop (cron)")
    mode.add_argument("--serve", action="store_true", help="keep delivering, every --interval seconds")
    mode.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; send and change nothing"
    )
    notify.add_argument("--interval", type=_positive_float, default=60.0, help="seconds between runs (60)")
    notify.add_argument(
        "--lease", type=_positive_float, default=300.0, help="seconds a sender's claim on a batch lasts (300)"
    )
    notify.add_argument("--batch", type=_positive_int, default=50, help="messages claimed at a time (50)")
    notify.set_defaults(run=cmd_notify)


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("must be a number above zero")
    return number


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m db", description="Huddle's database tools.")
    verbs = parser.add_subparsers(dest="verb", required=True)

    verbs.add_parser("upgrade", help="migrate the database to the newest schema").set_defaults(
        run=cmd_upgrade, schema=SchemaUse.ANY
    )

    seed = verbs.add_parser("seed", help="fill an empty database with the demo company")
    seed.add_argument("--demo", action="store_true", help="make the demo company")
    seed.add_argument("--leads", type=_positive_int, default=20_000, help="how many leads (20000)")
    seed.add_argument("--seed", type=int, default=7, help="random seed: same seed, same data (7)")
    seed.add_argument("--reset", action="store_true", help="delete everything first")
    seed.add_argument("--if-empty", action="store_true", help="do nothing (and succeed) when data exists")
    seed.set_defaults(run=cmd_seed, schema=SchemaUse.EMPTY_OR_NEWEST)

    users = verbs.add_parser("users", help="add, list and disable people")
    user_verbs = users.add_subparsers(dest="user_verb", required=True)
    add = user_verbs.add_parser("add", help="add a user; the password is asked for (or read from stdin)")
    add.add_argument("username")
    add.add_argument("--name", help="full name (default: the username)")
    add.add_argument("--email")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.rep.value)
    add.add_argument("--team", help="team name (made when new)")
    add.set_defaults(run=cmd_users_add)
    listing = user_verbs.add_parser("list", help="list users")
    listing.add_argument("--all", action="store_true", help="include disabled and imported users")
    listing.set_defaults(run=cmd_users_list)
    disable = user_verbs.add_parser("disable", help="disable a user")
    disable.add_argument("username")
    disable.set_defaults(run=cmd_users_disable)
    set_pw = user_verbs.add_parser("set-password", help="set a password (asked for, or read from stdin)")
    set_pw.add_argument("username")
    set_pw.set_defaults(run=cmd_users_set_password)

    kpis = verbs.add_parser("kpis", help="print the headline numbers as JSON")
    kpis.add_argument("--json", action="store_true", required=True, help="print JSON (the only format)")
    kpis.add_argument("--from", dest="date_from", type=_iso_date, help="first day, YYYY-MM-DD")
    kpis.add_argument("--to", dest="date_to", type=_iso_date, help="last day (included), YYYY-MM-DD")
    kpis.add_argument("--by", choices=GROUPINGS, help="also break the numbers down by this")
    kpis.add_argument("--source", help="only the leads of this source system (demo, olist, maven, ...)")
    kpis.add_argument("--pretty", action="store_true", help="indent the JSON")
    kpis.set_defaults(run=cmd_kpis)
    _add_import_parser(verbs)
    tune = verbs.add_parser("tune", help="suggest targeting criteria from ratings and outcomes, backtested")
    tune.add_argument("--json", action="store_true", required=True, help="print JSON (the only format)")
    tune.add_argument(
        "--window-days",
        type=_positive_int,
        default=90,
        help="the newest days to test on, at most (90; fewer when they hold over half the judged leads)",
    )
    tune.add_argument("--source", help="only the leads of this source system (demo, olist, ...)")
    tune.add_argument(
        "--goal",
        choices=TUNING_GOALS,
        help="what the threshold pursues: the MQL volume, the SLA's committed MQLs, or won deals with the "
        "fewest MQLs (default: wins when no version is active or it passes 90%% of leads, else volume)",
    )
    tune.add_argument(
        "--keep",
        type=_share_to_keep,
        default=0.9,
        help="for the wins goal: the share of won deals (and revenue) to keep (0.9)",
    )
    tune.add_argument("--pretty", action="store_true", help="indent the JSON")
    tune.set_defaults(run=cmd_tune)
    quotas = verbs.add_parser("quotas", help="quotas per rep or team and month or quarter")
    quota_verbs = quotas.add_subparsers(dest="quota_verb", required=True)
    quota_import = quota_verbs.add_parser(
        "import", help="CSV with rep or team, period (2026-11 or 2026-Q4), amount: all rows or none"
    )
    quota_import.add_argument("path", type=_existing_file, help="the CSV file")
    quota_import.set_defaults(run=cmd_quotas_import)
    report = verbs.add_parser("report", help="the weekly sync of one week as one offline HTML file")
    report.add_argument(
        "--week", type=_iso_week, help="the ISO week, e.g. 2026-W47 (default: the last complete one)"
    )
    report.add_argument("--out", type=_writable_file, required=True, help="the HTML file to write")
    report.add_argument("--csv", type=Path, help="also write a CSV of every table into this folder")
    report.set_defaults(run=cmd_report)
    _add_backup_parsers(verbs)
    _add_notify_parser(verbs)
    return parser


def _add_backup_parsers(verbs: Any) -> None:
    backup = verbs.add_parser(
        "backup", help="copy the SQLite database to a new file, safe while the app runs (PostgreSQL: pg_dump)"
    )
    backup.add_argument("--out", type=Path, required=True, help="the backup file to write (must not exist)")
    backup.set_defaults(run=cmd_backup, schema=SchemaUse.EXISTING)
    restore = verbs.add_parser(
        "restore", help="replace the SQLite database with a backup of this schema (PostgreSQL: pg_restore)"
    )
    restore.add_argument("path", type=_existing_file, help="the backup file")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    restore.set_defaults(run=cmd_restore, schema=SchemaUse.ANY)


def _add_import_parser(verbs: Any) -> None:
    importing = verbs.add_parser("import", help="import a CRM export: all rows or, when any is invalid, none")
    kinds = importing.add_subparsers(dest="kind", required=True)
    olist = kinds.add_parser("olist", help="the Olist marketing funnel (leads + closed deals)")
    olist.add_argument(
        "--leads", type=_existing_file, required=True, help="the marketing qualified leads CSV"
    )
    olist.add_argument("--deals", type=_existing_file, required=True, help="the closed deals CSV")
    maven = kinds.add_parser("maven", help="the Maven CRM sales opportunities folder")
    maven.add_argument(
        "--dir", type=_existing_folder, required=True, help="folder with sales_pipeline.csv etc."
    )
    generic = kinds.add_parser("csv", help="any CSV export through a mapping file")
    generic.add_argument("path", type=_existing_file, help="the CSV file")
    generic.add_argument("--mapping", type=_existing_file, required=True, help="the mapping (TOML)")
    generic.add_argument("--source", help="import into this source system instead of the mapping's")
    for parser in (olist, maven, generic):
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--report", type=Path, help="write every problem found to this CSV file")
        parser.set_defaults(run=cmd_import)


def _missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names when it does not exist (opening it would make an empty one)."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return None if path.exists() else path


def _check_schema(engine: Engine, use: SchemaUse) -> None:
    """Migrate an empty database for `seed`; refuse, changing nothing, a schema a command cannot use."""
    if use in (SchemaUse.ANY, SchemaUse.EXISTING):
        return
    state = schema_state(engine)
    if use is SchemaUse.EMPTY_OR_NEWEST and state.empty:
        upgrade_to_head(engine)
        return
    problem = state.problem(safe_url(str(engine.url)))
    if problem is not None:
        raise CliError(problem)


def open_database(use: SchemaUse = SchemaUse.NEWEST) -> Engine:
    """The configured database, reachable and at a schema the command can use, or a one-line CliError.

    Only `upgrade` (and `seed`, on a database without tables) migrates: a `users list` or a `report`
    against a production database never changes its schema, nor makes a SQLite file that is not there."""
    url = get_settings().database_url
    missing = _missing_sqlite_file(url)
    if missing is not None and use in (SchemaUse.NEWEST, SchemaUse.EXISTING):
        raise CliError(f"there is no database at {missing}: make it with `{UPGRADE_COMMAND}`")
    engine = make_engine(url)
    try:
        if missing is None:  # connecting makes a missing SQLite file: the command's own work does that
            check_reachable(engine)
        _check_schema(engine, use)
    except DatabaseUnreachable as error:
        engine.dispose()
        raise CliError(str(error)) from error
    except BaseException:
        engine.dispose()
        raise
    return engine


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    run: Callable[[Engine, argparse.Namespace], int] = args.run
    try:
        engine = open_database(getattr(args, "schema", SchemaUse.NEWEST))
        try:
            return run(engine, args)
        finally:
            engine.dispose()
    except (CliError, UserError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
