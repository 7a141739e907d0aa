"""CLI commands that run the web app: ``zoped demo`` and ``zoped serve``."""

from __future__ import annotations

import secrets
import webbrowser
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from zoped.clock import SystemClock
from zoped.services import demo as demo_services
from zoped.services.system import open_database
from zoped.settings import InsecureSettings, Settings

console = Console()


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from zoped.app import create_app

    try:
        app = create_app(settings)
    except InsecureSettings as error:
        console.print(f"[bold red]Refusing to start:[/] {error}")
        raise typer.Exit(2) from None
    from zoped.services.auth import needs_setup, setup_code

    with app.state.db.session() as session:
        if needs_setup(session):
            console.print(
                f"No school yet: open http://{host}:{port}/setup with the setup code "
                f"[bold]{setup_code(settings.secret_key)}[/]"
            )
    uvicorn.run(app, host=host, port=port, log_level="info")


def demo_settings(db: Path) -> Settings:
    """The demo's settings: its SQLite file, and a signing key of its own for this run unless
    ZOPED_SECRET_KEY gives a real one (sessions then end when the demo stops)."""
    settings = Settings(database_url=f"sqlite:///{db}", demo=True)
    if settings.has_real_secret:
        return settings
    return settings.model_copy(update={"secret_key": secrets.token_urlsafe(48)})


def register(app: typer.Typer) -> None:
    """Add ``demo`` and ``serve``."""

    @app.command()
    def demo(
        db: Path = typer.Option(Path("zoped-demo.db"), help="SQLite file for the demo school."),
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        seed: int = typer.Option(7, help="Seed of the demo school's simulated histories."),
        no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser."),
    ) -> None:
        """Create (if needed) and serve the demo school on an embedded SQLite database."""
        settings = demo_settings(db)
        database = open_database(settings.database_url)
        try:
            with database.session() as session:
                empty = demo_services.is_empty(session)
            if empty:
                with Progress(console=console, transient=True) as progress:
                    task = progress.add_task("Seeding the demo school", total=None)

                    def step(done: int, total: int) -> None:
                        progress.update(task, completed=done, total=total)

                    with database.session() as session:
                        demo_services.seed_demo_school(
                            session, seed=seed, now=SystemClock().now(), progress=step
                        )
            with database.session() as session:
                overview = demo_services.school_overview(session, include_signins=True)
        finally:
            database.dispose()
        url = f"http://{host}:{port}/"
        console.print(f"[bold]{overview.school_name}[/] is ready at [link={url}]{url}[/link]")
        table = Table("role", "name", "username", "password", title="Demo sign-ins")
        for signin in overview.signins[:8]:
            table.add_row(signin.role, signin.display_name, signin.username, signin.password)
        console.print(table)
        if not no_browser:
            webbrowser.open(url)
        _serve(settings, host, port)

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
    ) -> None:
        """Serve the web app on the database of ZOPED_DATABASE_URL (ZOPED_SECRET_KEY must be
        set to a random value of 32 characters or more)."""
        _serve(Settings(), host, port)
