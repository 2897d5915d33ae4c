"""Alembic's entry point: runs the migrations on the connection ``migrate.upgrade`` passes in.

There is no ``alembic.ini`` at run time: ``groundlink.adapters.db.migrate``
builds the configuration in code and hands over an open connection in
``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from groundlink.adapters.db.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run every pending migration on the connection given by the caller."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("groundlink runs its migrations online only (migrate.upgrade)")
run_migrations_online()
