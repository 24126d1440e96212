"""Domain errors that the adapters (web, CLI, workers) map to their own way of failing."""


class DomainError(Exception):
    """Base of every error a service raises on purpose."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(DomainError):
    """The request conflicts with the current state (duplicate email, run in progress ...)."""


class InvalidInput(DomainError):
    """The input is malformed; ``errors`` maps a field name to a message."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors: dict[str, str] = errors or {}


class PermissionDenied(DomainError):
    """The caller may not do this."""


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the setting in one line."""
