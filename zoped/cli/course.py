"""CLI commands for course files: ``zoped validate course FILE`` and ``zoped import course FILE``.

Both read the whole file and check everything first (:func:`load_course_file`); an invalid
file raises :class:`~zoped.errors.InvalidInput`, which :func:`zoped.cli.main` prints with every
problem and exit code 2. The import writes nothing unless the whole file is valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from zoped.clock import SystemClock
from zoped.domain.course import Course
from zoped.errors import InvalidInput, ZopedError
from zoped.interop.course_file import load_course_file
from zoped.services.courses import import_course as import_course_service
from zoped.services.system import open_database
from zoped.settings import Settings

validate_app = typer.Typer(help="Check files without changing anything.", no_args_is_help=True)
import_app = typer.Typer(help="Import files into a zoped database.", no_args_is_help=True)


def summary(course: Course) -> str:
    """One line counting what a valid course holds."""
    return (
        f"{len(course.framework)} competencies, {len(course.activities)} activities, "
        f"{len(course.items)} items, {len(course.rubrics)} rubrics"
    )


def _fail(error: ZopedError) -> NoReturn:
    """Print a zoped error like :func:`zoped.cli.main` does and exit 2.

    Done here too because Typer's own runner (used by tests and by ``python -m``) does not go
    through ``main``; the output is the same either way.
    """
    if isinstance(error, InvalidInput):
        typer.echo(f"error: {error.message}", err=True)
        for problem in error.problems:
            typer.echo(f"  - {problem}", err=True)
    else:
        typer.echo(f"error: {error}", err=True)
    raise typer.Exit(2)


@validate_app.command("course")
def validate_course(
    file: Path = typer.Argument(..., help="The course file (YAML or JSON).", show_default=False),
) -> None:
    """Check a course file: the schema and every rule. Prints every problem with its location."""
    try:
        course = load_course_file(file)
    except ZopedError as error:
        _fail(error)
    typer.echo(f"ok: {summary(course)}")


@import_app.command("course")
def import_course(
    file: Path = typer.Argument(..., help="The course file (YAML or JSON).", show_default=False),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: the ZOPED_DATABASE_URL setting)."
    ),
) -> None:
    """Import a course file. Checks the whole file first; writes nothing unless it is valid."""
    try:
        course = load_course_file(file)
        database = open_database(
            Settings(database_url=db).database_url if db else Settings().database_url
        )
        try:
            with database.session() as session:
                # The service owns the transaction: it commits only once every row is written.
                result = import_course_service(session, course=course, now=SystemClock().now())
        finally:
            database.dispose()
    except ZopedError as error:
        _fail(error)
    verb = "imported" if result.created else "replaced"
    typer.echo(f"{verb} course {course.id!r}: {summary(course)}")


def register(app: typer.Typer) -> None:
    """Add the ``validate`` and ``import`` command groups, each with a ``course`` command."""
    app.add_typer(validate_app, name="validate")
    app.add_typer(import_app, name="import")
