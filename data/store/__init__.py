"""Database plumbing: engine and sessions, column types, the ORM models, migrations, health."""
