"""The safety gate, seen from a user's terminal: every bad input (environment, settings, names,
hosts, privileges) is refused with one exact line and a hint, exit status 2, no traceback, no
fallback, and the servers' database lists are identical before and after. Then "local only": a
full suite runs with every outbound connection other than the database refused."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import CI, _probe, _reachable
from helpers import EDGECASES, PYTHON, REPO, run_concurrent

pytestmark = pytest.mark.integration

SUFFIX = os.environ.get("EXAMPLE_DB_SUFFIX", "")
# Limited accounts made for these tests only (their names carry this checkout's suffix).
PG_ROLE = f"safety_nocreatedb{SUFFIX}"
MARIADB_USER = f"safety_nocreate{SUFFIX}"
EDGE_NAME = f"edgecases{SUFFIX}"
ENGINE = REPO / "python" / "django_concurrent_test" / "_engine" / "cli.mjs"
NODE = shutil.which("node") or "node"

HINT = {
    "opt_in": "set DJANGO_ENABLE_CONCURRENT=1 (1, true or yes), or"
    ' CONCURRENT_TEST_CONFIG["enabled"] = True with the variable unset',
    "telemetry": "set NO_TELEMETRY=1 in the environment of the test run",
    "debug": 'use development/test settings, or set CONCURRENT_TEST_CONFIG["allow_debug_false"]'
    " = True (common for CI settings)",
    "production": "test databases must not look like production (prod_*, production*, live_*,"
    " staging_*, *_prod, *_production, *_live, *_staging); use development settings",
    "test_name": "name test databases test_* or *_test (or add a pattern to CONCURRENT_TEST_CONFIG"
    '["test_patterns"])',
    "safe_name": 'database names may use ASCII letters, digits, "_" and "-", at most 63 bytes for'
    " PostgreSQL and 64 characters for MySQL/MariaDB, clone suffix included",
    "host": "test against a local server, or list the host in CONCURRENT_TEST_CONFIG"
    '["allowed_hosts"] if that server only holds test databases',
    "settings": "fix CONCURRENT_TEST_CONFIG in the settings module",
    "regex": "patterns are JavaScript regular expressions, matched case-insensitively",
    "pg_grant": f'grant it (ALTER ROLE "{PG_ROLE}" CREATEDB;) or use a role that may create'
    " databases",
    "timeout": "pass the seconds one test class may take, such as --timeout 600 (default 300)",
    "env_timeout": "set DJANGO_TEST_TIMEOUT to the seconds one test class may take, such as 600,"
    " or unset it",
    "workers": "pass a whole number such as --workers 4, or leave it out for one worker per CPU",
    "env_workers": "set DJANGO_TEST_WORKERS to a whole number such as 4, or unset it for one"
    " worker per CPU",
    "shard": "pass --shard i/N on each of N CI jobs, e.g. --shard 1/4 to --shard 4/4",
    "one_shard": "use at most 1 shard for this selection of tests",
    "connections": "use at most {n} workers (--workers or DJANGO_TEST_WORKERS), or raise the"
    " server's max_connections",
    "mariadb_grant": "grant it (GRANT CREATE ON `test\\_"
    + EDGE_NAME.replace("_", "\\_")
    + f"%`.* TO '{MARIADB_USER}'@'%';) or use a role that may create databases",
}

HINT["both_opt_in"] = f"{HINT['opt_in']}; and {HINT['telemetry']}"
# Stands for a number the server decides (connections in use): any digits match.
ANY_NUMBER = "{n}"

UNSET = None  # an env value that removes the variable


@dataclass(frozen=True)
class Case:
    id: str
    backend: str
    #: The exception's name and message line, then the hint key (None: no hint line).
    error: str
    hint: str | None
    databases: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str | None] = field(default_factory=dict)
    args: tuple[str, ...] = ("--workers", "2")
    debug: bool = True
    #: Run the engine's own command line instead of manage.py test.
    cli: bool = False


def prod(where: str, name: str, pattern: str) -> str:
    return (
        f'SecurityException: production database prohibited: DATABASES["default"] {where}'
        f' "{name}" matches the production pattern /{pattern}/'
    )


def unsafe(name: str, where: str, reason: str) -> str:
    where = f'DATABASES["default"] {where}'
    return f"SecurityException: unsafe database name {name} ({where}): {reason}"


def host(value: str, source: str = 'DATABASES["default"] HOST') -> str:
    return (
        f'SecurityException: database host "{value}" from {source} is not local (loopback or'
        " unix socket); refusing to connect"
    )


def with_test_name(name: str) -> dict[str, Any]:
    return {"default": {"TEST": {"NAME": name}}}


NOT_ENABLED = "SecurityException: concurrent testing is disabled: DJANGO_ENABLE_CONCURRENT is"
OVERRIDES = '(it overrides CONCURRENT_TEST_CONFIG["enabled"])'
TELEMETRY = "SecurityException: NO_TELEMETRY=1 is required: NO_TELEMETRY is"
LONG_PG = f"test_{EDGE_NAME}_" + "x" * (64 - len(f"test_{EDGE_NAME}_"))  # 64 bytes
# Fits; its template <first 48 bytes>_<hash> leaves room for "_999", not for "_1000".
CLONE_PG = LONG_PG[:62]
LONG_MY = LONG_PG + "y"  # 65 characters
# {trap} is a local, non-loopback address with a listener that must never see a connection;
# {port} its port; {tmp} a fresh directory for SQLite files.
TRAP_SOURCE = 'DATABASES["default"] HOST'

CASES = [
    # Opt-in: DJANGO_ENABLE_CONCURRENT (or CONCURRENT_TEST_CONFIG["enabled"]) and NO_TELEMETRY.
    Case(
        "env-enable-unset",
        "sqlite",
        f"{NOT_ENABLED} not set",
        "opt_in",
        config={"enabled": None},
        env={"DJANGO_ENABLE_CONCURRENT": UNSET},
    ),
    Case(
        "env-enable-settings-false",
        "sqlite",
        f"{NOT_ENABLED} not set",
        "opt_in",
        config={"enabled": False},
        env={"DJANGO_ENABLE_CONCURRENT": UNSET},
    ),
    Case(
        "env-enable-0",
        "sqlite",
        f'{NOT_ENABLED} "0" {OVERRIDES}',
        "opt_in",
        env={"DJANGO_ENABLE_CONCURRENT": "0"},
    ),
    Case(
        "env-enable-false",
        "sqlite",
        f'{NOT_ENABLED} "False" {OVERRIDES}',
        "opt_in",
        env={"DJANGO_ENABLE_CONCURRENT": "False"},
    ),
    Case(
        "env-enable-empty",
        "sqlite",
        f'{NOT_ENABLED} "" {OVERRIDES}',
        "opt_in",
        env={"DJANGO_ENABLE_CONCURRENT": ""},
    ),
    Case(
        "env-enable-word",
        "sqlite",
        f'{NOT_ENABLED} "enabled" {OVERRIDES}',
        "opt_in",
        env={"DJANGO_ENABLE_CONCURRENT": "enabled"},
    ),
    Case(
        "env-telemetry-unset",
        "sqlite",
        f"{TELEMETRY} not set",
        "telemetry",
        env={"NO_TELEMETRY": UNSET},
    ),
    Case("env-telemetry-0", "sqlite", f'{TELEMETRY} "0"', "telemetry", env={"NO_TELEMETRY": "0"}),
    Case(
        "env-telemetry-true",
        "sqlite",
        f'{TELEMETRY} "true"',
        "telemetry",
        env={"NO_TELEMETRY": "true"},
    ),
    Case("env-telemetry-empty", "sqlite", f'{TELEMETRY} ""', "telemetry", env={"NO_TELEMETRY": ""}),
    # Settings: DEBUG=False, and malformed safety keys.
    Case(
        "settings-debug-false",
        "sqlite",
        "SecurityException: settings.DEBUG is False in safety_settings, which looks like"
        " production settings",
        "debug",
        debug=False,
    ),
    Case(
        "settings-debug-false-not-allowed",
        "sqlite",
        "SecurityException: settings.DEBUG is False in safety_settings, which looks like"
        " production settings",
        "debug",
        debug=False,
        config={"allow_debug_false": False},
    ),
    Case(
        "settings-allow-debug-false-not-bool",
        "sqlite",
        'ConfigError: CONCURRENT_TEST_CONFIG["allow_debug_false"] must be boolean, not "yes"',
        "settings",
        config={"allow_debug_false": "yes"},
    ),
    Case(
        "settings-empty-allowed-host",
        "sqlite",
        'ConfigError: CONCURRENT_TEST_CONFIG["allowed_hosts"]["0"] must NOT have fewer than 1'
        " characters",
        "settings",
        config={"allowed_hosts": [""]},
    ),
    Case(
        "settings-bad-pattern",
        "sqlite",
        'ConfigError: CONCURRENT_TEST_CONFIG["production_patterns"] has an invalid regular'
        ' expression: "(["',
        "regex",
        config={"production_patterns": ["(["]},
    ),
    # SQLite names: files are judged by their base name.
    Case(
        "sqlite-name-prod",
        "sqlite",
        prod("NAME", "{tmp}/prod_edge.sqlite3", "^prod_"),
        "production",
        databases={"default": {"NAME": "{tmp}/prod_edge.sqlite3"}},
    ),
    Case(
        "sqlite-test-name-live",
        "sqlite",
        prod("TEST NAME", "{tmp}/test_edge_live.sqlite3", "_live$"),
        "production",
        databases=with_test_name("{tmp}/test_edge_live.sqlite3"),
    ),
    Case(
        "sqlite-test-name-quote",
        "sqlite",
        unsafe(
            '"{tmp}/test_edge\'x.sqlite3"',
            "TEST NAME",
            "its file name contains a single quote (U+0027)"
            ' (allowed: ASCII letters, digits, "_", "-", ".")',
        ),
        "safe_name",
        databases=with_test_name("{tmp}/test_edge'x.sqlite3"),
    ),
    # Production patterns, case-insensitive, on NAME and TEST NAME; user patterns only add.
    *[
        Case(
            f"pg-name-{pattern.strip('^$')}",
            "postgres",
            prod("NAME", name, pattern),
            "production",
            databases={"default": {"NAME": name}},
        )
        for name, pattern in [
            (f"prod_{EDGE_NAME}", "^prod_"),
            (f"production{SUFFIX}", "^production"),
            (f"live_{EDGE_NAME}", "^live_"),
            (f"staging_{EDGE_NAME}", "^staging_"),
            (f"{EDGE_NAME}_prod", "_prod$"),
            (f"{EDGE_NAME}_production", "_production$"),
            (f"{EDGE_NAME}_live", "_live$"),
            (f"{EDGE_NAME}_staging", "_staging$"),
        ]
    ],
    Case(
        "pg-name-uppercase",
        "postgres",
        prod("NAME", f"PROD_{EDGE_NAME}", "^prod_"),
        "production",
        databases={"default": {"NAME": f"PROD_{EDGE_NAME}"}},
    ),
    Case(
        "pg-test-name-prod",
        "postgres",
        prod("TEST NAME", f"test_{EDGE_NAME}_prod", "_prod$"),
        "production",
        databases=with_test_name(f"test_{EDGE_NAME}_prod"),
    ),
    Case(
        "pg-user-production-pattern",
        "postgres",
        prod("NAME", EDGE_NAME, "^edgecases"),
        "production",
        config={"production_patterns": ["^edgecases"]},
    ),
    Case(
        "pg-test-patterns-cannot-allow-production",
        "postgres",
        prod("NAME", f"live_{EDGE_NAME}", "^live_"),
        "production",
        databases={"default": {"NAME": f"live_{EDGE_NAME}"}},
        config={"test_patterns": [".*"], "production_patterns": []},
    ),
    Case(
        "pg-refusal-never-falls-back",
        "postgres",
        prod("NAME", f"prod_{EDGE_NAME}", "^prod_"),
        "production",
        databases={"default": {"NAME": f"prod_{EDGE_NAME}"}},
        args=("--workers", "1"),
    ),
    Case(
        "pg-command-line-refusal",
        "postgres",
        prod("NAME", f"{EDGE_NAME}_live", "_live$"),
        "production",
        databases={"default": {"NAME": f"{EDGE_NAME}_live"}},
        args=("--workers", "1"),
        cli=True,
    ),
    Case(
        "pg-test-name-no-test-pattern",
        "postgres",
        f'SecurityException: DATABASES["default"] TEST NAME "{EDGE_NAME}_tests" matches no test'
        " database pattern",
        "test_name",
        databases=with_test_name(f"{EDGE_NAME}_tests"),
    ),
    # Sanitization: hostile characters and lengths, refused before any SQL is built.
    *[
        Case(
            f"pg-test-name-{label}",
            "postgres",
            unsafe(shown, "TEST NAME", reason),
            "safe_name",
            databases=with_test_name(name),
        )
        for label, name, shown, reason in [
            (
                "double-quote",
                f'test_{EDGE_NAME}"; DROP DATABASE postgres; --',
                f'"test_{EDGE_NAME}\\"; DROP DATABASE postgres; --"',
                f"it contains a double quote (U+0022) at position {len(EDGE_NAME) + 6}",
            ),
            (
                "single-quote",
                f"test_{EDGE_NAME}'x",
                f'"test_{EDGE_NAME}\'x"',
                f"it contains a single quote (U+0027) at position {len(EDGE_NAME) + 6}",
            ),
            (
                "semicolon",
                f"test_{EDGE_NAME};DROP",
                f'"test_{EDGE_NAME};DROP"',
                f"it contains a semicolon (U+003B) at position {len(EDGE_NAME) + 6}",
            ),
            (
                "backslash",
                f"test_{EDGE_NAME}\\x",
                f'"test_{EDGE_NAME}\\\\x"',
                f"it contains a backslash (U+005C) at position {len(EDGE_NAME) + 6}",
            ),
            (
                "space",
                f"test {EDGE_NAME}",
                f'"test {EDGE_NAME}"',
                "it contains a space (U+0020) at position 5",
            ),
            (
                "nul",
                f"test_{EDGE_NAME}\u0000x",
                f'"test_{EDGE_NAME}\\u0000x"',
                f"it contains a NUL byte (U+0000) at position {len(EDGE_NAME) + 6}",
            ),
            (
                "newline",
                f"test_{EDGE_NAME}\nx",
                f'"test_{EDGE_NAME}\\nx"',
                f"it contains a control character (U+000A) at position {len(EDGE_NAME) + 6}",
            ),
            (
                "escape",
                f"test_{EDGE_NAME}\u001b[2J",
                f'"test_{EDGE_NAME}\\u001b[2J"',
                f"it contains a control character (U+001B) at position {len(EDGE_NAME) + 6}",
            ),
            (
                "cyrillic-e",
                f"t\u0435st_{EDGE_NAME}",
                f'"t\\u{{435}}st_{EDGE_NAME}"',
                "it contains the non-ASCII character U+0435 (a possible look-alike) at position 2",
            ),
            (
                "zero-width",
                f"test_\u200b{EDGE_NAME}",
                f'"test_\\u{{200b}}{EDGE_NAME}"',
                "it contains the non-ASCII character U+200B (a possible look-alike) at position 6",
            ),
            (
                "fullwidth-semicolon",
                f"test_{EDGE_NAME}\uff1bx",
                f'"test_{EDGE_NAME}\\u{{ff1b}}x"',
                "it contains the non-ASCII character U+FF1B (a possible look-alike) at position"
                f" {len(EDGE_NAME) + 6}",
            ),
            ("leading-hyphen", f"-test_{EDGE_NAME}", f'"-test_{EDGE_NAME}"', 'it starts with "-"'),
            ("over-long", LONG_PG, f'"{LONG_PG}"', "it is 64 bytes long; PostgreSQL allows 63"),
        ]
    ],
    Case(
        "pg-clone-name-over-long",
        "postgres",
        unsafe(
            f'"{CLONE_PG[:48]}_<hash>_1000"',
            "clone for worker 1000",
            "it is 64 bytes long; PostgreSQL allows 63",
        ),
        "safe_name",
        databases=with_test_name(CLONE_PG),
        args=("--workers", "1000"),
    ),
    Case(
        "pg-derived-test-name",
        "postgres",
        unsafe(
            f'"test_{EDGE_NAME};x"',
            "test database name",
            f"it contains a semicolon (U+003B) at position {len(EDGE_NAME) + 6}",
        ),
        "safe_name",
        databases={"default": {"NAME": f"{EDGE_NAME};x"}},
    ),
    Case(
        "mariadb-test-name-backtick",
        "mariadb",
        unsafe(
            f'"test_{EDGE_NAME}`; DROP DATABASE mysql"',
            "TEST NAME",
            f"it contains a backtick (U+0060) at position {len(EDGE_NAME) + 6}",
        ),
        "safe_name",
        databases=with_test_name(f"test_{EDGE_NAME}`; DROP DATABASE mysql"),
    ),
    Case(
        "mariadb-test-name-over-long",
        "mariadb",
        unsafe(f'"{LONG_MY}"', "TEST NAME", "it is 65 characters long; MySQL/MariaDB allows 64"),
        "safe_name",
        databases=with_test_name(LONG_MY),
    ),
    Case(
        "mariadb-name-staging",
        "mariadb",
        prod("NAME", f"{EDGE_NAME}_staging", "_staging$"),
        "production",
        databases={"default": {"NAME": f"{EDGE_NAME}_staging"}},
    ),
    # Host guard: a refused host is never connected to (the trap listener sees nothing).
    Case(
        "pg-host-remote",
        "postgres",
        host("{trap}"),
        "host",
        databases={"default": {"HOST": "{trap}", "PORT": "{port}"}},
    ),
    Case(
        "pg-host-dns-name",
        "postgres",
        host("db.example.com"),
        "host",
        databases={"default": {"HOST": "db.example.com"}},
    ),
    Case(
        "pg-host-list",
        "postgres",
        host("{trap}"),
        "host",
        databases={"default": {"HOST": "127.0.0.1,{trap}", "PORT": "{port}"}},
    ),
    Case(
        "pg-host-any-address",
        "postgres",
        host("0.0.0.0"),
        "host",
        databases={"default": {"HOST": "0.0.0.0"}},
    ),
    Case(
        "pg-host-not-in-allowed-hosts",
        "postgres",
        host("{trap}"),
        "host",
        databases={"default": {"HOST": "{trap}", "PORT": "{port}"}},
        config={"allowed_hosts": ["db.example.com"]},
    ),
    Case(
        "pg-pghost",
        "postgres",
        host("{trap}", 'PGHOST (used because DATABASES["default"] HOST is empty)'),
        "host",
        databases={"default": {"HOST": "", "PORT": ""}},
        env={"PGHOST": "{trap}", "PGPORT": "{port}"},
    ),
    Case(
        "pg-pghostaddr",
        "postgres",
        host("{trap}", 'PGHOSTADDR (used by DATABASES["default"])'),
        "host",
        databases={"default": {"PORT": "{port}"}},
        env={"PGHOSTADDR": "{trap}"},
    ),
    Case(
        "mariadb-host-remote",
        "mariadb",
        host("{trap}"),
        "host",
        databases={"default": {"HOST": "{trap}", "PORT": "{port}"}},
    ),
    Case(
        "mariadb-mysql-host",
        "mariadb",
        host("{trap}", 'MYSQL_HOST (used because DATABASES["default"] HOST is empty)'),
        "host",
        databases={"default": {"HOST": ""}},
        env={"MYSQL_HOST": "{trap}"},
    ),
    # Permission validation against real limited accounts.
    Case(
        "mariadb-user-without-create",
        "mariadb",
        f'InsufficientPrivileges: database user "{MARIADB_USER}@%" of DATABASES["default"]'
        f" (mysql at 127.0.0.1:3306) lacks the CREATE privilege needed to create and drop"
        f' "test_{EDGE_NAME}" and one clone per worker',
        "mariadb_grant",
        databases={"default": {"USER": MARIADB_USER}},
    ),
    Case(
        "pg-role-without-createdb",
        "postgres",
        f'InsufficientPrivileges: database user "{PG_ROLE}" of DATABASES["default"] (postgresql'
        f" at 127.0.0.1:5432) lacks the CREATEDB privilege needed to create and drop"
        f' "test_{EDGE_NAME}" and one clone per worker',
        "pg_grant",
        databases={"default": {"USER": PG_ROLE}},
    ),
    # Numbers: non-finite, absurd or malformed values are refused at once, with a hint.
    *[
        Case(
            f"timeout-{label}",
            "sqlite",
            f'ConfigError: --timeout must be a finite number of seconds above 0, not "{value}"',
            "timeout",
            args=("--workers", "2", f"--timeout={value}"),
            cli=cli,
        )
        for label, value, cli in [
            ("inf", "inf", False),
            ("nan", "nan", False),
            ("negative-inf", "-inf", False),
            ("engine-cli-inf", "inf", True),
        ]
    ],
    Case(
        "settings-timeout-inf",
        "sqlite",
        'ConfigError: CONCURRENT_TEST_CONFIG["timeout"] must be number, not "inf"',
        "settings",
        config={"timeout": float("inf")},
    ),
    Case(
        "settings-race-probability-nan",
        "sqlite",
        'ConfigError: CONCURRENT_TEST_CONFIG["race"]["probability"] must be number, not "nan"',
        "settings",
        config={"race": {"probability": float("nan")}},
    ),
    *[
        Case(
            f"env-timeout-{label}",
            "sqlite",
            "ConfigError: DJANGO_TEST_TIMEOUT must be a finite number of seconds above 0,"
            f' not "{value}"',
            "env_timeout",
            env={"DJANGO_TEST_TIMEOUT": value},
        )
        for label, value in [("inf", "inf"), ("word", "soon"), ("zero", "0")]
    ],
    Case(
        "workers-zero",
        "sqlite",
        "ConfigError: --workers must be a whole number of at least 1, not 0",
        "workers",
        args=("--workers", "0"),
    ),
    Case(
        "workers-absurd",
        "sqlite",
        "ConfigError: --workers 1000000000 is more than the 1024 workers one run may start",
        "workers",
        args=("--workers", "1000000000"),
    ),
    Case(
        "engine-cli-workers-word",
        "sqlite",
        'ConfigError: --workers must be a whole number of at least 1, not "many"',
        "workers",
        args=("--workers", "many"),
        cli=True,
    ),
    Case(
        "env-workers-absurd",
        "sqlite",
        "ConfigError: DJANGO_TEST_WORKERS 1000000000 is more than the 1024 workers one run may"
        " start",
        "env_workers",
        env={"DJANGO_TEST_WORKERS": "1000000000"},
        args=(),
    ),
    Case(
        "env-workers-word",
        "sqlite",
        'ConfigError: DJANGO_TEST_WORKERS must be a whole number of at least 1, not "many"',
        "env_workers",
        env={"DJANGO_TEST_WORKERS": "many"},
        args=(),
    ),
    Case(
        "settings-workers-absurd",
        "sqlite",
        'ConfigError: CONCURRENT_TEST_CONFIG["workers"] must be <= 1024',
        "settings",
        config={"workers": 1000000000},
        args=(),
    ),
    Case(
        "shard-absurd",
        "sqlite",
        "ConfigError: --shard 1/1000000000 asks for more than 1024 shards",
        "shard",
        args=("--workers", "2", "--shard", "1/1000000000"),
    ),
    Case(
        "shard-word",
        "sqlite",
        'ConfigError: --shard must be i/N with 1 <= i <= N (e.g. 2/4), not "half"',
        "shard",
        args=("--workers", "2", "--shard", "half"),
    ),
    Case(
        "shard-more-than-classes",
        "sqlite",
        "ConfigError: --shard 3/3 splits the suite into more parts than its 1 test class",
        "one_shard",
        args=("--workers", "2", "-v", "0", "--shard", "3/3", "edge.tests.DatabaseTests"),
    ),
    # Both opt-ins missing: said at once.
    Case(
        "env-enable-and-telemetry-unset",
        "sqlite",
        f"{NOT_ENABLED} not set; NO_TELEMETRY=1 is required: NO_TELEMETRY is not set",
        "both_opt_in",
        config={"enabled": None},
        env={"DJANGO_ENABLE_CONCURRENT": UNSET, "NO_TELEMETRY": UNSET},
    ),
    # A vendor the engine cannot clone (the run falls back): the same name rules.
    *[
        Case(
            f"other-vendor-{label}",
            "sqlite",
            error,
            hint,
            databases={"default": {"ENGINE": "otherdb", "TEST": {"NAME": name}}},
        )
        for label, name, error, hint in [
            (
                "quote",
                'test_edge"; --',
                unsafe(
                    '"test_edge\\"; --"',
                    "TEST NAME",
                    "it contains a double quote (U+0022) at position 10",
                ),
                "safe_name",
            ),
            (
                "live",
                "{tmp}/test_edge_live.db",
                prod("TEST NAME", "{tmp}/test_edge_live.db", "_live$"),
                "production",
            ),
            (
                "no-test-pattern",
                "{tmp}/edge_copy.db",
                'SecurityException: DATABASES["default"] TEST NAME "{tmp}/edge_copy.db" matches no'
                " test database pattern",
                "test_name",
            ),
        ]
    ],
    # More workers than the server accepts connections: refused before anything is made.
    Case(
        "pg-workers-over-connection-limit",
        "postgres",
        'ConfigError: 500 workers need 501 connections to DATABASES["default"] (postgresql at'
        " 127.0.0.1:5432), which accepts {n} more (limit {n}, {n} in use)",
        "connections",
        args=("--workers", "500"),
    ),
    Case(
        "mariadb-workers-over-connection-limit",
        "mariadb",
        'ConfigError: 500 workers need 501 connections to DATABASES["default"] (mysql at'
        " 127.0.0.1:3306), which accepts {n} more (limit {n}, {n} in use)",
        "connections",
        args=("--workers", "500"),
    ),
]


def _trap_address() -> str:
    """This machine's own non-loopback IPv4 address (a UDP connect sends nothing)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address: str = probe.getsockname()[0]
    except OSError:
        address = ""
    finally:
        probe.close()
    return address if address and not address.startswith("127.") else ""


