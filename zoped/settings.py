"""Settings, read once at the entry point from ``ZOPED_*`` environment variables.

Domain and engine code never read settings: the CLI and the app factory build a
:class:`Settings` and pass what is needed down. ``docs/configuration.md`` is generated from
this class (``python scripts/gen_config_docs.py``) and a test keeps it in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-only-change-me"
MIN_SECRET_CHARS = 32
SECRET_ADVICE = (
    "ZOPED_SECRET_KEY must be set to a random value of at least 32 characters, e.g. "
    "ZOPED_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(48))'): it signs "
    "session cookies, and the default is public (zoped demo makes one of its own)"
)


class InsecureSettings(ValueError):
    """The settings would run the app insecurely (the public default signing key)."""


class Settings(BaseSettings):
    """Everything an operator can configure."""

    model_config = SettingsConfigDict(env_prefix="ZOPED_", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development",
        description="`production` refuses default secrets and marks cookies Secure.",
    )
    database_url: str = Field(
        "sqlite:///zoped.db",
        description="SQLAlchemy URL. A SQLite file by default; `postgresql://…` for PostgreSQL "
        "(the psycopg 3 driver is selected automatically).",
    )
    secret_key: str = Field(
        DEFAULT_SECRET,
        description="Signs session cookies and CSRF tokens: a random value of 32 characters "
        "or more. The app refuses the default outside tests; `zoped demo` makes its own.",
    )
    data_dir: Path = Field(
        Path("../shared/data"),
        description="Folder of public learner datasets used by evaluation, benchmarks and tests.",
    )
    demo: bool = Field(
        False,
        description="Running the demo school: the home page lists the demo sign-ins.",
    )
    max_request_bytes: int = Field(
        2_000_000, ge=1024, description="Largest request body accepted, in bytes."
    )
    page_size_max: int = Field(200, ge=1, description="Largest page a list endpoint returns.")
    audit_retention_days: int = Field(
        730,
        ge=0,
        description="Days the audit log keeps an entry; `zoped audit prune` (run it daily, "
        "from cron for example) deletes older ones. 0 keeps the log forever.",
    )
    xapi_unversioned: Literal["1.0.3", "2.0.0"] = Field(
        "1.0.3",
        description="The xAPI version the LRS at `/xapi` names in its answer to a request "
        "without an `X-Experience-API-Version` header (it refuses such a request, but for "
        "`/xapi/about`); a request that names 1.0.x or 2.0.x is answered in that version.",
    )
    erasure_grace_days: int = Field(
        14,
        ge=0,
        description="Days an erasure request waits before the learner is erased; until then "
        "the learner, their guardians, teachers and admins see it and may cancel it. The app "
        "erases due requests hourly; `zoped privacy erase-due` does it from cron.",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, url: str) -> str:
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def has_real_secret(self) -> bool:
        """Whether ``secret_key`` is one of the instance's own: not the public default, and at
        least :data:`MIN_SECRET_CHARS` characters."""
        return self.secret_key != DEFAULT_SECRET and len(self.secret_key) >= MIN_SECRET_CHARS

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and not self.has_real_secret:
            raise ValueError(SECRET_ADVICE)
        return self


def require_real_secret(settings: Settings) -> None:
    """Refuse to serve with the public default (or a short) signing key anywhere but in tests:
    anyone who knows it can sign a session cookie for any account.

    Raises:
        InsecureSettings: with what to do.
    """
    if settings.environment != "test" and not settings.has_real_secret:
        raise InsecureSettings(SECRET_ADVICE)
