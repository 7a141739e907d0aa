"""What the CLI's commands share: a session on the configured database, and how a zoped error
is printed (the same as :func:`zoped.cli.main` prints it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from sqlalchemy.orm import Session

from zoped.errors import InvalidInput, ZopedError
from zoped.services.system import open_database
from zoped.settings import Settings


def database_url(url: str | None) -> str:
    """``url`` if given, else the ZOPED_DATABASE_URL setting (or its default)."""
    return Settings(database_url=url).database_url if url else Settings().database_url


@contextmanager
def database_session(url: str | None) -> Iterator[Session]:
    """A session on the database at ``url`` (else the setting's), closed and disposed after."""
    database = open_database(database_url(url))
    try:
        with database.session() as session:
            yield session
    finally:
        database.dispose()


def fail(error: ZopedError) -> NoReturn:
    """Print the error, one line per problem, and exit 2.

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
