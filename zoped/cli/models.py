"""CLI commands for the platform's learner models: ``zoped models refit``."""

from __future__ import annotations

from collections import Counter

import typer
from rich.console import Console
from rich.table import Table

from zoped.clock import SystemClock
from zoped.services.courses import all_course_ids
from zoped.services.refit import apply_refit, preview_refit
from zoped.services.system import open_database
from zoped.settings import Settings

console = Console()


def register(app: typer.Typer) -> None:
    """Add the ``models`` group."""
    models_app = typer.Typer(help="Fit the platform's learner models.", no_args_is_help=True)

    @models_app.command()
    def refit(
        url: str | None = typer.Option(
            None, "--db", help="Database URL (else ZOPED_DATABASE_URL)."
        ),
        course: str | None = typer.Option(
            None, help="Only this course, by its key (default: every course of every school)."
        ),
        apply: bool = typer.Option(
            False, "--apply", help="Store the refitted models (default: only report)."
        ),
    ) -> None:
        """Refit the models on the event log and report every level that would change."""
        settings = Settings() if url is None else Settings(database_url=url)
        database = open_database(settings.database_url)
        now = SystemClock().now()
        try:
            with database.session() as session:
                course_ids = [course] if course else all_course_ids(session)
            for course_id in course_ids:
                with database.session() as session:
                    preview = preview_refit(session, course_id=course_id, now=now)
                if not preview.fitted:
                    console.print(f"{course_id}: {preview.note}")
                    continue
                console.print(
                    f"[bold]{course_id}[/]: {preview.n_answers} answers; "
                    f"{preview.learners_affected} of {preview.n_learners} learners would see a "
                    f"level change ({preview.n_raised} up, {preview.n_lowered} down, "
                    f"{preview.n_lost_mastery} losing mastered)",
                    highlight=False,
                )
                moves = Counter((c.before.name, c.after.name) for c in preview.changes)
                if moves:
                    table = Table("from", "to", "competencies", title="Level changes")
                    for (before, after), count in moves.most_common():
                        table.add_row(before.lower(), after.lower(), str(count))
                    console.print(table)
                if apply:
                    with database.session() as session:
                        apply_refit(session, preview=preview, now=now)
                    console.print(f"{course_id}: refitted models stored")
            if not apply:
                console.print("Nothing stored. Run again with --apply to store the refit.")
        finally:
            database.dispose()

    app.add_typer(models_app, name="models")
