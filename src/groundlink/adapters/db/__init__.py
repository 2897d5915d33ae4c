"""The database adapter: SQLAlchemy models, engines and Alembic migrations.

SQLite (a WAL-mode file) is the embedded default, PostgreSQL the production
database; the same models and migrations serve both. See ``models.py`` for
the tables, ``engine.py`` for connections and ``migrate.py`` for upgrades.
"""

from groundlink.adapters.db.engine import (
    DEFAULT_DATABASE_URL,
    create_engine_from_url,
    database_url_from_env,
    one_read,
    session_factory,
    write_transaction,
)
from groundlink.adapters.db.migrate import upgrade

__all__ = [
    "DEFAULT_DATABASE_URL",
    "create_engine_from_url",
    "database_url_from_env",
    "one_read",
    "session_factory",
    "upgrade",
    "write_transaction",
]
