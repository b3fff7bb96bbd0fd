"""Alembic environment: runs against the engine handed over by credgate.db.migrate()."""

from alembic import context

from credgate.db import Base, make_engine
from suite.packages import import_all_models

import_all_models()
config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked from the alembic CLI
    from credgate.config import load_settings

    engine = make_engine(load_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
