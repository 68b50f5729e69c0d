"""Persistence: SQLAlchemy Core tables, repositories, Alembic migrations."""
