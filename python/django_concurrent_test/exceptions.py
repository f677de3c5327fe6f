"""Exception names shared with the engine (engine/src/core/errors.ts uses the same names and exit
statuses; tests/test_safety.py keeps the two lists equal)."""

from __future__ import annotations


class ConcurrentTestException(Exception):
    """Base class of everything this package raises on purpose."""

    #: The exit status of a run that stops with this exception.
    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(ConcurrentTestException):
    """A setting, option or environment variable has a value the engine cannot use."""


class SecurityException(ConcurrentTestException):
    """A safety refusal: the run would touch something that is not a test database."""


class UnsupportedDatabase(ConcurrentTestException):
    """A database vendor the engine cannot clone; the runner falls back to Django's."""


class EngineUnavailable(ConcurrentTestException):
    """The engine cannot start (no usable Node runtime, a damaged bundle, a protocol mismatch,
    another distribution providing this package): nothing was created or connected to."""


class InsufficientPrivileges(ConcurrentTestException):
    """The database role lacks a privilege the run needs (CREATEDB, CREATE, DROP)."""


class DatabaseTemplateException(ConcurrentTestException):
    """Building the template database or a clone of it failed."""

    exit_code = 1


class WorkerTimeout(ConcurrentTestException):
    """A worker ran one test class for longer than the configured timeout."""

    exit_code = 1
