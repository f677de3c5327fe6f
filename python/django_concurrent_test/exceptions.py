"""Exception names shared with the engine (engine/src/errors.ts uses the same names)."""


class ConcurrentTestException(Exception):
    """Base class of everything this package raises on purpose."""


class SecurityException(ConcurrentTestException):
    """A safety refusal: the run would touch something that is not a test database."""


class UnsupportedDatabase(ConcurrentTestException):
    """A database vendor the engine cannot clone; the runner falls back to Django's."""


class DatabaseTemplateException(ConcurrentTestException):
    """Building the template database or a clone of it failed."""


class WorkerTimeout(ConcurrentTestException):
    """A worker ran one test class for longer than the configured timeout."""


class InsufficientPrivileges(ConcurrentTestException):
    """The database role lacks a privilege the run needs (e.g. CREATEDB)."""
