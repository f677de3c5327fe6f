"""Telling our own bugs from the project's errors when the bridge fails.

Django's runner shows a traceback and exits 1 when something in the project raises (a broken
migration, a settings object that raises): so does the bridge. An exception raised by this
package's own code is a bug of django-concurrent-test, and must not read as a failing test
suite: its traceback comes with a line that says so.
"""

from __future__ import annotations

import traceback
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def raised_here(exc: BaseException) -> bool:
    """Whether the innermost frame of the exception is in this package."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    innermost = Path(frames[-1].filename).resolve()
    return innermost.is_relative_to(_PACKAGE)


def bridge_traceback(phase: str, exc: BaseException) -> str:
    """The traceback the engine shows for a failed bridge request."""
    formatted = "".join(traceback.format_exception(exc))
    if not raised_here(exc):
        return formatted
    # Last, where a reader of a failed run looks first.
    return formatted + (
        f"django-concurrent-test: internal error while handling {phase!r}: this is a bug in "
        "django-concurrent-test, not a failure of your tests (please report it with the "
        "traceback above)\n"
    )
