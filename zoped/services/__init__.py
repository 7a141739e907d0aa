"""Use cases: one function per thing a user does.

Every service takes the session as a keyword, checks who may act, writes through the
repositories, appends to the audit log and commits. Nothing is written when it fails: the
transaction is rolled back and the error propagates. A service that needs the time takes it as
``now=`` from its caller (the app's clock, :mod:`zoped.clock`); none reads the system clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block wrote, or roll all of it back if the block raises.

    Services own the transaction; repositories only flush.
    """
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
