"""Settings for the pytest example project (a lending library with a separate ledger database).

The database backend is chosen with the ``EXAMPLE_DB`` environment variable: ``sqlite`` (the
default), ``postgres``, ``mariadb`` or ``mysql``. ``EXAMPLE_DB_SUFFIX`` is appended to server
database names so several checkouts can share one server.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-pytest-example-not-for-production"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "library",
    "ledger",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "shelf.urls"

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
SUFFIX = os.environ.get("EXAMPLE_DB_SUFFIX", "")


def _server(engine, port, user, name, options=None):
    config = {
        "ENGINE": engine,
        "NAME": name + SUFFIX,
        "USER": user,
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": port,
    }
    if options:
        config["OPTIONS"] = dict(options)
    return config


if EXAMPLE_DB == "sqlite":
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "shelf.sqlite3"},
        "ledger": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "ledger.sqlite3"},
    }
elif EXAMPLE_DB == "postgres":
    _user = os.environ.get("EXAMPLE_DB_USER", "postgres")
    DATABASES = {
        "default": _server("django.db.backends.postgresql", "5432", _user, "shelf"),
        "ledger": _server("django.db.backends.postgresql", "5432", _user, "shelf_ledger"),
    }
elif EXAMPLE_DB in ("mariadb", "mysql"):
    # PyMySQL stands in for mysqlclient; Django checks MySQLdb's version, so report one.
    import pymysql

    pymysql.install_as_MySQLdb()
    pymysql.version_info = (2, 2, 7, "final", 0)
    _opts = {"charset": "utf8mb4"}
    DATABASES = {
        "default": _server("django.db.backends.mysql", "3306", "root", "shelf", _opts),
        "ledger": _server("django.db.backends.mysql", "3306", "root", "shelf_ledger", _opts),
    }
else:
    raise ImproperlyConfigured(
        f"Unknown EXAMPLE_DB={EXAMPLE_DB!r}: use sqlite, postgres, mariadb or mysql."
    )

# The ledger app's models live in the "ledger" database (see shelf.routers).
DATABASE_ROUTERS = ["shelf.routers.LedgerRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

# Opt in to concurrent runs (NO_TELEMETRY=1 must still be set in the environment).
CONCURRENT_TEST_CONFIG = {"enabled": True}

# --- Application settings ----------------------------------------------------

# Days a book may be borrowed before it is overdue.
LOAN_DAYS = 21
