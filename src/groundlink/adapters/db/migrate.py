"""Bring a database's schema up to date, from Python, without an ``alembic.ini``.

The migrations ship inside the package (``groundlink/adapters/db/migrations``),
so ``groundlink up`` can migrate a user's database wherever it is installed.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from groundlink.adapters.db.engine import create_engine_from_url

#: The folder of ``env.py`` and ``versions/``.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(
    url: str | None = None, *, engine: Engine | None = None, revision: str = "head"
) -> None:
    """Migrate the database at ``url`` (or on ``engine``) to ``revision`` (default: the newest).

    Safe to run again: an up-to-date database is left as it is.
    """
    owned = engine is None
    engine = engine if engine is not None else create_engine_from_url(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if owned:
            engine.dispose()


__all__ = ["MIGRATIONS_DIR", "alembic_config", "upgrade"]