@pytest.fixture(scope="module")
def trap() -> Iterator[tuple[str, int, socket.socket | None]]:
    """A listener on a local non-loopback address: a refused host pointing here must never
    be connected to. Without such an address the cases use a documentation address."""
    address = _trap_address()
    if not address:
        yield "198.51.100.7", 5432, None
        return
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((address, 0))
    listener.listen(16)
    listener.setblocking(False)
    yield address, listener.getsockname()[1], listener
    listener.close()


def _server_lists() -> dict[str, list[str]]:
    """Every database on each reachable server whose name carries this checkout's suffix."""
    lists: dict[str, list[str]] = {}
    for backend in ("postgres", "mariadb"):
        if backend not in _reachable:
            _reachable[backend] = _probe(backend)
        if _reachable[backend] is not None:
            continue
        if backend == "postgres":
            import psycopg

            with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres") as conn:
                names = [r[0] for r in conn.execute("SELECT datname FROM pg_database")]
        else:
            import pymysql

            conn = pymysql.connect(host="127.0.0.1", user="root", password="")
            try:
                with conn.cursor() as cur:
                    cur.execute("SHOW DATABASES")
                    names = [r[0] for r in cur.fetchall()]
            finally:
                conn.close()
        lists[backend] = sorted(n for n in names if SUFFIX.lower() in n.lower())
    return lists


