"""CLI commands for the database: ``zoped db upgrade``."""

from __future__ import annotations

import typer
from rich.console import Console

from zoped.services.system import open_database
from zoped.settings import Settings

console = Console()


def register(app: typer.Typer) -> None:
    """Add the ``db`` group."""
    db_app = typer.Typer(help="Manage the database.", no_args_is_help=True)

    @db_app.command()
    def upgrade(
        url: str | None = typer.Option(
            None, "--db", help="Database URL (else ZOPED_DATABASE_URL)."
        ),
    ) -> None:
        """Create the database if needed and bring its schema to the newest migration."""
        settings = Settings() if url is None else Settings(database_url=url)
        open_database(settings.database_url).dispose()
        console.print("database is up to date")

    app.add_typer(db_app, name="db")
