"""A worker: one process on one clone, running the TestCase classes the engine hands it.

Forked from the bridge (the fast start: Django is set up and the suite imported already) or
spawned as ``python -m django_concurrent_test.worker`` (the portable start).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
import traceback
import unittest
from typing import Any

from .protocol import PROTOCOL_VERSION, Channel, ChannelClosed, Message


class Worker:
    def __init__(self, channel: Channel, slot: int, groups: list[unittest.TestSuite] | None) -> None:
        self.channel = channel
        self.slot = slot
        self.groups = groups
        self.options: dict[str, Any] = {}
        self._loaded_memory: set[str] = set()

    def serve(self) -> None:
        self.channel.send(
            {"type": "hello", "role": "worker", "protocol": PROTOCOL_VERSION,
             "slot": self.slot, "pid": os.getpid()}
        )
        while True:
            try:
                message = self.channel.recv()
            except ChannelClosed:
                return
            kind = message["type"]
            if kind == "configure":
                self.configure(message)
            elif kind == "run":
                self.run_class(int(message["classIndex"]))
            elif kind == "stop":
                self.close_connections()
                return

    def configure(self, message: Message) -> None:
        from django.db import connections

        self.options = message["options"]
        if self.groups is None:
            from .bridge import discover_groups

            self.groups = discover_groups(message["discover"], quiet=True)
        for alias, clone in message["clones"].items():
            connection = connections[alias]
            connection.close()
            if clone.get("loadIntoMemoryFrom"):
                self._load_sqlite_into_memory(connection, clone["name"], clone["loadIntoMemoryFrom"])
            else:
                # Updated in place, as Django's own workers do, so threads see the clone too.
                connection.settings_dict["NAME"] = clone["name"]
            if self.options.get("debugSql"):
                connection.force_debug_cursor = True
        for alias in message.get("serializedAliases", []):
            connection = connections[alias]
            if getattr(connection, "_test_serialized_contents", None) is None:
                connection._test_serialized_contents = (
                    connection.creation.serialize_db_to_string()
                )
        self.channel.send({"type": "ready", "slot": self.slot})

    def _load_sqlite_into_memory(self, connection: Any, memory_name: str, source: str) -> None:
        """Mirrors share their primary's memory name; the file is loaded only once."""
        target_db = sqlite3.connect(memory_name, uri=True)
        if memory_name not in self._loaded_memory:
            source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            source_db.backup(target_db)
            source_db.close()
            self._loaded_memory.add(memory_name)
        connection.settings_dict["NAME"] = memory_name
        # Keep the shared-cache memory database alive until Django holds its own connection.
        connection.connect()
        target_db.close()

    def run_class(self, index: int) -> None:
        from .results import make_result

        assert self.groups is not None
        result = make_result(
            self.channel.send,
            index,
            buffer=bool(self.options.get("buffer")),
            failfast=bool(self.options.get("failfast")),
            debug_sql=bool(self.options.get("debugSql")),
        )
        self.channel.send({"type": "classStart", "classIndex": index, "slot": self.slot})
        suite = unittest.TestSuite(list(self.groups[index]))
        suite.run(result)
        self.channel.send({"type": "classDone", "classIndex": index, "slot": self.slot})

    def close_connections(self) -> None:
        from django.db import connections

        connections.close_all()


def run_forked(socket_path: str, slot: int, groups: list[unittest.TestSuite]) -> None:
    """Body of a forked worker; never returns."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        Worker(Channel.connect(socket_path), slot, groups).serve()
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m django_concurrent_test.worker")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--slot", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .bridge import prepare_python_path

    prepare_python_path()
    import django

    django.setup()
    Worker(Channel.connect(args.socket), args.slot, None).serve()


if __name__ == "__main__":
    main()
