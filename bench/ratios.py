# ruff: noqa: RUF001, RUF002, RUF003  (the tables use typographic dashes and the times sign)
"""Which runs ours is compared with, and the speed goals.

Every contestant has a mode: *cold* (test databases made from migrations: Django ``--parallel N``,
``pytest -n N --create-db``, ours without a template), *warm* (the second run of each runner's own
reuse: Django ``--keepdb``, pytest ``--reuse-db``, ours ``--keepdb``) or *sequential*. Ours of a
mode is divided by the BEST competitor of the same mode, backend, size and N: the fastest whose
runs counted. When no competitor of a mode counted (a warm run of Django's or pytest's whose
kept database lost its data-migration rows fails tests), the fastest of those that ran to the
end is the base instead, and the ratio says so.

The goals live here and only here (tests never assert a speed): ours cold ≤ 0.80 × the best cold
competitor, ours warm ≤ 0.85 × the best warm competitor, and ours within W/N + 1 s, where W is
the summed per-test time and N the workers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]

# Key prefixes (the key is "<prefix>-<N>"), per mode.
COMPETITORS = {"cold": ("django-par", "pytest-xdist"), "warm": ("django-keepdb", "pytest-reuse")}
OURS = {"cold": ("ours-cold", "pytest-concurrent"), "warm": ("ours-warm",)}
RATIO_GOALS = {"cold": 0.80, "warm": 0.85}
WN_SLACK = 1.0  # seconds ours may be above W/N


def workers_of(key: str) -> int | None:
    found = re.search(r"-(\d+)$", key)
    return int(found.group(1)) if found else None


def prefix_of(key: str) -> str:
    return re.sub(r"-\d+$", "", key)


def mode_of(key: str) -> str:
    """cold, warm or seq (the sequential contestants, which make their databases: cold too, but
    compared with nothing)."""
    prefix = prefix_of(key)
    for mode, prefixes in (*COMPETITORS.items(), *OURS.items()):
        if prefix in prefixes:
            return mode
    return "seq"


@dataclass(frozen=True)
class Base:
    """The competitor a ratio divides by."""

    key: str
    label: str
    wall: float
    outcomes_ok: bool  # False: no competitor of this mode counted; this one's outcomes differed


def _wall_of(row: Row, counted: bool) -> float | None:
    value = row.get("wall") if counted else row.get("differ_wall")
    return float(value) if value else None


def best_competitor(rows: list[Row], backend: str, size: int, n: int, mode: str) -> Base | None:
    """The fastest competitor of ``mode`` with counted runs, else the fastest that ran to the
    end with differing outcomes, else None."""
    keys = {f"{prefix}-{n}" for prefix in COMPETITORS.get(mode, ())}
    mine = [
        r for r in rows if r["backend"] == backend and r["size"] == size and r["contestant"] in keys
    ]
    for counted in (True, False):
        found = [(w, r) for r in mine if (w := _wall_of(r, counted)) is not None]
        if found:
            wall, row = min(found, key=lambda pair: pair[0])
            return Base(row["contestant"], str(row.get("label", row["contestant"])), wall, counted)
    return None


def attach_ratios(rows: list[Row]) -> None:
    """Give every cold or warm row its ratio to the best competitor of its mode (competitors
    too: how far each is from the best)."""
    for row in rows:
        n, mode = workers_of(row["contestant"]), mode_of(row["contestant"])
        base = best_competitor(rows, row["backend"], row["size"], n, mode) if n else None
        row["base"] = base.key if base else None
        row["base_label"] = base.label if base else None
        row["base_outcomes_ok"] = base.outcomes_ok if base else None
        row["ratio"] = row["wall"] / base.wall if base and row.get("wall") else None


@dataclass(frozen=True)
class Verdict:
    backend: str
    size: int
    workers: int
    goal: str  # what is asked, in words
    value: str  # what was measured, in words ("–" when not measured)
    passed: bool | None  # None: not measured
    note: str = ""

    @property
    def word(self) -> str:
        return "–" if self.passed is None else "PASS" if self.passed else "MISS"


def _find(rows: list[Row], backend: str, size: int, key: str) -> Row | None:
    return next(
        (r for r in rows if (r["backend"], r["size"], r["contestant"]) == (backend, size, key)),
        None,
    )


def verdicts(rows: list[Row], backend: str, size: int, n: int) -> list[Verdict]:
    """PASS/MISS of ours (cold and warm) against the goals, at one backend, size and N."""
    found = []
    for mode, limit in RATIO_GOALS.items():
        ours = _find(rows, backend, size, f"{OURS[mode][0]}-{n}")
        if ours is None:
            continue
        base = best_competitor(rows, backend, size, n, mode)
        goal = f"ours {mode} ≤ {limit:.2f} × best {mode} competitor"
        if base is None or not ours.get("wall"):
            why = "no run of ours counted" if base else f"no {mode} competitor ran"
            found.append(Verdict(backend, size, n, goal, "–", None, why))
        else:
            ratio = ours["wall"] / base.wall
            note = base.label + ("" if base.outcomes_ok else " (its outcomes differed)")
            found.append(Verdict(backend, size, n, goal, f"{ratio:.2f}×", ratio <= limit, note))
        wn = ours.get("wn")
        goal = f"ours {mode} wall ≤ W/N + {WN_SLACK:.0f} s"
        if not ours.get("wall") or not wn:
            why = "no per-test times" if ours.get("wall") else "no counted run of ours"
            found.append(Verdict(backend, size, n, goal, "–", None, why))
        else:
            value = f"{ours['wall']:.1f} s vs {wn:.1f} + {WN_SLACK:.0f} s"
            found.append(Verdict(backend, size, n, goal, value, ours["wall"] <= wn + WN_SLACK))
    return found
