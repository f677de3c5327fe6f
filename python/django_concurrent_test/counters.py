"""PostgreSQL sequences put back to the template's values before each class.

A transaction's rollback does not rewind sequences, so on a worker's clone every class would see
the counters that the classes handed to that worker before it advanced: which ones depends on our
scheduling (longest first), not on the suite. So before a class runs, the sequences of the tables
that earlier classes inserted into are set back to the template's value (never below the rows a
table still holds, such as the content types a TransactionTestCase's flush re-created): the class
sees the counters of a fresh test database, as the first class of each of Django's parallel
workers does.

Which tables: the worker notes the table of every ``INSERT`` that goes through Django's cursors
(one regular-expression match per query). Reading every counter from the catalog instead costs
a query over all sequences per class (measured: 12-24 ms for 1,000 tables on PostgreSQL).
Inserts that bypass Django's cursors (raw DB-API connections, triggers, ``nextval()``) are not
seen: those counters keep what earlier classes left, as without the reset.

MySQL/MariaDB are not reset here: an ``ALTER TABLE ... AUTO_INCREMENT`` per table costs 50 ms or
more, so there the engine hands classes out in Django's suite order instead, and a class sees only
what classes before it in that order left, as on a Django ``--parallel`` worker.
SQLite needs none of this: its ``sqlite_sequence`` is rolled back with the transaction.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Django's INSERT statements, quoted table first ("app_model").
_INSERT = re.compile(r"\s*INSERT\s+INTO\s+\"?([^\"\s(]+)", re.I)

# Database name -> tables inserted into since that clone's last reset (every thread's connections).
_inserted: dict[str, set[str]] = {}

# One row per sequence owned by a column: oid, start, last value (NULL until used), table, column.
_PG_SEQUENCES = """
SELECT c.oid::bigint, s.seqstart, pg_sequence_last_value(c.oid), t.relname, a.attname
FROM pg_class c
JOIN pg_sequence s ON s.seqrelid = c.oid
JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.relkind = 'S' AND c.relpersistence <> 't' AND pg_has_role(c.relowner, 'USAGE')
    AND n.nspname = ANY(current_schemas(false))
"""


def _note_inserts(cursor: Any, sql: Any) -> None:
    if isinstance(sql, str):
        found = _INSERT.match(sql)
        if found:
            tables = _inserted.get(cursor.db.settings_dict["NAME"])
            if tables is not None:
                tables.add(found.group(1))


def _track_inserts() -> None:
    """Wraps Django's cursor wrapper once per process (not ``execute_wrappers``: tests check
    that list)."""
    from django.db.backends import utils

    if getattr(utils.CursorWrapper, "_django_concurrent_test_tracked", False):
        return
    execute, executemany = utils.CursorWrapper._execute, utils.CursorWrapper._executemany

    def _execute(self: Any, sql: Any, *args: Any) -> Any:
        _note_inserts(self, sql)
        return execute(self, sql, *args)

    def _executemany(self: Any, sql: Any, *args: Any) -> Any:
        _note_inserts(self, sql)
        return executemany(self, sql, *args)

    utils.CursorWrapper._execute = _execute
    utils.CursorWrapper._executemany = _executemany
    utils.CursorWrapper._django_concurrent_test_tracked = True


class Counters:
    """One clone's template sequences (read at attach, when the clone is the template)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.name = str(connection.settings_dict["NAME"])
        # table -> [(sequence oid, start, template's last value, column)].
        self.sequences: dict[str, list[tuple[int, int, int | None, str]]] = {}

    def snapshot(self) -> None:
        with _as_found(self.connection), self.connection.cursor() as cursor:
            cursor.execute(_PG_SEQUENCES)
            for oid, start, last, table, column in cursor.fetchall():
                self.sequences.setdefault(table, []).append((oid, start, last, column))
        _inserted[self.name] = set()

    def restore(self) -> int:
        """Puts back the sequences of the tables inserted into since the last call."""
        tables = _inserted.get(self.name) or set()
        _inserted[self.name] = set()
        resets = [self._pg_setval(t, *s) for t in tables for s in self.sequences.get(t, [])]
        if resets:
            with _as_found(self.connection), self.connection.cursor() as cursor:
                try:
                    # Not worth a disk flush of its own: a test database does not outlive a crash.
                    cursor.execute("BEGIN")
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                    cursor.execute(f"SELECT {', '.join(resets)}")
                    cursor.execute("COMMIT")
                except Exception:
                    # Never hand the next class a connection inside a failed transaction.
                    cursor.execute("ROLLBACK")
                    raise
        return len(tables)

    def _pg_setval(self, table: str, oid: int, start: int, last: int | None, column: str) -> str:
        quote = self.connection.ops.quote_name
        highest = f"(SELECT MAX({quote(column)}) FROM {quote(table)})"
        sequence = f"{int(oid)}::oid"
        if last is None:  # never used: the next value is the start again, unless rows remain
            return f"setval({sequence}, COALESCE({highest}, {int(start)}), {highest} IS NOT NULL)"
        return f"setval({sequence}, GREATEST({int(last)}, COALESCE({highest}, 0)), true)"


@contextmanager
def _as_found(connection: Any) -> Iterator[None]:
    """Leaves the connection as it was: a class must not find it open when Django's runner would
    not have opened it (Django's own tests copy the connection shallowly and close the copy,
    which closes a shared open connection under the original)."""
    was_closed = connection.connection is None
    try:
        yield
    finally:
        if was_closed:
            connection.close()


class CounterReset:
    """The counters of every clone a worker attached (one per database; mirrors share it)."""

    def __init__(self) -> None:
        self.clones: list[Counters] = []

    def attach(self, connections: list[Any]) -> None:
        self.clones = []
        for connection in connections:
            if connection.vendor != "postgresql":
                continue
            counters = Counters(connection)
            try:
                counters.snapshot()
            except Exception as error:  # no catalog access: run without the reset
                _warn(connection, error)
                continue
            self.clones.append(counters)
        if self.clones:
            _track_inserts()

    def before_class(self) -> None:
        for counters in list(self.clones):
            try:
                counters.restore()
            except Exception as error:
                _warn(counters.connection, error)
                self.clones.remove(counters)


def _warn(connection: Any, error: Exception) -> None:
    sys.stderr.write(
        f"django-concurrent-test: cannot reset the counters of database alias "
        f"'{connection.alias}' ({error}); classes see what earlier classes left\n"
    )
