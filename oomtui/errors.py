"""Errors that reach the user as one line, with the exit code the design sets."""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can act on: printed as one line, exit 1 (or `code`)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class UsageError(UserError):
    """Bad usage: exit 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=2)
