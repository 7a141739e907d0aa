"""Signing in: Argon2id passwords and throttling of repeated failures.

Throttling counts failed sign-ins in a table (so it survives restarts and is shared by every
app process), keyed by SHA-256 digests of the account ("school/username") and of the client
address: no name or address is stored in clear. An account locks after
:data:`ACCOUNT_MAX_FAILURES` failures within :data:`WINDOW`, an address after
:data:`ADDRESS_MAX_FAILURES` (higher: a school's pupils may share one address); a lock lifts as
the failures age out of the window. A locked sign-in is refused without checking the password.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from zoped.domain.people import Role, User
from zoped.errors import InvalidInput, PermissionDenied, Problem
from zoped.services import transaction
from zoped.services.audit import record_access
from zoped.services.roster import get_learner_profile
from zoped.store import auth_repository as repo

# Throttling (docs/security.md): an attacker is slowed everywhere, a real user is locked out
# nowhere they did not fail themselves.
WINDOW = timedelta(minutes=15)
#: Failures of one account from one address that lock that pair for WINDOW.
PAIR_MAX_FAILURES = 5
#: Failures of one account (from any address), then of one address (against real accounts
#: only), after which each further attempt waits a delay that doubles up to MAX_DELAY.
ACCOUNT_SOFT_FAILURES = 5
ADDRESS_SOFT_FAILURES = 20
MAX_DELAY = timedelta(seconds=60)

_hasher = PasswordHasher()  # Argon2id with argon2-cffi's recommended parameters
# Verified when the account does not exist, so that a wrong username costs the same time.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


class SignInFailed(PermissionDenied):
    """Wrong school, username or password (which one is not said)."""


class AccountDeactivated(SignInFailed):
    """The password was right, but an admin has switched the account off."""


class SignInLocked(PermissionDenied):
    """Too many recent failures for this account or address."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("too many failed sign-ins; try again later")
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Key:
    """One throttling counter: a lock after ``limit`` failures, or (``delay``) a wait that
    doubles with each failure past ``limit``."""

    scope: str
    digest: str
    limit: int
    delay: bool


def csrf_matches(expected: object, given: object) -> bool:
    """Constant-time comparison of a CSRF token with the session's (any text: compared as
    UTF-8 bytes, so a header of other characters is simply a mismatch)."""
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def start_web_session(session: Session, *, user: User, now: datetime) -> str:
    """Start a signed-in session of the pages for ``user``; returns its id (for the cookie)."""
    session_id = secrets.token_urlsafe(32)
    with transaction(session):
        repo.start_web_session(session, session_id=session_id, user_id=user.id, at=now)
    return session_id


def web_session_user(session: Session, *, session_id: object) -> User | None:
    """The user signed in by a session id from a cookie, if the session has not ended."""
    if not isinstance(session_id, str) or not session_id:
        return None
    user_id = repo.web_session_user(session, session_id=session_id)
    user = None if user_id is None else repo.find_user(session, user_id=user_id)
    return user if user is not None and user.active else None


def end_web_session(session: Session, *, session_id: object, now: datetime) -> None:
    """End a session on the server (signing out), whatever copies of its cookie exist."""
    if isinstance(session_id, str) and session_id:
        with transaction(session):
            repo.end_web_session(session, session_id=session_id, at=now)


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return _hasher.hash(password)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _keys(school_id: str, username: str, client_address: str | None) -> list[_Key]:
    """The counters of an attempt: the account, the (account, address) pair, the address."""
    account = _digest(f"{school_id}/{username.strip().lower()}")
    keys = [_Key("account", account, ACCOUNT_SOFT_FAILURES, delay=True)]
    if client_address:
        pair = _digest(f"{school_id}/{username.strip().lower()}@{client_address}")
        keys.append(_Key("pair", pair, PAIR_MAX_FAILURES, delay=False))
        keys.append(_Key("address", _digest(client_address), ADDRESS_SOFT_FAILURES, delay=True))
    return keys


def _retry_after(session: Session, keys: list[_Key], now: datetime) -> timedelta | None:
    longest: timedelta | None = None
    for key in keys:
        times = repo.recent_failures(
            session, scope=key.scope, key_digest=key.digest, since=now - WINDOW
        )
        if len(times) < key.limit:
            continue
        if key.delay:
            # Past the limit each failure doubles the wait before the next attempt.
            extra = len(times) - key.limit + 1
            until = times[-1] + min(timedelta(seconds=2**extra), MAX_DELAY)
        else:
            # Locked until enough failures age out to bring the count under the limit.
            until = times[len(times) - key.limit] + WINDOW
        if until > now:
            wait = max(until - now, timedelta(seconds=1))
            longest = wait if longest is None else max(longest, wait)
    return longest


