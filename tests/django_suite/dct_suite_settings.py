"""Settings for Django's own test suite (``tests/runtests.py --settings=dct_suite_settings``).

Django's ``test_sqlite.py`` plus the server databases, chosen by ``DJANGO_SUITE_DB`` (``sqlite``,
``postgres``, ``mariadb``). ``DJANGO_SUITE_RUNNER`` names the runner: ours by default, or the
recording Django runner the comparison uses for Django's side.
"""

import os

_SUFFIX = os.environ.get("EXAMPLE_DB_SUFFIX", "")
_DB = os.environ.get("DJANGO_SUITE_DB", "sqlite")


def _server(engine: str, name: str, **extra: object) -> dict[str, object]:
    return {
        "ENGINE": engine,
        "NAME": name + _SUFFIX,
        "TEST": {"NAME": f"test_{name}{_SUFFIX}"},
        **extra,
    }


if _DB == "postgres":
    _pg = {"HOST": "127.0.0.1", "PORT": "5432", "USER": "postgres"}
    DATABASES = {
        "default": _server("django.db.backends.postgresql", "djsuite_default", **_pg),
        "other": _server("django.db.backends.postgresql", "djsuite_other", **_pg),
    }
elif _DB == "mariadb":
    # PyMySQL stands in for mysqlclient; Django checks MySQLdb.version_info against its minimum.
    import pymysql

    pymysql.install_as_MySQLdb()
    pymysql.version_info = (2, 2, 7, "final", 0)
    _my = {"HOST": "127.0.0.1", "PORT": "3306", "USER": "root", "PASSWORD": ""}
    DATABASES = {
        "default": _server("django.db.backends.mysql", "djsuite_default", **_my),
        "other": _server("django.db.backends.mysql", "djsuite_other", **_my),
    }
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3"},
        "other": {"ENGINE": "django.db.backends.sqlite3"},
    }

SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False

TEST_RUNNER = os.environ.get(
    "DJANGO_SUITE_RUNNER", "django_concurrent_test.runner.ConcurrentTestRunner"
)
# Django's suite leaves DEBUG unset (False), as CI settings do.
CONCURRENT_TEST_CONFIG = {"allow_debug_false": True}
