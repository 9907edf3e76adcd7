"""Persistence: SQLModel models, engine, services, migrations and the `python -m db` command line."""
