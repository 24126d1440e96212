"""Domain errors that the adapters (web, CLI, workers) map to their own way of failing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Message(str):
    """A message in English that remembers its catalog id and placeholders, so that an
    adapter can show it in the reader's language (extracted by the ``Message`` keyword)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Message:
        message = super().__new__(cls, msgid % params if params else msgid)
        message.msgid = msgid
        message.params = params
        return message


class MessageList(str):
    """Several messages as one comma-separated value of a placeholder, each shown in the
    reader's language (a call's accepted organization kinds, say)."""

    items: tuple[Message, ...]

    def __new__(cls, items: Iterable[Message]) -> MessageList:
        items = tuple(items)
        joined = super().__new__(cls, ", ".join(items))
        joined.items = items
        return joined


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
