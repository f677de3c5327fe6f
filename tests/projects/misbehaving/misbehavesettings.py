"""A small project whose tests hang, crash and kill their own worker on purpose (for the tests of
worker supervision: tests/test_supervision.py). Run it with test labels that pick the
misbehaviour wanted; GoodTests and friends are the bystanders that must still pass."""

import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "misbehaving-only"
DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "misbehave"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TEST_RUNNER = "django_concurrent_test.runner.ConcurrentTestRunner"

if (
    os.environ.get("MISBEHAVE_BROKEN_WORKER")
    and sys.argv
    and sys.argv[0].endswith(os.path.join("django_concurrent_test", "worker.py"))
):
    # A spawned worker imports settings afresh: this one cannot (the bridge could).
    raise ImportError("misbehaving settings refuse to load in a worker")

_db = os.environ.get("EXAMPLE_DB", "sqlite")
# Lets several checkouts share one server without their test databases colliding.
_suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
if _db == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "misbehaving" + _suffix,
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
            "NAME": "misbehaving" + _suffix,
            "USER": "root",
            "HOST": "127.0.0.1",
            "PORT": "3306",
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "misbehaving.sqlite3",
        }
    }

CONCURRENT_TEST_CONFIG = {
    "enabled": True,
    "crash_retries": int(os.environ.get("MISBEHAVE_CRASH_RETRIES", "1")),
}
