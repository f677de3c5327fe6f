"""A project of TestCase classes with known, uneven durations (for reports and CI sharding)."""

SECRET_KEY = "shard-suite-only"
DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "timed"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TEST_RUNNER = "django_concurrent_test.runner.ConcurrentTestRunner"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CONCURRENT_TEST_CONFIG = {"enabled": True}