def lock_remaining(
    session: Session,
    *,
    username: str,
    school_id: str,
    client_address: str | None,
    now: datetime,
) -> timedelta | None:
    """How long sign-in waits for this account from this address, or None when it is open."""
    return _retry_after(session, _keys(school_id, username, client_address), now)


def _resolve_school(session: Session, school_id: str | None) -> str | None:
    ids = repo.school_ids(session)
    if school_id:
        return school_id if school_id in ids else None
    return ids[0] if len(ids) == 1 else None


def _attempt(
    session: Session,
    username: str,
    client_address: str | None,
    school_id: str | None,
    at: datetime,
) -> tuple[list[_Key], tuple[User, str | None] | None]:
    """The throttling counters of a sign-in-like attempt and the account it names (with its
    password hash), after refusing a locked one.

    Raises:
        SignInLocked: too many recent failures for the account or the address.
    """
    resolved = _resolve_school(session, school_id)
    keys = _keys(resolved or school_id or "", username, client_address)
    wait = _retry_after(session, keys, at)
    if wait is not None:
        raise SignInLocked(wait)
    found = (
        repo.find_user_with_hash(session, school_id=resolved, username=username.strip())
        if resolved
        else None
    )
    return keys, found


def _record_failure(session: Session, keys: list[_Key], *, known: bool, at: datetime) -> None:
    """Count a failed attempt against its counters (and drop counts too old to matter)."""
    with transaction(session):
        for key in keys:
            if key.scope == "address" and not known:
                continue  # made-up names never count against an address (one NAT, a school)
            repo.add_failure(session, scope=key.scope, key_digest=key.digest, at=at)
        repo.clear_failures(session, before=at - 2 * WINDOW)


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    client_address: str | None,
    school_id: str | None = None,
    now: datetime,
) -> User:
    """Check a username and password; record a failure, or audit the sign-in.

    Args:
        session: the session; this service commits.
        username: the username typed.
        password: the password typed.
        client_address: the client's address, throttled too (None when unknown).
        school_id: the school, needed only when the database has more than one.
        now: the clock.

    Raises:
        SignInLocked: too many recent failures for the account or the address.
        SignInFailed: wrong school, username or password.
    """
    at = now
    keys, found = _attempt(session, username, client_address, school_id, at)
    stored_hash = found[1] if found is not None else None
    ok = False
    try:
        ok = _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None or stored_hash is None:
        _record_failure(session, keys, known=found is not None, at=at)
        raise SignInFailed("wrong username or password")
    user = found[0]
    if not user.active:
        # Told only to someone who knows the password: a guesser learns nothing new.
        raise AccountDeactivated("this account is switched off: ask your school's admin")
    with transaction(session):
        if _hasher.check_needs_rehash(stored_hash):
            repo.set_password_hash(session, user_id=user.id, password_hash=hash_password(password))
        for key in keys[:2]:  # the account's and this address's own count start afresh
            repo.clear_failures(
                session, scope=key.scope, key_digest=key.digest, before=at - 2 * WINDOW
            )
        record_access(
            session, actor=user, action="sign_in", subject_type="user", subject_id=user.id, now=at
        )
    return user


MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
#: How long an admin's reset code works.
RESET_CODE_LIFETIME = timedelta(hours=72)
# Codes are read aloud or copied from paper: no 0/O or 1/I/L to mix up.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_CHARS = 12


def password_problems(password: str, *, username: str | None, location: str) -> list[Problem]:
    """What is wrong with a new password (nothing: an empty list)."""
    problems = []
    if len(password) < MIN_PASSWORD_CHARS:
        problems.append(
            Problem(location, f"a password needs at least {MIN_PASSWORD_CHARS} characters")
        )
    elif len(password) > MAX_PASSWORD_CHARS:
        problems.append(Problem(location, f"at most {MAX_PASSWORD_CHARS} characters"))
    elif username and password.strip().lower() == username.strip().lower():
        problems.append(Problem(location, "the password must not be the username"))
    return problems


def _require_good_password(password: str, *, username: str | None, location: str) -> None:
    problems = password_problems(password, username=username, location=location)
    if problems:
        raise InvalidInput("choose another password", problems)


