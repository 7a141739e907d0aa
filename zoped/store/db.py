"""Engines, sessions and migrations.

SQLite is the embedded default: one file, created on first use, in WAL mode (readers never
block the writer) with foreign keys enforced. PostgreSQL is selected by a ``postgresql://`` URL
and runs the same Alembic migrations.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30.0


def normalise_url(url: str) -> str:
    """Select the psycopg 3 driver for PostgreSQL URLs; leave every other URL alone."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _on_sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """Turn on what SQLite leaves off by default, on every new connection."""
    del connection_record
    cursor = dbapi_connection.cursor()
    try:
        # Foreign keys are per connection in SQLite and off unless asked for.
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # WAL with NORMAL sync is durable across application crashes and much faster.
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Deleted rows are overwritten with zeros, not left in free space (an erasure must
        # leave nothing in the file; many builds default to this, not all).
        cursor.execute("PRAGMA secure_delete = ON")
    finally:
        cursor.close()


def _loads(text: str | bytes) -> Any:
    """JSON columns are read with orjson (several times faster on the large stored folds); a
    document it refuses (``NaN``, which the standard library writes) is read the standard way."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, ready for zoped's rules on either backend.

    For a SQLite file the parent folder is created, so the database appears on first run.

    Args:
        url: a SQLAlchemy URL; ``postgresql://`` selects psycopg 3.
        **kwargs: passed to :func:`sqlalchemy.create_engine`.

    Returns:
        The engine. The caller disposes of it.
    """
    parsed = make_url(normalise_url(url))
    kwargs.setdefault("json_deserializer", _loads)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for services. Objects stay readable after commit (services return them)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """The Alembic configuration shipped inside the package, optionally bound to ``url``."""
    store = resources.files("zoped.store")
    config = Config(str(store / "alembic.ini"))
    # Absolute, so that the migrations are found whatever the working directory.
    config.set_main_option("script_location", str(store / "alembic"))
    if url is not None:
        # ConfigParser treats % as interpolation; URLs may contain %-escapes.
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest by default).

    An empty or missing SQLite database is created. Safe to call on every start: a database
    already at head is left alone.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            # env.py runs on this connection, so the SQLite pragmas above apply to migrations.
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
