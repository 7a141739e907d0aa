"""``zoped replay``: fold learners' evidence from scratch into their stored folds."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import Progress

from zoped.clock import SystemClock
from zoped.services.pathways import refold_learners
from zoped.services.system import open_database
from zoped.settings import Settings

console = Console()


def register(app: typer.Typer) -> None:
    """Add ``replay``."""

    @app.command()
    def replay(
        learner: list[str] = typer.Option(
            [], "--learner", help="Only this learner (repeatable; default: every learner)."
        ),
        course: str | None = typer.Option(
            None, help="The course, by its key (default: each course of each learner's classes)."
        ),
        batch: int = typer.Option(200, min=1, help="Learners per transaction."),
        url: str | None = typer.Option(
            None, "--db", help="Database URL (else ZOPED_DATABASE_URL)."
        ),
    ) -> None:
        """Rebuild learners' stored folds from the event log (after a refit or a course
        import; otherwise each stale fold is rebuilt on its learner's next request)."""
        settings = Settings() if url is None else Settings(database_url=url)
        database = open_database(settings.database_url)
        try:
            with Progress(console=console, transient=True) as bar, database.session() as session:
                task = bar.add_task("Folding learners' evidence", total=None)

                def step(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                count = refold_learners(
                    session,
                    now=SystemClock().now(),
                    learner_ids=learner or None,
                    course_id=course,
                    batch=batch,
                    progress=step,
                )
        finally:
            database.dispose()
        console.print(f"folded {count} learner{'s' if count != 1 else ''}")
