"""The running system: opening the database and checking that it answers.

The web app and the CLI reach the store only through services; this module is how they get a
database handle without importing :mod:`zoped.store` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from zoped.store.db import make_engine, upgrade


@dataclass
class Database:
    """An engine and its session factory, built once at the entry point and passed down."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction the caller (a service) commits; closed on exit."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open the database at ``url``, bringing its schema to the newest migration first."""
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    return Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def database_answers(db: Database) -> bool:
    """True when a trivial query succeeds."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