@pytest.fixture(scope="module")
def limited_accounts() -> Iterator[None]:
    """A PostgreSQL role without CREATEDB and a MariaDB user without CREATE, for this module."""
    made: list[str] = []
    if _probe("postgres") is None:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{PG_ROLE}"')
            conn.execute(f'CREATE ROLE "{PG_ROLE}" LOGIN NOCREATEDB NOSUPERUSER')
        made.append("postgres")
    if _probe("mariadb") is None:
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP USER IF EXISTS '{MARIADB_USER}'@'%'")
                cur.execute(f"CREATE USER '{MARIADB_USER}'@'%'")
                # Everything a test run needs except CREATE.
                cur.execute(
                    "GRANT SELECT, INSERT, UPDATE, DELETE, DROP, ALTER, INDEX,"
                    f" REFERENCES ON *.* TO '{MARIADB_USER}'@'%'"
                )
        finally:
            conn.close()
        made.append("mariadb")
    yield
    if "postgres" in made:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{PG_ROLE}"')
    if "mariadb" in made:
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP USER IF EXISTS '{MARIADB_USER}'@'%'")
        finally:
            conn.close()


def _fill(value: Any, places: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in places.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, places) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, places) for v in value]
    return value


def refuse(case: Case, places: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "PGHOST", "PGHOSTADDR", "PGPORT", "MYSQL_HOST"}
    }
    env.update(
        {
            "EXAMPLE_DB": case.backend,
            "DJANGO_SETTINGS_MODULE": "safety_settings",
            "DJANGO_ENABLE_CONCURRENT": "1",
            "NO_TELEMETRY": "1",
            "SAFETY_DATABASES": json.dumps(_fill(case.databases, places)),
            "SAFETY_CONFIG": json.dumps(_fill(case.config, places)),
            "SAFETY_DEBUG": "1" if case.debug else "0",
        }
    )
    for key, value in _fill(case.env, places).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [NODE, str(ENGINE), "run", "--python", PYTHON, *case.args]
        if case.cli
        else [PYTHON, "manage.py", "test", *case.args],
        cwd=EDGECASES,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _param(case: Case) -> Any:
    marks = {"postgres": [pytest.mark.postgres], "mariadb": [pytest.mark.mariadb]}
    return pytest.param(case.backend, case, id=case.id, marks=marks.get(case.backend, []))


