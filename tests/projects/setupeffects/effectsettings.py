"""Tests whose outcomes depend on what creating the test database did to the process, and on
the counters that earlier classes left."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "setup-effects-only"
DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "effects"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TEST_RUNNER = "django_concurrent_test.runner.ConcurrentTestRunner"

_db = os.environ.get("EXAMPLE_DB", "sqlite")
# Lets several checkouts share one server without their test databases colliding.
_suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
if _db == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "effects_backend.postgresql",
            "NAME": "setupeffects" + _suffix,
            "USER": os.environ.get("EXAMPLE_DB_USER", "postgres"),
            "HOST": "127.0.0.1",
            "PORT": "5432",
        }
    }
elif _db in ("mariadb", "mysql"):
    import pymysql

    pymysql.install_as_MySQLdb()
    pymysql.version_info = (2, 2, 7, "final", 0)
    DATABASES = {
        "default": {
            "ENGINE": "effects_backend.mysql",
            "NAME": "setupeffects" + _suffix,
            "USER": "root",
            "HOST": "127.0.0.1",
            "PORT": "3306",
        }
    }
else:
    DATABASES = {
        "default": {"ENGINE": "effects_backend.sqlite3", "NAME": BASE_DIR / "effects.sqlite3"}
    }

CONCURRENT_TEST_CONFIG = {"enabled": True}
