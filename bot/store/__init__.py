"""The data layer: SQLAlchemy models, sessions, queries and demo seeding."""
