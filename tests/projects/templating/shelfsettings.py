"""A small project for the templating tests: data migrations, and on servers a view, a trigger,
routines and (MariaDB/MySQL) an event, so clones are checked for all of them."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "templating-tests-only"
DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shelf"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TEST_RUNNER = "django_concurrent_test.runner.ConcurrentTestRunner"

_db = os.environ.get("EXAMPLE_DB", "sqlite")
# Lets several checkouts share one server without their test databases colliding.
_suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
if _db == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "shelf" + _suffix,
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
            "ENGINE": "django.db.backends.mysql",
            "NAME": "shelf" + _suffix,
            "USER": os.environ.get("EXAMPLE_DB_USER", "root"),
            "PASSWORD": os.environ.get("EXAMPLE_DB_PASSWORD", ""),
            "HOST": "127.0.0.1",
            "PORT": "3306",
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    }
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "shelf.sqlite3"}
    }

CONCURRENT_TEST_CONFIG = {"enabled": True}
