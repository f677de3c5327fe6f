"""CONCURRENT_TEST_CONFIG["race"]: the race-condition simulation's settings, checked.

The engine validates the same keys with a JSON schema (engine/src/config/settings-config.ts),
but the simulation also runs under Django's own runner and pytest, so it checks them itself.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from typing import Any

SEED_ENV = "DJANGO_CONCURRENT_TEST_RACE_SEED"
MAX_DELAY_LIMIT = 10.0
KEYS = (
    "enabled",
    "seed",
    "probability",
    "max_delay",
    "include_paths",
    "exclude_paths",
    "only_in_race",
)

# Chosen once per process when neither the environment nor the settings fix a seed.
_RANDOM_SEED = random.SystemRandom().randrange(2**31)
_cache: tuple[str | None, RaceConfig] | None = None


class RaceConfigError(ValueError):
    """A value in CONCURRENT_TEST_CONFIG["race"] (or the seed variable) is invalid."""


@dataclass(frozen=True)
class RaceConfig:
    enabled: bool = True
    seed: int = 0
    seed_source: str = "random"
    # Chance that one delay point (before the view, before or after a query) sleeps.
    probability: float = 0.5
    # Longest sleep in seconds; each sleep is uniform in [0, max_delay].
    max_delay: float = 0.02
    include_paths: tuple[re.Pattern[str], ...] = ()
    exclude_paths: tuple[re.Pattern[str], ...] = ()
    # Requests are delayed only in race() threads (other requests have nothing to race).
    only_in_race: bool = True

    def covers(self, path: str) -> bool:
        """Whether a request path gets delays: matches an include (if any), no exclude."""
        if self.include_paths and not any(p.match(path) for p in self.include_paths):
            return False
        return not any(p.match(path) for p in self.exclude_paths)


def _where(key: str) -> str:
    return f'CONCURRENT_TEST_CONFIG["race"]["{key}"]'


def _number(raw: dict[str, Any], key: str, low: float, high: float, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise RaceConfigError(
            f"{_where(key)} must be a number from {low:g} to {high:g}, not {value!r}"
        )
    return float(value)


def _flag(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise RaceConfigError(f"{_where(key)} must be true or false, not {value!r}")
    return value


def _patterns(raw: dict[str, Any], key: str) -> tuple[re.Pattern[str], ...]:
    value = raw.get(key, [])
    if (
        isinstance(value, str)
        or not isinstance(value, list | tuple)
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise RaceConfigError(
            f"{_where(key)} must be a list of non-empty regular expressions, not {value!r}"
        )
    try:
        return tuple(re.compile(v) for v in value)
    except re.error as exc:
        raise RaceConfigError(f"{_where(key)}: invalid regular expression: {exc}") from None


def _seed(raw: dict[str, Any], environ: dict[str, str]) -> tuple[int, str]:
    text = environ.get(SEED_ENV, "").strip()
    if text:
        if not text.isdigit():
            raise RaceConfigError(f"{SEED_ENV} must be a whole number, not {text!r}")
        return int(text), "environment"
    if "seed" in raw:
        value = raw["seed"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RaceConfigError(f"{_where('seed')} must be a whole number, not {value!r}")
        return value, "settings"
    return _RANDOM_SEED, "random"


def parse_race_config(raw: Any, environ: dict[str, str] | None = None) -> RaceConfig:
    """The simulation's settings from CONCURRENT_TEST_CONFIG["race"] (None means defaults)."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise RaceConfigError(f'CONCURRENT_TEST_CONFIG["race"] must be a dict, not {raw!r}')
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise RaceConfigError(
            f'CONCURRENT_TEST_CONFIG["race"]: unknown key "{unknown[0]}" '
            f"(known keys: {', '.join(KEYS)})"
        )
    seed, source = _seed(raw, dict(os.environ) if environ is None else environ)
    return RaceConfig(
        enabled=_flag(raw, "enabled", True),
        seed=seed,
        seed_source=source,
        probability=_number(raw, "probability", 0.0, 1.0, RaceConfig.probability),
        max_delay=_number(raw, "max_delay", 0.0, MAX_DELAY_LIMIT, RaceConfig.max_delay),
        include_paths=_patterns(raw, "include_paths"),
        exclude_paths=_patterns(raw, "exclude_paths"),
        only_in_race=_flag(raw, "only_in_race", True),
    )


def race_config() -> RaceConfig:
    """The current settings' race config, parsed once per settings change (override_settings
    included) and per value of the seed variable."""
    global _cache
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    seed_text = os.environ.get(SEED_ENV)
    if _cache is not None and _cache[0] == seed_text:
        return _cache[1]
    section = (getattr(settings, "CONCURRENT_TEST_CONFIG", None) or {}).get("race")
    try:
        config = parse_race_config(section)
    except RaceConfigError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    _cache = (seed_text, config)
    return config


def _forget(*, setting: str, **_: Any) -> None:
    global _cache
    if setting == "CONCURRENT_TEST_CONFIG":
        _cache = None


def _watch_settings() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_forget, weak=False, dispatch_uid="django_concurrent_test.race")


_watch_settings()
