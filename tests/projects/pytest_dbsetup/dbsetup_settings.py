"""Settings of the pytest project whose conftest shapes the test database (PostgreSQL)."""

import os

SECRET_KEY = "pytest-dbsetup-only"
DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "tags"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "pytest_dbsetup" + os.environ.get("EXAMPLE_DB_SUFFIX", ""),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
}
CONCURRENT_TEST_CONFIG = {"enabled": True}
