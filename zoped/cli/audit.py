"""CLI commands for the audit log: ``zoped audit prune``."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from zoped.clock import SystemClock
from zoped.errors import InvalidInput, Problem
from zoped.services.audit import prune_audit
from zoped.services.system import open_database
from zoped.settings import Settings

DB_HELP = "Database URL (else ZOPED_DATABASE_URL)."


def register(app: typer.Typer) -> None:
    """Add the ``audit`` group."""
    group = typer.Typer(help="Look after the audit log.", no_args_is_help=True)

    @group.command()
    def prune(
        url: str | None = typer.Option(None, "--db", "--database", help=DB_HELP),
    ) -> None:
        """Delete audit entries older than ZOPED_AUDIT_RETENTION_DAYS (0 keeps them forever)
        and record how many went. Run it daily, from cron for example."""
        try:
            settings = Settings() if url is None else Settings(database_url=url)
        except ValidationError as error:
            problems = [
                Problem(".".join(str(part) for part in e["loc"]), e["msg"]) for e in error.errors()
            ]
            raise InvalidInput("invalid settings", problems) from None
        days = settings.audit_retention_days
        if days == 0:
            typer.echo("audit retention is 0 (keep forever): nothing pruned")
            return
        database = open_database(settings.database_url)
        try:
            with database.session() as session:
                done = prune_audit(session, retention_days=days, now=SystemClock().now())
        finally:
            database.dispose()
        before = done.cutoff.isoformat(timespec="seconds") if done.cutoff else "-"
        entries = "entry" if done.pruned == 1 else "entries"
        typer.echo(f"pruned {done.pruned} audit {entries} older than {days} days (before {before})")

    app.add_typer(group, name="audit")