def test_the_table_has_at_least_40_bad_inputs() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@dataclass
class Refusal:
    proc: subprocess.CompletedProcess[str]
    places: dict[str, str]
    servers_before: dict[str, list[str]]
    servers_after: dict[str, list[str]]
    files_before: list[Path]
    files_after: list[Path]


# Cases run a few at a time (each is a Python + Node start-up, mostly waiting). Each still
# compares the database lists just before and just after its own run.
CONCURRENCY = 4


@pytest.fixture(scope="module")
def refusals(
    request: Any, trap: tuple[str, int, Any], limited_accounts: None, tmp_path_factory: Any
) -> dict[str, Refusal]:
    """Runs every selected case whose server is reachable, concurrently; results by case id."""
    address, port, _ = trap
    wanted = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_bad_input_is_refused"
    ]
    _server_lists()  # probes each server once, before the threads start
    runnable = [c for c in wanted if c.backend == "sqlite" or _reachable.get(c.backend) is None]
    dirs = {c.id: tmp_path_factory.mktemp(c.id) for c in runnable}

    def one(case: Case) -> Refusal:
        tmp = dirs[case.id]
        places = {"trap": address, "port": str(port), "tmp": str(tmp)}
        servers_before, files_before = _server_lists(), sorted(tmp.iterdir())
        proc = refuse(case, places)
        return Refusal(
            proc, places, servers_before, _server_lists(), files_before, sorted(tmp.iterdir())
        )

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return dict(zip([c.id for c in runnable], pool.map(one, runnable), strict=True))


