"""Migrations: an empty database reaches head, and head matches the table metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from tests import factories as f
from zoped.store import mappers
from zoped.store.db import alembic_config, make_engine, upgrade
from zoped.store.tables import evidence_events, learner_event_counts, metadata, schools, users


def test_upgrade_brings_an_empty_database_to_head_with_no_diff(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            assert set(metadata.tables) <= set(inspect(connection).get_table_names())
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
            assert diff == []
            script = ScriptDirectory.from_config(alembic_config())
            assert context.get_current_revision() == script.get_current_head()
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)


def test_sqlite_database_is_created_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "zoped.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    assert path.is_file()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_timestamps_read_back_aware_in_utc(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    paris = timezone(timedelta(hours=2))
    written = datetime(2026, 3, 29, 9, 30, 15, 123456, tzinfo=paris)
    try:
        with engine.begin() as connection:
            connection.execute(schools.insert().values(id="s", name="S", created_at=written))
        with engine.connect() as connection:
            read = connection.execute(select(schools.c.created_at)).scalar_one()
    finally:
        engine.dispose()
    assert read == written
    assert read.tzinfo is not None
    assert read.utcoffset() == timedelta(0)
    assert read.hour == 7
    assert read.tzinfo == UTC


def test_event_counts_start_from_the_log_already_stored(db_url: str) -> None:
    """A database with events before learner_event_counts (0007) gets each learner's count,
    so their stored folds are judged against the right number."""
    upgrade(db_url, "0006")
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            school_row = mappers.school_row(f.school(), created_at=f.T0)
            del school_row["time_zone"]  # added by 0017, after this test's schema
            connection.execute(schools.insert(), [school_row])
            user_row = mappers.user_row(f.user(), created_at=f.T0)
            for added_by_0011 in ("active", "must_change_password"):  # after this test's schema
                del user_row[added_by_0011]
            connection.execute(users.insert(), [user_row])
            connection.execute(
                evidence_events.insert(), [mappers.event_row(f.event()) for _ in range(3)]
            )
        upgrade(db_url)
        with engine.connect() as connection:
            counted = connection.execute(select(learner_event_counts)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in counted] == [("learner-1", 3)]


def test_schools_get_utc_and_going_back_keeps_their_people(db_url: str) -> None:
    """0017 gives the schools already stored UTC (what they had), and its downgrade drops the
    column in place: no school is recreated, so no user is lost to a cascade."""
    upgrade(db_url, "0016")
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            school_row = mappers.school_row(f.school(), created_at=f.T0)
            del school_row["time_zone"]
            connection.execute(schools.insert(), [school_row])
            connection.execute(users.insert(), [mappers.user_row(f.user(), created_at=f.T0)])
        upgrade(db_url)
        with engine.connect() as connection:
            assert connection.execute(select(schools.c.time_zone)).scalars().all() == ["UTC"]
        with engine.begin() as connection:
            config = alembic_config(db_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0016")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("schools")}
            assert "time_zone" not in columns
            assert connection.execute(select(users.c.id)).scalars().all() == [f.user().id]
        upgrade(db_url)
    finally:
        engine.dispose()
