"""Settings for the raceconditions example: a counter with a read-modify-write bug, the race
test that exposes it, and two fixes (see docs/race-conditions.md).

The database backend is chosen with the ``EXAMPLE_DB`` environment variable: ``sqlite`` (the
default), ``postgres``, ``mariadb`` or ``mysql``.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-raceconditions-example-not-for-production"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "counters",
]

MIDDLEWARE = [
    # First, so every query of the request (other middleware's too) gets delays. Outside
    # tests it removes itself from the chain.
    "django_concurrent_test.middleware.RaceConditionMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "raceconditions.urls"

# --- Databases ---------------------------------------------------------------

EXAMPLE_DB = os.environ.get("EXAMPLE_DB", "sqlite").strip().lower()
# EXAMPLE_DB_SUFFIX lets several checkouts share one server without colliding.
_NAME = "raceconditions" + os.environ.get("EXAMPLE_DB_SUFFIX", "")


def _server_database(engine, port, user, options=None):
    config = {
        "ENGINE": engine,
        "NAME": _NAME,
        "USER": user,
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": port,
    }
    if options:
        config["OPTIONS"] = dict(options)
    return config


if EXAMPLE_DB == "sqlite":
    _default = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "raceconditions.sqlite3"}
elif EXAMPLE_DB == "postgres":
    _default = _server_database(
        "django.db.backends.postgresql", "5432", os.environ.get("EXAMPLE_DB_USER", "postgres")
    )
elif EXAMPLE_DB in ("mariadb", "mysql"):
    # mysqlclient is not required: PyMySQL stands in for MySQLdb. Django checks
    # MySQLdb.version_info against its minimum mysqlclient version, so report one.
    import pymysql

    pymysql.install_as_MySQLdb()
    pymysql.version_info = (2, 2, 7, "final", 0)
    # The local server has no TLS; without ssl_disabled PyMySQL loads the system CA bundle
    # for every connection (~30 ms), and each racing thread opens its own connection.
    _default = _server_database(
        "django.db.backends.mysql",
        "3306",
        "root",
        options={"charset": "utf8mb4", "ssl_disabled": True},
    )
else:
    raise ImproperlyConfigured(
        f"Unknown EXAMPLE_DB={EXAMPLE_DB!r}: use sqlite, postgres, mariadb or mysql."
    )

DATABASES = {"default": _default}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# --- Tests -------------------------------------------------------------------

TEST_RUNNER = "django_concurrent_test.runner.ConcurrentTestRunner"

CONCURRENT_TEST_CONFIG = {
    "race": {
        # Every delay point sleeps, up to 10 ms: enough to widen a read-modify-write window
        # on every run while keeping a race of 8 requests well under a second.
        "probability": 1.0,
        "max_delay": 0.01,
        "include_paths": [r"^/counters/"],
    },
}