@pytest.mark.parametrize(("backend", "case"), [_param(c) for c in CASES], indirect=["backend"])
def test_bad_input_is_refused(
    backend: str, case: Case, refusals: dict[str, Refusal], trap: tuple[str, int, Any]
) -> None:
    result = refusals[case.id]
    expected = _fill(case.error, result.places) + "\n"
    if case.hint:
        expected += f"Hint: {HINT[case.hint]}\n"
    if ANY_NUMBER in expected:
        number = re.escape(ANY_NUMBER)
        assert re.fullmatch(re.escape(expected).replace(number, r"\d+"), result.proc.stderr), (
            result.proc.stderr
        )
    else:
        assert result.proc.stderr == expected
    assert result.proc.stdout == ""
    assert result.proc.returncode == 2
    assert result.servers_after == result.servers_before
    assert result.files_after == result.files_before
    listener = trap[2]
    if listener is not None:
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected to a refused host


# --- Local only ------------------------------------------------------------------------------

SANDBOX_TOOLS = ("unshare", "strace")
PG_SOCKET_DIR = "/var/run/postgresql"
MARIADB_SOCKET = "/run/mysqld/mysqld.sock"
# connect/sendto/sendmsg/sendmmsg name their destination; a connected socket's later sends do not.
TRACED = "trace=connect,sendto,sendmsg,sendmmsg"
FAMILY = re.compile(r"sa_family=(AF_[A-Z0-9]+)(?:, sun_path=\"([^\"]*)\")?")


