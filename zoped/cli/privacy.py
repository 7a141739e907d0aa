"""``zoped privacy erase-due``: carry out the erasure requests whose grace period is over."""

from __future__ import annotations

import typer

from zoped.clock import SystemClock
from zoped.services.erasure import erase_due
from zoped.services.system import open_database
from zoped.settings import Settings

DB_HELP = "Database URL (else ZOPED_DATABASE_URL)."


def register(app: typer.Typer) -> None:
    """Add the ``privacy`` group."""
    group = typer.Typer(help="Learners' data: erasure requests.", no_args_is_help=True)

    @group.command("erase-due")
    def erase_due_command(
        url: str | None = typer.Option(None, "--database", "--db", help=DB_HELP),
    ) -> None:
        """Erase every learner whose erasure request is due (for cron; the running app also
        does it hourly). Prints one line per learner erased; exits 1 when an erasure failed
        (it stays pending and is tried again next time)."""
        settings = Settings() if url is None else Settings(database_url=url)
        database = open_database(settings.database_url)
        try:
            with database.session() as session:
                result = erase_due(session, now=SystemClock().now())
        finally:
            database.dispose()
        for done in result.done:
            rows = sum(done.rows_by_table.values())
            typer.echo(f"erased: request {done.request_id}, now {done.pseudonym} ({rows} rows)")
        count = len(result.done)
        typer.echo(f"{count} learner{'s' if count != 1 else ''} erased")
        if not result.checkpointed:
            typer.echo("note: the SQLite WAL checkpoint did not complete (a reader was busy)")
        if result.failed:
            for request_id in result.failed:
                typer.echo(f"failed: request {request_id} (see the log; it stays pending)")
            raise typer.Exit(1)

    app.add_typer(group, name="privacy")
