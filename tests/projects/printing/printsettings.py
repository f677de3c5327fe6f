"""Tests that print (tests/test_output.py): what they write must come after Django's lines about
creating the test databases, and under --buffer a test may write a great deal."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "printing-only"
DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "printer"]
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
            "NAME": "printing" + _suffix,
            "USER": os.environ.get("EXAMPLE_DB_USER", "postgres"),
            "HOST": "127.0.0.1",
            "PORT": "5432",
        }
    }
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "printing.sqlite3"}
    }

CONCURRENT_TEST_CONFIG = {"enabled": True}
