"""Persistence: SQLAlchemy models, Alembic migrations, repositories.

SQLite is the embedded default; PostgreSQL (psycopg 3) for multi-user deployments.
The schema only changes through migrations in `store/migrations/versions/`.
"""

from camsweep.store.db import Store, open_store

__all__ = ["Store", "open_store"]
