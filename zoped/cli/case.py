"""``zoped import case FILE --school S`` and ``zoped export case --course KEY -o FILE``.

Thin wrappers over :mod:`zoped.services.case_import`. The import checks the whole package first
(the official schema of its CASE version, then the framework's rules); a broken package prints
one line per problem, located as a path into it (``CFItems[12].identifier``), and exits 2 with
nothing written. The summary lists every tolerated quirk. See docs/case.md.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer

from zoped.cli._common import database_session, fail
from zoped.cli.course import import_app
from zoped.cli.exports import export_app
from zoped.clock import SystemClock
from zoped.errors import Conflict, ZopedError
from zoped.interop.case import Quirk, load_package_file
from zoped.services.case_import import CaseImportPlan, export_case, import_case, preview_case_import


def quirk_lines(quirks: tuple[Quirk, ...]) -> list[str]:
    """The tolerated quirks: a count per kind, then each one."""
    if not quirks:
        return []
    counts = Counter(q.kind for q in quirks)
    lines = ["tolerated: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))]
    return lines + [f"  - {q}" for q in quirks]


def plan_lines(plan: CaseImportPlan) -> list[str]:
    """What an import would do, one line each."""
    p = plan.preview
    lines = [
        f"CASE {plan.framework.version} framework {plan.framework.document_id}: "
        f"{len(plan.course.framework)} competencies, {len(plan.framework.links)} links"
    ]
    if plan.unchanged:
        lines.append(f"course {p.course_id!r} of school {p.school_id!r} already is this framework")
    elif p.created:
        lines.append(f"new course {p.course_id!r} in school {p.school_id!r}")
    else:
        lines.append(
            f"updates course {p.course_id!r} of school {p.school_id!r}: "
            f"{p.count('added', 'competencies')} added, "
            f"{p.count('changed', 'competencies')} changed, "
            f"{p.count('removed', 'competencies')} removed"
        )
        for which, changes in (("removed", p.removed), ("changed", p.changed)):
            for c in changes:
                learners = f" ({c.learners} learners have evidence on it)" if c.learners else ""
                lines.append(f"  {which} {c.id}: {c.title}{learners}")
    return lines + quirk_lines(plan.quirks)


@import_app.command("case")
def import_case_command(
    file: Path = typer.Argument(..., help="The CASE CFPackage (JSON).", show_default=False),
    school: str = typer.Option(
        ..., "--school", help="The id of the school the course belongs to.", show_default=False
    ),
    code: str | None = typer.Option(
        None, "--code", help="The new course's code (default: from the framework's title)."
    ),
    version: str | None = typer.Option(
        None, "--version", help="Read as CASE 1.0 or 1.1 (default: what the package says)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what the import would do."),
    yes: bool = typer.Option(
        False, "--yes", help="Apply a re-import that changes or removes competencies."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: the ZOPED_DATABASE_URL setting)."
    ),
) -> None:
    """Import a CASE 1.0 or 1.1 framework as a course (or update the course it became): all or
    nothing, and importing the same package again changes nothing."""
    try:
        package = load_package_file(file, version=version)
        with database_session(db) as session:
            plan = preview_case_import(session, package=package, school_id=school, code=code)
            for line in plan_lines(plan):
                typer.echo(line)
            if dry_run:
                typer.echo("dry run: nothing written")
                return
            if plan.unchanged:
                typer.echo("nothing changed: nothing written")
                return
            if plan.preview.needs_confirmation and not yes:
                raise Conflict(
                    "this re-import changes or removes competencies: nothing written; run "
                    "again with --yes to apply it"
                )
            summary = import_case(
                session,
                package=package,
                school_id=school,
                code=code,
                confirm=yes,
                now=SystemClock().now(),
            )
    except ZopedError as error:
        fail(error)
    typer.echo(
        f"{'created' if summary.created else 'updated'} course {summary.key!r}: "
        f"{summary.competencies} competencies, {summary.links} links"
    )


@export_app.command("case")
def export_case_command(
    course: str = typer.Option(
        ...,
        "--course",
        help="The course's key (as zoped course lists show it).",
        show_default=False,
    ),
    output: Path = typer.Option(
        ..., "-o", "--output", help="The file to write (JSON).", show_default=False
    ),
    version: str = typer.Option("1.1", "--version", help="The CASE version: 1.0 or 1.1."),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: the ZOPED_DATABASE_URL setting)."
    ),
) -> None:
    """Write a course's competency framework as a CASE CFPackage (checked against the official
    schema of the version)."""
    try:
        with database_session(db) as session:
            package, left_out = export_case(session, course_key=course, version=version)
    except ZopedError as error:
        fail(error)
    try:
        output.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as error:
        typer.echo(f"error: cannot write {output}: {error}", err=True)
        raise typer.Exit(2) from None
    for line in left_out:
        typer.echo(f"left out: {line}")
    typer.echo(
        f"wrote {output}: CASE {version}, {len(package['CFItems'])} items, "
        f"{len(package['CFAssociations'])} associations"
    )


def register(app: typer.Typer) -> None:
    """The commands are on the ``import`` and ``export`` groups (registered elsewhere)."""
    del app
