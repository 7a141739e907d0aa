"""Alembic environment: runs migrations on a connection handed over by ``zoped.store.db``.

``zoped.store.db.upgrade`` passes its connection in ``config.attributes["connection"]``. Run
from the ``alembic`` command, the URL comes from ``-x url=…`` or ``ZOPED_DATABASE_URL``.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import JSON, Connection

from zoped.store.db import make_engine
from zoped.store.tables import metadata
from zoped.store.types import UtcDateTime

config = context.config


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render zoped's column types as plain SQLAlchemy types in new migrations.

    A migration must keep working when ``zoped.store.types`` changes later, so it never imports
    it; ``JSON_DOC`` is defined at the top of each migration (see ``script.py.mako``).
    """
    del autogen_context
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, JSON) and "postgresql" in obj._variant_mapping:
        return "JSON_DOC"
    return False


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _configure_and_run(given)
        return
    # Only the alembic command line reaches this point: let it configure logging.
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("ZOPED_DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
        or "sqlite:///zoped.db"
    )
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            _configure_and_run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("zoped migrations run online only: pass a database URL")
_run_online()
