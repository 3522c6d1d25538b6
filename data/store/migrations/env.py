"""Alembic environment: runs with the engine handed over by data.store.db.Database.migrate."""

from alembic import context
from sqlalchemy import create_engine

from data.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked from the alembic CLI
    engine = create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
