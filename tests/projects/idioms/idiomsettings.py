"""A small project written the way real projects often are (tests/test_idioms.py): settings
idioms that Django's runner accepts, and tests that do what Django's runner handles its own
way. Environment variables pick the idiom under test."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "idioms-only"
if not os.environ.get("IDIOM_DEBUG_UNSET"):
    DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "idiom"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TEST_RUNNER = "django_concurrent_test.runner.ConcurrentTestRunner"


class DisableMigrations:
    """The common "no migrations in tests" idiom: every app is created from its models."""

    def __contains__(self, item: str) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None


if os.environ.get("IDIOM_DISABLE_MIGRATIONS"):
    MIGRATION_MODULES = DisableMigrations()

_db = os.environ.get("EXAMPLE_DB", "sqlite")
# Lets several checkouts share one server without their test databases colliding.
_suffix = os.environ.get("EXAMPLE_DB_SUFFIX", "")
if _db == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "idioms" + _suffix,
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
            "NAME": "idioms" + _suffix,
            "USER": "root",
            "HOST": "127.0.0.1",
            "PORT": "3306",
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "idioms.sqlite3",
        }
    }

CONCURRENT_TEST_CONFIG = {"enabled": True}

if os.environ.get("IDIOM_INTERNAL_ERROR"):
    # Simulates a bug of django-concurrent-test itself, raised in its fingerprint code.
    import functools

    from django_concurrent_test import fingerprint

    fingerprint._migration_modules = functools.partial(fingerprint._receivers, None)
