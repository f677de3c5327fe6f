"""JSON-lines messages between the engine and the Python processes it drives.

The message set is defined once, in ``protocol/protocol.schema.json`` at the repository root
(typed here by messages.py, in the engine by its protocol types); both sides are tested against
``protocol/examples.jsonl``. Every message is one JSON object on one line with a ``type``.
"""

from __future__ import annotations

import json
import math
import socket
from typing import Any

from .messages import Received, Sent

PROTOCOL_VERSION = 3


class ChannelClosed(Exception):
    """The other side closed the channel."""


def finite(value: Any) -> Any:
    """``value`` with every non-finite float as the string ``"inf"``, ``"-inf"`` or ``"nan"``.

    JSON has no such numbers (Python's ``Infinity`` is not JSON): sent as strings they reach the
    engine, which refuses them by name where a number belongs (``--timeout``,
    ``CONCURRENT_TEST_CONFIG["timeout"]``: a ConfigError, exit 2) instead of an unreadable line.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


class Channel:
    """A blocking JSON-lines channel over a stream socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""
        # Received after the last newline: searched and joined once, when a newline arrives.
        self._partial: list[bytes] = []

    @classmethod
    def from_fd(cls, fd: int) -> Channel:
        return cls(socket.socket(fileno=fd))

    @classmethod
    def connect(cls, path: str) -> Channel:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        return cls(sock)

    def send(self, message: Sent) -> None:
        data = json.dumps(finite(message), separators=(",", ":"), default=str, allow_nan=False)
        data += "\n"
        self.sock.sendall(data.encode("utf-8"))

    def has_buffered(self) -> bool:
        return b"\n" in self._buffer

    def recv(self) -> Received:
        # A long line comes in many chunks: only each new one is searched for the newline (growing
        # and rescanning one bytes object per chunk made a 50 MB message take minutes).
        while b"\n" not in self._buffer:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""  # the peer died with data unread (e.g. the engine force-quit)
            if not chunk:
                raise ChannelClosed
            self._partial.append(chunk)
            if b"\n" in chunk:
                self._buffer = b"".join([self._buffer, *self._partial])
                self._partial = []
        line, self._buffer = self._buffer.split(b"\n", 1)
        message: Received = json.loads(line)  # unchecked: the engine's side is tested
        return message

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
