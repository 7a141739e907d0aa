"""CLI commands for schools and their people: ``zoped school ...`` and ``zoped users ...``.

Thin wrappers over :mod:`zoped.services.roster` and :mod:`zoped.services.accounts`, run by the
operator (the system actor): they work in any school, named with ``--school``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from zoped.clock import SystemClock
from zoped.domain.people import DEFAULT_TIME_ZONE, Role, School
from zoped.errors import InvalidInput, Problem
from zoped.services import accounts, auth, roster, users_csv
from zoped.services.system import open_database
from zoped.settings import Settings

DB_HELP = "Database URL (else ZOPED_DATABASE_URL)."
MAX_CSV_BYTES = 5_000_000


def _settings(url: str | None) -> Settings:
    return Settings() if url is None else Settings(database_url=url)


def _password(prompt: bool) -> str | None:
    if not prompt:
        return None
    value: str = typer.prompt("Password (to be changed at first sign-in)", hide_input=True)
    return value


def register(app: typer.Typer) -> None:
    """Add the ``school`` and ``users`` groups."""
    school = typer.Typer(
        help="Create schools; print the first-run setup code.", no_args_is_help=True
    )
    users = typer.Typer(help="Manage a school's users.", no_args_is_help=True)

    @school.command("create")
    def create_school(
        school_id: str = typer.Argument(..., help="Short id, e.g. riverside."),
        name: str = typer.Option(..., "--name", help="The school's name."),
        time_zone: str = typer.Option(
            DEFAULT_TIME_ZONE,
            "--time-zone",
            help="IANA time zone, e.g. America/New_York: due dates end at midnight there.",
        ),
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Create a school (then add its first admin with ``zoped users create --role admin``)."""
        database = open_database(_settings(url).database_url)
        try:
            with database.session() as session:
                made = roster.create_school(
                    session,
                    school=School(id=school_id, name=name, time_zone=time_zone),
                    now=SystemClock().now(),
                )
        finally:
            database.dispose()
        typer.echo(f"created school {made.id} (time zone {made.time_zone})")

    @school.command("setup-code")
    def print_setup_code() -> None:
        """Print the code that opens /setup on a server with no school (from ZOPED_SECRET_KEY)."""
        typer.echo(auth.setup_code(Settings().secret_key))

    @users.command("create")
    def create_user(
        username: str = typer.Argument(..., help="Sign-in name, unique in the school."),
        name: str = typer.Option(..., "--name", help="Display name."),
        role: Role = typer.Option(..., "--role", help="learner, teacher, guardian or admin."),
        school_id: str = typer.Option(..., "--school", help="School id."),
        email: str | None = typer.Option(None, "--email", help="Email address."),
        password: bool = typer.Option(
            False, "--password", help="Prompt for a first password (else hand over a reset code)."
        ),
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Create one user."""
        first = _password(password)
        database = open_database(_settings(url).database_url)
        try:
            with database.session() as session:
                user = accounts.add_user(
                    session,
                    actor=None,
                    school_id=school_id,
                    username=username,
                    display_name=name,
                    role=role,
                    email=email,
                    password=first,
                    now=SystemClock().now(),
                )
        finally:
            database.dispose()
        typer.echo(f"created {user.role} {user.username} (id {user.id})")

    @users.command("import")
    def import_users(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A users CSV file."),
        school_id: str = typer.Option(..., "--school", help="School id."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; write nothing."),
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Create or update users from CSV: username, display_name, role, and optionally email,
        password, classes (ids separated by ';') and guardian_of (usernames separated by ';')."""
        if file.stat().st_size > MAX_CSV_BYTES:
            raise InvalidInput("file too large", [Problem(str(file), "at most 5 MB")])
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("not UTF-8", [Problem(str(file), "save it as UTF-8 CSV")]) from None
        database = open_database(_settings(url).database_url)
        try:
            with database.session() as session:
                summary = users_csv.import_users_csv(
                    session,
                    actor=None,
                    school_id=school_id,
                    text=text,
                    dry_run=dry_run,
                    now=SystemClock().now(),
                )
        finally:
            database.dispose()
        verb = "would create" if dry_run else "created"
        typer.echo(
            f"{verb} {len(summary.created)}, updated {len(summary.updated)}, unchanged "
            f"{len(summary.unchanged)}; {summary.enrollments} class places, "
            f"{summary.guardian_links} guardian links"
        )

    def _set_active(username: str, school_id: str, url: str | None, *, active: bool) -> None:
        database = open_database(_settings(url).database_url)
        try:
            with database.session() as session:
                user = accounts.find_user_by_username(
                    session, actor=None, school_id=school_id, username=username
                )
                accounts.set_user_active(
                    session, actor=None, user_id=user.id, active=active, now=SystemClock().now()
                )
        finally:
            database.dispose()
        typer.echo(f"{'reactivated' if active else 'deactivated'} {username}")

    @users.command("deactivate")
    def deactivate(
        username: str = typer.Argument(...),
        school_id: str = typer.Option(..., "--school", help="School id."),
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Switch a user off: no sign-in, sessions and tokens stop; their data stays."""
        _set_active(username, school_id, url, active=False)

    @users.command("reactivate")
    def reactivate(
        username: str = typer.Argument(...),
        school_id: str = typer.Option(..., "--school", help="School id."),
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Switch a deactivated user back on."""
        _set_active(username, school_id, url, active=True)

    @users.command("reset-password")
    def reset_password(
        username: str = typer.Argument(...),
        school_id: str = typer.Option(..., "--school", help="School id."),
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Print a one-time code with which the user sets a new password at /signin/reset."""
        database = open_database(_settings(url).database_url)
        try:
            with database.session() as session:
                user = accounts.find_user_by_username(
                    session, actor=None, school_id=school_id, username=username
                )
                issued = accounts.issue_reset_code(
                    session, actor=None, user_id=user.id, now=SystemClock().now()
                )
        finally:
            database.dispose()
        typer.echo(f"code:    {issued.code}")
        typer.echo(f"expires: {issued.expires_at.isoformat(timespec='minutes')}")
        typer.echo(f"{username} enters it at /signin/reset to choose a new password.")

    app.add_typer(school, name="school")
    app.add_typer(users, name="users")
