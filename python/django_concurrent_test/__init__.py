"""django-concurrent-test: run a Django test suite concurrently on clones of one migrated
test database. The engine (TypeScript, shipped in ``_engine/``) does the orchestration; this
package is the part that must run inside Django."""

# The one place the version is written: pyproject.toml reads it, engine/build.mjs injects it.
__version__ = "0.2.0"
#: The name this package is installed under (``pip install django-concurrent-testrunner``).
DISTRIBUTION = "django-concurrent-testrunner"

__all__ = ["DISTRIBUTION", "__version__"]
