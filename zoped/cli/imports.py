"""``zoped import oneroster DIR_OR_ZIP``: import a OneRoster 1.2 CSV bundle into a school; and
``zoped import qti FILE --course CODE`` / ``zoped export qti --course CODE -o FILE.zip`` for QTI
items (:mod:`zoped.services.qti_import`, docs/qti.md).

A thin wrapper over :func:`zoped.services.oneroster.import_oneroster`, run by the operator (the
system actor). The whole bundle is checked first; a broken one prints one line per problem
(``users.csv line 7 column givenName: ...``) and exits 2 with nothing written. The summary
prints as a small table, then the warnings.
"""

from __future__ import annotations

from pathlib import Path

import typer

from zoped.cli._common import database_session, fail
from zoped.cli.course import import_app
from zoped.cli.exports import export_app
from zoped.clock import SystemClock
from zoped.errors import ZopedError
from zoped.services.oneroster import (
    KIND_LABELS,
    OUTCOMES,
    RosterImportSummary,
    import_oneroster,
)
from zoped.services.qti_import import QtiImportSummary, export_qti, import_qti


def summary_table(summary: RosterImportSummary) -> list[str]:
    """The summary as lines of text: a heading, a table of counts and the warnings."""
    verb = "would import" if summary.dry_run else "imported"
    school = f"new school {summary.school_id}" if summary.school_created else summary.school_id
    modes = ", ".join(f"{kind} {mode}" for kind, mode in summary.modes.items())
    lines = [f"{verb} OneRoster {summary.oneroster_version} into {school} ({modes})"]
    width = max((len(KIND_LABELS.get(k, k)) for k in summary.counts), default=5)
    lines.append(" ".join([" " * width, *(f"{c:>11}" for c in OUTCOMES)]))
    for kind, counts in summary.counts.items():
        values = (getattr(counts, c) for c in OUTCOMES)
        lines.append(
            " ".join([f"{KIND_LABELS.get(kind, kind):<{width}}", *(f"{v:>11}" for v in values)])
        )
    if summary.dry_run:
        lines.append("dry run: nothing was written")
    elif not summary.changed:
        lines.append("nothing changed")
    lines += [f"warning: {w}" for w in summary.warnings]
    return lines


def qti_summary(summary: QtiImportSummary) -> list[str]:
    """A QTI import's summary as lines: what was added, updated and left as it was."""
    verb = "would import" if summary.dry_run else "imported"
    lines = [
        f"{verb} into course {summary.course_key} of school {summary.school_id}: "
        f"{len(summary.added)} added, {len(summary.updated)} updated, "
        f"{summary.unchanged} unchanged"
    ]
    lines += [f"  added {i}" for i in summary.added] + [f"  updated {i}" for i in summary.updated]
    if summary.dry_run:
        lines.append("dry run: nothing was written")
    elif not summary.changed:
        lines.append("nothing changed")
    lines += [f"warning: {w}" for w in summary.warnings]
    return lines


def register(app: typer.Typer) -> None:
    """Add ``oneroster`` to the ``import`` group (which :mod:`zoped.cli.course` adds to ``app``)."""
    del app

    @import_app.command("oneroster")
    def import_oneroster_command(
        source: Path = typer.Argument(
            ...,
            help="The bundle: a folder holding manifest.csv and the CSV files, or a zip of them.",
            metavar="DIR_OR_ZIP",
            show_default=False,
        ),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Check everything and count the changes; write nothing."
        ),
        school: str | None = typer.Option(
            None,
            "--school",
            help="The school to import into (else the school made from the bundle's org of "
            "type school, created on the first import).",
        ),
        url: str | None = typer.Option(
            None, "--db", "--database", help="Database URL (else ZOPED_DATABASE_URL)."
        ),
    ) -> None:
        """Import a OneRoster 1.2 CSV bundle (bulk or delta): all or nothing, and importing the
        same bundle again changes nothing."""
        try:
            with database_session(url) as session:
                summary = import_oneroster(
                    session,
                    actor=None,
                    bundle_source=source,
                    school_id=school,
                    dry_run=dry_run,
                    now=SystemClock().now(),
                )
        except ZopedError as error:
            fail(error)
        for line in summary_table(summary):
            typer.echo(line)

    @import_app.command("qti")
    def import_qti_command(
        source: Path = typer.Argument(
            ...,
            help="A QTI 3.0 or 2.1/2.2 item XML file, or a content package (zip with "
            "imsmanifest.xml).",
            metavar="FILE",
            show_default=False,
        ),
        course: str = typer.Option(
            ..., "--course", help="The course the items go to (its code).", show_default=False
        ),
        school: str | None = typer.Option(
            None, "--school", help="The course's school (needed when several have the code)."
        ),
        mapping: Path | None = typer.Option(
            None,
            "--mapping",
            help="A CSV file of 'item identifier, competency id' rows (overrides metadata).",
        ),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Check everything and count the changes; write nothing."
        ),
        yes: bool = typer.Option(
            False, "--yes", help="Apply an import that changes items already in the course."
        ),
        url: str | None = typer.Option(
            None, "--db", "--database", help="Database URL (else ZOPED_DATABASE_URL)."
        ),
    ) -> None:
        """Import QTI items into a course: all or nothing, matched by item identifier, so
        importing the same file again changes nothing."""
        try:
            with database_session(url) as session:
                summary = import_qti(
                    session,
                    source=source,
                    course_code=course,
                    school_id=school,
                    mapping=mapping,
                    confirm=yes,
                    dry_run=dry_run,
                    now=SystemClock().now(),
                )
        except ZopedError as error:
            fail(error)
        for line in qti_summary(summary):
            typer.echo(line)

    @export_app.command("qti")
    def export_qti_command(
        course: str = typer.Option(
            ..., "--course", help="The course whose items to export.", show_default=False
        ),
        output: Path = typer.Option(
            ..., "-o", "--output", help="The package to write (a .zip).", show_default=False
        ),
        school: str | None = typer.Option(
            None, "--school", help="The course's school (needed when several have the code)."
        ),
        url: str | None = typer.Option(
            None, "--db", "--database", help="Database URL (else ZOPED_DATABASE_URL)."
        ),
    ) -> None:
        """Write a course's items as a QTI 3.0 content package that imports back to the same
        items."""
        try:
            with database_session(url) as session:
                data = export_qti(
                    session, course_code=course, school_id=school, now=SystemClock().now()
                )
        except ZopedError as error:
            fail(error)
        output.write_bytes(data)
        typer.echo(f"wrote {output} ({len(data):,} bytes)")
