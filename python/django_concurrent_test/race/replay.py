"""@replayable: on a failing race test, the seed that replays its delays is added to the error.

Marked as a unittest module (``__unittest``) so its wrapper frame stays out of tracebacks.
"""

from __future__ import annotations

import functools
import threading
import unittest
from collections.abc import Callable
from typing import Any, TypeVar

from .config import SEED_ENV, race_config
from .delays import reset_main_lane

__unittest = True

T = TypeVar("T")
_local = threading.local()


def note_seed(seed: int) -> None:
    """Remember a seed race() used, for the failure note of the running @replayable test."""
    seeds: list[int] | None = getattr(_local, "seeds", None)
    if seeds is not None:
        seeds.append(seed)


def add_note(exc: BaseException, text: str) -> None:
    """Attach ``text`` to the exception's report."""
    if text not in getattr(exc, "__notes__", ()):
        exc.add_note(text)


def _seed_note(used: list[int]) -> str:
    seed = race_config().seed
    text = f"Race-condition simulation seed: {seed} (replay: {SEED_ENV}={seed})"
    explicit = sorted(set(used) - {seed})
    if explicit:
        shown = ", ".join(map(str, explicit[:10])) + (", ..." if len(explicit) > 10 else "")
        text += f"; race() also ran with explicit seeds {shown}"
    return text


def replayable(test: T) -> T:
    """Decorate a (synchronous) test method, test function or test class: each test starts
    its delay streams afresh (so it gets the same delays alone as in a whole suite) and, when
    it fails, the seed that replays them is added to the error."""
    if isinstance(test, type):
        for name in dir(test):
            attr = getattr(test, name)
            if name.startswith("test") and callable(attr) and not hasattr(attr, "_replayable"):
                setattr(test, name, replayable(attr))
        return test
    assert callable(test)
    function: Callable[..., Any] = test

    def start() -> list[int]:
        reset_main_lane()
        seeds: list[int] = []
        _local.seeds = seeds
        return seeds

    def failed(exc: BaseException, seeds: list[int]) -> None:
        if not isinstance(exc, unittest.SkipTest):
            add_note(exc, _seed_note(seeds))

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        seeds = start()
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            failed(exc, seeds)
            raise
        finally:
            _local.seeds = None

    marked: Any = wrapped
    marked._replayable = True
    return marked  # type: ignore[no-any-return]
