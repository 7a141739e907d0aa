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
        description="Signs session cookies and CSRF tokens. Must be set in production.",
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

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, url: str) -> str:
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "ZOPED_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production"
            )
        return self
