"""Alembic migrations of the groundlink database; run them with ``adapters.db.migrate``."""