def new_reset_code() -> str:
    """A fresh one-time code, shown as three groups of four (``ABCD-EFGH-JKMN``)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_CHARS, 4))


def reset_code_digest(code: str) -> str:
    """The stored digest of a code, however it was typed (case, spaces and dashes ignored)."""
    return _digest("".join(ch for ch in code.upper() if ch.isalnum()))


def change_password(
    session: Session, *, user: User, current_password: str, new_password: str, now: datetime
) -> None:
    """A signed-in user changes their password (required after an admin set it). Every
    session of the user ends: the caller signs them in afresh.

    Raises:
        SignInFailed: the current password is wrong.
        InvalidInput: the new password breaks a rule (say which).
    """
    found = repo.find_user_with_hash(
        session, school_id=user.school_id, username=user.username or ""
    )
    stored_hash = found[1] if found is not None and found[0].id == user.id else None
    try:
        ok = _hasher.verify(stored_hash or _DUMMY_HASH, current_password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise SignInFailed("the current password is not right")
    _require_good_password(new_password, username=user.username, location="new_password")
    if new_password == current_password:
        raise InvalidInput(
            "choose another password",
            [Problem("new_password", "the new password must differ from the current one")],
        )
    with transaction(session):
        repo.set_password(
            session, user_id=user.id, password_hash=hash_password(new_password), must_change=False
        )
        repo.end_user_web_sessions(session, user_id=user.id, at=now)
        record_access(
            session,
            actor=user,
            action="password.change",
            subject_type="user",
            subject_id=user.id,
            now=now,
        )


def redeem_reset_code(
    session: Session,
    *,
    username: str,
    code: str,
    new_password: str,
    client_address: str | None,
    school_id: str | None = None,
    now: datetime,
) -> User:
    """Set a new password with the one-time code an admin handed over. Wrong codes count as
    failed sign-ins (the same throttling), so codes cannot be guessed faster than passwords.

    Raises:
        SignInLocked: too many recent failures.
        SignInFailed: unknown user, or a wrong, used or expired code (which is not said).
        InvalidInput: the new password breaks a rule (nothing is used up).
    """
    at = now
    keys, found = _attempt(session, username, client_address, school_id, at)
    digest = reset_code_digest(code)
    valid = found is not None and repo.usable_reset_code(
        session, code_digest=digest, user_id=found[0].id, at=at
    )
    if found is None or not valid:
        _record_failure(session, keys, known=found is not None, at=at)
        raise SignInFailed("that username and code do not match, or the code has expired")
    user = found[0]
    if not user.active:
        raise AccountDeactivated("this account is switched off: ask your school's admin")
    _require_good_password(new_password, username=user.username, location="new_password")
    with transaction(session):
        repo.use_reset_code(session, code_digest=digest, at=at)
        repo.set_password(
            session, user_id=user.id, password_hash=hash_password(new_password), must_change=False
        )
        repo.end_user_web_sessions(session, user_id=user.id, at=at)
        for key in keys[:2]:
            repo.clear_failures(
                session, scope=key.scope, key_digest=key.digest, before=at - 2 * WINDOW
            )
        record_access(
            session,
            actor=user,
            action="password.reset_used",
            subject_type="user",
            subject_id=user.id,
            now=at,
        )
    return dataclasses.replace(user, must_change_password=False)


def school_choices(session: Session) -> list[tuple[str, str]]:
    """The schools a sign-in form lets one pick from (id, name): none when there is only one."""
    found = repo.list_schools(session)
    return found if len(found) > 1 else []


def setup_code(secret_key: str) -> str:
    """The code that opens first-run setup (``/setup``): derived from the instance's signing
    key, so only whoever can read the server's configuration or log can set the school up."""
    mac = hmac.new(secret_key.encode(), b"zoped first-run setup", hashlib.sha256).digest()
    raw = "".join(_CODE_ALPHABET[b % len(_CODE_ALPHABET)] for b in mac[:_CODE_CHARS])
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_CHARS, 4))


def needs_setup(session: Session) -> bool:
    """Whether the database has no school yet (first run)."""
    return not repo.school_ids(session)


def user_by_id(session: Session, *, user_id: str) -> User | None:
    """The user a session or token names, or None when they no longer exist."""
    return repo.find_user(session, user_id=user_id)


def accessibility_classes(session: Session, *, user: User) -> list[str]:
    """CSS classes for ``<body>`` from a learner's accessibility needs."""
    if user.role is not Role.LEARNER:
        return []
    profile = get_learner_profile(session, learner_id=user.id)
    if profile is None:
        return []
    classes = []
    if profile.accessibility.larger_text:
        classes.append("larger-text")
    if profile.accessibility.reduced_motion:
        classes.append("reduced-motion")
    return classes


def users_by_ids(session: Session, *, user_ids: list[str]) -> list[User]:
    """The users with these ids, in the order given; callers have checked the policy."""
    return repo.users_by_ids(session, user_ids=user_ids)
