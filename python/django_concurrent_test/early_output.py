"""What a worker's tests write before its databases exist, held until they do.

Workers start early and run the classes that need no database while the bridge creates the test
databases; Django's runner prints "Creating test database..." and the migrations first, then
whatever tests write. So until a worker attaches to its clones, its file descriptors 1 and 2
point at temporary files (at the descriptor level: writes from C code and subprocesses are held
too), and at attach, or when the worker ends without attaching, the held bytes are written out.
The files are named by the engine: a worker that dies before attach (a crash, a kill) cannot
write them out itself, so the engine does. A run whose tests use no database has none to wait
for: nothing is held then.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import unittest
from collections.abc import Iterable
from typing import IO

_STREAMS = (1, 2)
_CHUNK = 1 << 20

# fd -> (the real destination, duplicated; the file holding what was written meanwhile)
_held: dict[int, tuple[int, IO[bytes]]] = {}
_NAMES = {1: "stdout", 2: "stderr"}


def uses_databases(groups: Iterable[unittest.TestSuite]) -> bool:
    """Whether any class of the run declares a database: then the engine attaches the workers
    once the databases exist; without one it never does, and nothing must wait for it."""
    for group in groups:
        first = next(iter(group), None)
        if getattr(first, "databases", None):
            return True
    return False


def hold(prefix: str | None = None) -> None:
    """Hold what is written to stdout and stderr from now on (once; later calls do nothing):
    in `<prefix>.stdout` and `<prefix>.stderr` when given (the engine's names), else in
    anonymous temporary files."""
    if _held:
        return
    _flush_python_streams()
    for fd in _STREAMS:
        try:
            real = os.dup(fd)
        except OSError:  # no such descriptor (closed by whoever started us): nothing to hold
            continue
        spool = _spool(f"{prefix}.{_NAMES[fd]}" if prefix else None)
        os.dup2(spool.fileno(), fd)
        _held[fd] = (real, spool)


def _spool(path: str | None) -> IO[bytes]:
    if path is None:
        return tempfile.TemporaryFile()
    try:
        return open(path, "w+b")  # closed by _write_out
    except OSError:  # the engine's folder is gone (a run stopping): held all the same
        return tempfile.TemporaryFile()


def release() -> None:
    """Put the real stdout and stderr back and write out what was held (safe to call twice)."""
    if not _held:
        return
    _flush_python_streams()
    for fd, (real, spool) in list(_held.items()):
        os.dup2(real, fd)
        os.close(real)
        del _held[fd]
        _write_out(spool, fd)


def _flush_python_streams() -> None:
    # Text still in Python's buffers belongs on the side of the switch it was written on.
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed or broken: its text is lost either way
            pass


def _write_out(spool: IO[bytes], fd: int) -> None:
    if isinstance(spool.name, str):  # the engine's file: written out here, so not by the engine
        with contextlib.suppress(OSError):
            os.unlink(spool.name)
    with spool:
        spool.seek(0)
        while chunk := spool.read(_CHUNK):
            view = memoryview(chunk)
            while view:
                try:
                    written = os.write(fd, view)
                except OSError:  # the reader went away: nobody left to show it to
                    return
                view = view[written:]
