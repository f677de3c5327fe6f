"""Settings of the pytest edge-case project (SQLite, or PostgreSQL with EXAMPLE_DB=postgres)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "pytest-edge-cases-only"
DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "notes"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True

if os.environ.get("EXAMPLE_DB", "sqlite") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "pytest_edge" + os.environ.get("EXAMPLE_DB_SUFFIX", ""),
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
        }
    }
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "edge.sqlite3"}
    }

CONCURRENT_TEST_CONFIG = {"enabled": True}
