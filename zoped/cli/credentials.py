"""CLI commands for API credentials: ``zoped credentials create | list | revoke``."""

from __future__ import annotations

import typer
from rich.console import Console

from zoped.clock import SystemClock
from zoped.domain.people import Role
from zoped.services import tokens
from zoped.services.system import open_database
from zoped.settings import Settings

console = Console()
DB_HELP = "Database URL (else ZOPED_DATABASE_URL)."


def _settings(url: str | None) -> Settings:
    return Settings() if url is None else Settings(database_url=url)


def register(app: typer.Typer) -> None:
    """Add the ``credentials`` group."""
    group = typer.Typer(help="Manage API credentials (tokens).", no_args_is_help=True)

    @group.command()
    def create(
        role: str = typer.Option(
            ...,
            "--role",
            help="Role of the service account: learner, guardian, teacher, admin, or lrs (an "
            "xAPI client of the school's /xapi LRS, which signs in with HTTP Basic).",
        ),
        name: str = typer.Option(..., "--name", help="Who or what uses it, e.g. 'xAPI bridge'."),
        scope: list[str] = typer.Option(
            list(tokens.DEFAULT_SCOPES),
            "--scope",
            help=f"Repeatable. One of: {', '.join(sorted(tokens.ALL_SCOPES))}.",
        ),
        days: int = typer.Option(90, "--days", help="Days until it expires."),
        school: str | None = typer.Option(None, "--school", help="School id (if several)."),
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Create a service account with ROLE and a token for it; the secret is shown once."""
        roles = [str(r) for r in Role] + ["lrs"]
        if role not in roles:
            raise typer.BadParameter(f"one of: {', '.join(roles)}", param_hint="--role")
        database = open_database(_settings(url).database_url)
        try:
            with database.session() as session:
                if role == "lrs":
                    issued = tokens.create_lrs_credentials(
                        session, name=name, days=days, school_id=school, now=SystemClock().now()
                    )
                else:
                    issued = tokens.create_service_credentials(
                        session,
                        role=Role(role),
                        name=name,
                        scopes=scope,
                        days=days,
                        school_id=school,
                        now=SystemClock().now(),
                    )
        finally:
            database.dispose()
        typer.echo(f"key:     {issued.key_id}")
        typer.echo(f"secret:  {issued.secret}")
        if role == "lrs":
            typer.echo(f"basic:   user {issued.key_id}, password the secret (xAPI at /xapi)")
        else:
            typer.echo(f"header:  Authorization: Bearer {issued.value}")
        typer.echo(f"user:    {issued.user_id}")
        typer.echo(f"scopes:  {' '.join(issued.scopes)}")
        expires = issued.expires_at.isoformat() if issued.expires_at else "never"
        typer.echo(f"expires: {expires}")
        console.print("[yellow]Store the secret now: it is not kept and cannot be shown again.")

    @group.command("list")
    def list_(
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """List tokens (never their secrets)."""
        database = open_database(_settings(url).database_url)
        try:
            with database.session() as session:
                found = tokens.list_tokens(session)
        finally:
            database.dispose()
        for token in found:
            state = "revoked" if token.revoked_at else "active"
            expires = token.expires_at.date().isoformat() if token.expires_at else "never"
            typer.echo(
                f"{token.key_id}  {state:7}  expires {expires}  {token.user_id}  "
                f"{','.join(token.scopes)}  {token.name}"
            )

    @group.command()
    def revoke(
        key_id: str = typer.Argument(..., help="The key id (the part before the dot)."),
        url: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Revoke a token at once."""
        database = open_database(_settings(url).database_url)
        try:
            with database.session() as session:
                tokens.revoke_token(session, key_id=key_id, now=SystemClock().now())
        finally:
            database.dispose()
        typer.echo(f"revoked {key_id}")

    app.add_typer(group, name="credentials")
