"""Settings for the bookstore example project.

The database backend is chosen with the ``EXAMPLE_DB`` environment variable:
``sqlite`` (the default), ``postgres``, ``mariadb`` or ``mysql``.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-bookstore-example-not-for-production"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "catalog",
    "orders",
    "accounts",
    "inventory",
    "reports",
    "integrations",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "bookstore.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases ---------------------------------------------------------------

EXAMPLE_DB = os.environ.get("EXAMPLE_DB", "sqlite").strip().lower()


def _server_databases(engine, port, user, options=None):
    def alias(name):
        config = {
            "ENGINE": engine,
            "NAME": name,
            "USER": user,
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": port,
        }
        if options:
            config["OPTIONS"] = dict(options)
        return config

    # EXAMPLE_DB_SUFFIX lets several checkouts share one server without colliding.
    suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
    return alias("bookstore" + suffix), alias("bookstore_other" + suffix)


if EXAMPLE_DB == "sqlite":
    _default = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "bookstore.sqlite3"}
    _other = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "bookstore_other.sqlite3"}
elif EXAMPLE_DB == "postgres":
    _default, _other = _server_databases(
        "django.db.backends.postgresql",
        "5432",
        os.environ.get("EXAMPLE_DB_USER", "postgres"),
    )
elif EXAMPLE_DB in ("mariadb", "mysql"):
    # mysqlclient is not required: PyMySQL stands in for MySQLdb. Django checks
    # MySQLdb.version_info against its minimum mysqlclient version, so report one.
    import pymysql

    pymysql.install_as_MySQLdb()
    pymysql.version_info = (2, 2, 7, "final", 0)
    _default, _other = _server_databases(
        "django.db.backends.mysql", "3306", "root", options={"charset": "utf8mb4"}
    )
else:
    raise ImproperlyConfigured(
        f"Unknown EXAMPLE_DB={EXAMPLE_DB!r}: use sqlite, postgres, mariadb or mysql."
    )

DATABASES = {
    "default": _default,
    # Audit models live here (see bookstore.routers.AuditRouter).
    "other": _other,
    # A read replica of "default"; during tests it mirrors the default test database.
    "replica": {**_default, "TEST": {"MIRROR": "default"}},
}

DATABASE_ROUTERS = ["bookstore.routers.AuditRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Internationalization ----------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

# --- Test runner -------------------------------------------------------------

TEST_RUNNER = "django_concurrent_test.runner.ConcurrentTestRunner"

# --- Application settings ----------------------------------------------------

# Simulated latency (seconds) of the external services used by ``integrations``.
INTEGRATIONS_LATENCY = 0.05