def sandbox(command: list[str], trace: Path) -> list[str]:
    """Run in a fresh network namespace (no interface up: every outbound connection fails),
    recording each connection attempt."""
    unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    return [
        *unshare,
        "strace",
        "-f",
        "-qq",
        "-e",
        TRACED,
        "-e",
        "signal=none",
        "-o",
        str(trace),
        *command,
    ]


def destinations(trace: Path) -> list[tuple[str, str]]:
    """(family, unix path) of every connection attempt the trace recorded."""
    found = []
    for line in trace.read_text().splitlines():
        for family, path in FAMILY.findall(line):
            found.append((family, path))
    return found


def require_sandbox() -> None:
    missing = [tool for tool in SANDBOX_TOOLS if shutil.which(tool) is None]
    probe = subprocess.run(
        ["unshare", "-n", "true"] if not missing else ["false"], capture_output=True
    )
    if missing or probe.returncode != 0:
        why = f"missing {missing}" if missing else probe.stderr.decode().strip()
        if CI:
            pytest.fail(f"the local-only test needs unshare and strace: {why}")
        pytest.skip(f"LOCAL-ONLY SANDBOX UNAVAILABLE: {why}")


def test_sandbox_refuses_and_records_outbound_connections(tmp_path: Path) -> None:
    """The instrument itself: an outbound attempt inside the sandbox fails and is recorded."""
    require_sandbox()
    trace = tmp_path / "trace.txt"
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=5)"
    proc = subprocess.run(sandbox([PYTHON, "-c", code], trace), capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Network is unreachable" in proc.stderr
    assert ("AF_INET", "") in destinations(trace)


@pytest.mark.parametrize(
    ("backend", "start_method"),
    [
        pytest.param("sqlite", "spawn", id="sqlite-spawn"),
        pytest.param("postgres", "fork", marks=pytest.mark.postgres, id="postgres-fork"),
        pytest.param("mariadb", "fork", marks=pytest.mark.mariadb, id="mariadb-fork"),
    ],
    indirect=["backend"],
)
def test_full_suite_runs_with_every_other_connection_refused(
    backend: str, start_method: str, tmp_path: Path
) -> None:
    require_sandbox()
    env = {"DJANGO_SETTINGS_MODULE": "safety_settings"}
    allowed = {"/var/run/nscd/socket"}  # glibc's name-service cache: a local socket
    # Inside the namespace even loopback is down: the server is reached by its unix socket.
    server_socket = {"postgres": f"{PG_SOCKET_DIR}/.s.PGSQL.5432", "mariadb": MARIADB_SOCKET}.get(
        backend
    )
    if server_socket:
        if not Path(server_socket).exists():
            pytest.skip(f"no {backend} unix socket at {server_socket}")
        host = PG_SOCKET_DIR if backend == "postgres" else MARIADB_SOCKET
        env["SAFETY_DATABASES"] = json.dumps({"default": {"HOST": host}})
        allowed.add(server_socket)
    args = ("--workers", "2", "--start-method", start_method)
    reference = run_concurrent(EDGECASES, *args, db=backend, env=env)

    trace = tmp_path / "trace.txt"
    log = tmp_path / "events.jsonl"
    full_env = {
        **os.environ,
        "EXAMPLE_DB": backend,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_ENABLE_CONCURRENT": "1",
        "NO_TELEMETRY": "1",
        "DJANGO_CONCURRENT_TEST_EVENT_LOG": str(log),
        **env,
    }
    proc = subprocess.run(
        sandbox([PYTHON, "manage.py", "test", *args], trace),
        cwd=EDGECASES,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    events = [json.loads(line) for line in log.read_text().splitlines()]
    outcomes: dict[str, list[str]] = {}
    for event in events:
        if event["type"] == "outcome":
            outcomes.setdefault(event.get("parent") or event["test"], []).append(event["outcome"])
    assert proc.returncode == reference.returncode == 1, proc.stderr  # edge cases fail on purpose
    assert {k: sorted(v) for k, v in outcomes.items()} == reference.outcomes
    assert len(outcomes) >= 10
    attempts = destinations(trace)
    assert attempts, "the trace recorded nothing: the instrument is broken"
    outbound = [a for a in attempts if a[0] != "AF_UNIX"]
    assert outbound == []
    worker_sockets = {p for f, p in attempts if p.endswith("/workers.sock")}
    assert worker_sockets, "workers reach the engine over its unix socket"
    assert {p for f, p in attempts} - allowed - worker_sockets == set()
    if server_socket:
        assert server_socket in {p for f, p in attempts}


# --- Exceptions --------------------------------------------------------------------------------


def test_exception_names_and_exit_statuses_match_the_engine() -> None:
    from django_concurrent_test import exceptions

    source = (
        Path(__file__).resolve().parents[1] / "engine" / "src" / "core" / "errors.ts"
    ).read_text()
    engine = {}
    for name, body in re.findall(r"export class (\w+) extends \w+ (\{\}|\{[^}]*\})", source):
        status = re.search(r"exitCode: number = (\d)", body)
        engine[name] = int(status.group(1)) if status else 2
    python = {
        name: cls.exit_code
        for name, cls in vars(exceptions).items()
        if isinstance(cls, type)
        and issubclass(cls, Exception)
        and cls.__module__ == exceptions.__name__
    }
    assert engine == python
    for name in (
        "SecurityException",
        "UnsupportedDatabase",
        "DatabaseTemplateException",
        "WorkerTimeout",
        "InsufficientPrivileges",
    ):
        assert name in python
