"""CLI commands for course files: ``zoped validate course FILE`` and
``zoped import course FILE --school SCHOOL [--dry-run] [--yes]``.

Both read the whole file and check everything first (:func:`load_course_file`); an invalid
file raises :class:`~zoped.errors.InvalidInput`, which :func:`zoped.cli.main` prints with every
problem and exit code 2. The import writes nothing unless the whole file is valid.
"""

from __future__ import annotations

from pathlib import Path

import typer

from zoped.cli._common import database_session, fail
from zoped.clock import SystemClock
from zoped.domain.course import Course
from zoped.errors import Conflict, ZopedError
from zoped.interop.course_file import load_course_file
from zoped.services.courses import ImportPreview, preview_course_import
from zoped.services.courses import import_course as import_course_service

validate_app = typer.Typer(help="Check files without changing anything.", no_args_is_help=True)
import_app = typer.Typer(help="Import files into a zoped database.", no_args_is_help=True)


def summary(course: Course) -> str:
    """One line counting what a valid course holds."""
    return (
        f"{len(course.framework)} competencies, {len(course.activities)} activities, "
        f"{len(course.items)} items, {len(course.rubrics)} rubrics"
    )


@validate_app.command("course")
def validate_course(
    file: Path = typer.Argument(..., help="The course file (YAML or JSON).", show_default=False),
) -> None:
    """Check a course file: the schema and every rule. Prints every problem with its location."""
    try:
        course = load_course_file(file)
    except ZopedError as error:
        fail(error)
    typer.echo(f"ok: {summary(course)}")


def _describe(preview: ImportPreview) -> list[str]:
    """What an import would do, one line each: the counts, then each removed or changed
    competency, activity, item or rubric with the learners who have evidence on it."""
    if preview.created:
        return [f"new course {preview.course_id!r} in school {preview.school_id!r}"]
    lines = [
        f"replaces course {preview.course_id!r} of school {preview.school_id!r}: "
        f"{len(preview.added)} added, {len(preview.changed)} changed, "
        f"{len(preview.removed)} removed"
    ]
    for which, changes in (("removed", preview.removed), ("changed", preview.changed)):
        for c in changes:
            learners = f" ({c.learners} learners have evidence on it)" if c.learners else ""
            lines.append(
                f"  {which} {c.kind[:-1] if c.kind != 'activities' else 'activity'} "
                f"{c.id}: {c.title}{learners}"
            )
    return lines


@import_app.command("course")
def import_course(
    file: Path = typer.Argument(..., help="The course file (YAML or JSON).", show_default=False),
    school: str = typer.Option(
        ..., "--school", help="The id of the school the course belongs to.", show_default=False
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only say what would be added, changed and removed."
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Apply a re-import that removes or changes content."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: the ZOPED_DATABASE_URL setting)."
    ),
) -> None:
    """Import a course file into a school. Checks the whole file first; writes nothing unless it
    is valid. A re-import that removes or changes content is only applied with --yes."""
    try:
        course = load_course_file(file)
        with database_session(db) as session:
            preview = preview_course_import(session, course=course, school_id=school)
            for line in _describe(preview):
                typer.echo(line)
            if dry_run:
                typer.echo("dry run: nothing written")
                return
            if preview.needs_confirmation and not yes:
                raise Conflict(
                    "this re-import removes or changes content: nothing written; run again "
                    "with --yes to apply it"
                )
            # The service owns the transaction: it commits only once every row is written.
            result = import_course_service(
                session,
                course=course,
                now=SystemClock().now(),
                school_id=school,
                confirm=yes,
            )
    except ZopedError as error:
        fail(error)
    verb = "imported" if result.created else "replaced"
    typer.echo(f"{verb} course {course.id!r} (stored as {result.key!r}): {summary(course)}")


def register(app: typer.Typer) -> None:
    """Add the ``validate`` and ``import`` command groups, each with a ``course`` command."""
    app.add_typer(validate_app, name="validate")
    app.add_typer(import_app, name="import")
