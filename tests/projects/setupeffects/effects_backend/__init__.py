"""Django's backends, declaring skips and expected failures for this project's tests as a
backend does for Django's own suite (applied while the test database is created)."""

from typing import Any

DECLARED = "effects.test_creation.DeclaredByBackendTests"


def declaring(features_class: Any) -> Any:
    class Features(features_class):  # type: ignore[misc, valid-type]
        django_test_expected_failures = {f"{DECLARED}.test_expected_failure_by_backend"}

        @property
        def django_test_skips(self) -> dict[str, set[str]]:
            return {"Declared by the backend.": {f"{DECLARED}.test_skipped_by_backend"}}

    return Features
