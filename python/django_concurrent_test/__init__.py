"""django-concurrent-test: run a Django test suite concurrently on clones of one migrated
test database. The engine (TypeScript, shipped in ``_engine/``) does the orchestration; this
package is the part that must run inside Django."""

__version__ = "0.1.0"

__all__ = ["__version__"]
