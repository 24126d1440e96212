"""Configuration, the session factory, the data model and the services (use cases)."""
