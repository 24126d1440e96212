"""`grantmatch`: the command line handle on everything the pages do not do."""

from __future__ import annotations

import getpass
import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import click

from core import db, schema
from core.config import Settings
from core.db import session_scope
from core.errors import ConfigError, Conflict, InvalidInput
from core.models import MatchRun, Role, utcnow
from core.services import accounts, demo, matching
from core.services import runs as run_service

F = TypeVar("F", bound=Callable[..., Any])


def _settings() -> Settings:
    return cast(Settings, click.get_current_context().obj)


def _connected(command: F) -> F:
    """Bind the database and stop with one line if it cannot be reached."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        settings = _settings()
        engine = db.configure(settings.database_url)
        db.check_connection(engine)
        return command(*args, **kwargs)

    return cast(F, wrapped)


def _require_schema(settings: Settings) -> None:
    if not schema.is_current(db.get_engine(), settings.database_url):
        raise click.ClickException("the database is not migrated: run `grantmatch migrate` first")


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Japan–Canada grant partner matching service."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Alembic narrates every connection it inspects; keep only what it warns about.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx.obj = Settings.from_env()


@cli.command()
@_connected
def migrate() -> None:
    """Apply database migrations up to the newest. Safe to run twice."""
    settings = _settings()
    schema.upgrade(settings.database_url)
    click.echo("database is up to date")


@cli.command("seed-demo")
@_connected
def seed_demo() -> None:
    """Create the demo world (once) and run a full rematch."""
    settings = _settings()
    _require_schema(settings)
    with session_scope() as session:
        created = demo.seed_demo(session)
    if created == 0:
        click.echo("demo data already present; nothing to do")
    else:
        click.echo(f"created {created} demo profiles; matching ...")
        with session_scope() as session:
            run = run_service.run_full_rematch(session, top_k=settings.match_top_k)
            click.echo(f"run {run.id} is live with {run.pair_count} pairs")
    _print_demo_logins()


def _run_state(run_id: int) -> str:
    with session_scope() as session:
        run = session.get(MatchRun, run_id)
        return "it is live" if run is not None and run.is_live else "it is not live yet"


def _print_demo_logins() -> None:
    with session_scope() as session:
        if not demo.is_seeded(session):
            return
    click.echo(f"Demo logins (password: {demo.DEMO_PASSWORD}):")
    for account in demo.DEMO_ACCOUNTS:
        click.echo(f"  {account.email:40s} {account.description}")


@cli.command()
@click.option("--full", is_flag=True, help="Refit and rematch every profile.")
@click.option(
    "--resume",
    is_flag=True,
    help="Send again the unfinished blocks of the full rematch in progress (after the "
    "broker lost its messages, or the process running it stopped).",
)
@_connected
def rematch(full: bool, resume: bool) -> None:
    """Process pending rematch requests, or with --full run a full rematch."""
    settings = _settings()
    _require_schema(settings)
    import workers
    from workers import tasks
    from workers.dispatch import dispatch_pending

    workers.configure(settings)
    if settings.uses_broker:
        workers.create_celery(settings)
    if resume:
        resumed = tasks.resume_stalled_run(quiet_seconds=0)
        if resumed is None:
            click.echo("no full rematch in progress")
        elif settings.uses_broker:
            click.echo(f"run {resumed}: its unfinished blocks are queued again")
        else:
            click.echo(f"run {resumed} resumed; {_run_state(resumed)}")
        return
    if full:
        if settings.uses_broker:
            tasks.full_rematch.apply_async(retry=False)
            click.echo("full rematch queued")
        else:
            run_id = tasks.full_rematch()
            dispatch_pending(settings)  # edits made during the run apply to the new one
            click.echo(
                f"run {run_id} is live" if run_id else "a full rematch is already in progress"
            )
        return
    handled = dispatch_pending(settings)
    click.echo(f"{handled} rematch requests {'sent' if settings.uses_broker else 'processed'}")


@cli.command()
@click.option("--limit", default=10, show_default=True)
@_connected
def runs(limit: int) -> None:
    """List the latest matching runs."""
    _require_schema(_settings())
    now = utcnow()
    with session_scope() as session:
        for run in matching.latest_runs(session, limit=limit):
            if run.duration_seconds is not None:
                timing = f"took={run.duration_seconds:.1f}s"
            elif run.started_at is not None:  # still running: how long so far
                timing = f"elapsed={(now - run.started_at).total_seconds():.1f}s"
            else:
                timing = "took=-"
            live = " live" if run.is_live else ""
            blocks = f" blocks={run.blocks_done}/{run.blocks_total}" if run.blocks_total else ""
            click.echo(
                f"{run.id:5d} {run.kind.value:11s} {run.status.value:10s}{live:5s} "
                f"pairs={run.pair_count if run.pair_count is not None else '-'} {timing}"
                f"{blocks}"
            )


@cli.command("prune-runs")
@_connected
def prune_runs() -> None:
    """Delete finished runs older than GRANTMATCH_RUN_RETENTION_DAYS (reviewed ones stay)."""
    settings = _settings()
    _require_schema(settings)
    with session_scope() as session:
        removed = run_service.prune_runs(
            session, older_than=timedelta(days=settings.run_retention_days)
        )
    click.echo(f"{removed} old runs removed")


@cli.command("create-user")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.REGISTRANT.value)
@click.option("--name", default="")
@_connected
def create_user(email: str, role: str, name: str) -> None:
    """Create an account; the password is asked for (or read from stdin when piped)."""
    _require_schema(_settings())
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        with session_scope() as session:
            user = accounts.create_user(
                session,
                email=email,
                password=password,
                role=Role(role),
                display_name=name,
                verified=True,
            )
            click.echo(f"created {user.role.value} {user.email} (id {user.id})")
    except InvalidInput as error:
        raise click.ClickException(
            "; ".join(f"{k}: {v}" for k, v in error.errors.items())
        ) from None
    except Conflict as error:
        raise click.ClickException(str(error)) from None


@cli.command("create-token")
@click.option("--email", required=True, help="The account the token acts as.")
@click.option("--scopes", default="read", show_default=True, help="Comma separated.")
@click.option("--name", default="command line", show_default=True)
@click.option("--expires-days", type=click.Choice(["30", "90", "365", "never"]), default="90")
@_connected
def create_token(email: str, scopes: str, name: str, expires_days: str) -> None:
    """Create a personal access token for the API and print its secret (once) on stdout."""
    from core.errors import NotFound
    from core.services import tokens

    _require_schema(_settings())
    try:
        with session_scope() as session:
            new = tokens.create_token(
                session,
                user=tokens.account_for(session, email=email),
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                expires_in_days=None if expires_days == "never" else int(expires_days),
            )
            secret = new.secret
    except InvalidInput as error:
        raise click.ClickException(
            "; ".join(f"{k}: {v}" for k, v in error.errors.items())
        ) from None
    except NotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(secret)


@cli.command(
    "match",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def match(arguments: tuple[str, ...]) -> None:
    """Score two JSON Lines files of documents without any database (see --help)."""
    from matcher.cli import main as match_main

    sys.exit(match_main(list(arguments)))


@cli.command()
@click.option("--host", default=None, help="Defaults to GRANTMATCH_HOST (127.0.0.1).")
@click.option("--port", default=None, type=int, help="Defaults to GRANTMATCH_PORT (5000).")
@_connected
def serve(host: str | None, port: int | None) -> None:
    """Serve the web app (development server; use gunicorn in production)."""
    from werkzeug.serving import run_simple

    from web import create_app

    settings = _settings()
    _require_schema(settings)
    app = create_app(settings)
    host, port = host or settings.host, port or settings.port
    _print_demo_logins()
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    run_simple(host, port, app, use_reloader=False, threaded=True)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: configuration errors print one line and exit with status 2."""
    try:
        cli.main(args=argv, prog_name="grantmatch", standalone_mode=False)
    except ConfigError as error:
        click.echo(f"grantmatch: configuration error: {error}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
