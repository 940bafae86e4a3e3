"""The metastore: SQLAlchemy Core over SQLite (embedded) or any SQLAlchemy URL."""
