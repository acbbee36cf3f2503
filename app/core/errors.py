"""Domain errors. They say what went wrong in words a person can read; the web layer
maps each family to one HTTP status (see ``app.web.errors``)."""

from __future__ import annotations


class ChorusError(Exception):
    """Base of every error Chorus raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(ChorusError):
    """The configuration is invalid; Chorus refuses to start."""


class PolicyError(ChorusError):
    """A media policy file is invalid; Chorus refuses to start."""


class PermissionDenied(ChorusError):
    """The actor may not do this (403)."""


class NotFound(ChorusError):
    """The thing does not exist, or the actor may not know that it does (404)."""


class Conflict(ChorusError):
    """The action does not fit the current state (409)."""


class ValidationFailed(ChorusError):
    """The input is well-formed but unacceptable (422)."""


class SignInFailed(ChorusError):
    """Sign-in refused. One message for every cause, so it reveals nothing."""

    def __init__(self) -> None:
        super().__init__(
            "That login name and password did not work. Check them and try again; "
            "after several failed attempts, sign-in pauses for a few minutes."
        )
