"""A pytest plugin recording each item's reports (``when:outcome``) to $RECORD_PYTEST_OUTCOMES.

It records what pytest's own reporting hooks see in the process that prints the results: the
only process under plain pytest, the controller under pytest-xdist, the main process under
``pytest --concurrent``. tests/test_pytest_plugin.py compares the three, item by item.
"""

import json
import os

_recorded: dict[str, list[str]] = {}


def pytest_runtest_logreport(report):
    outcome = f"{report.when}:{report.outcome}"
    if hasattr(report, "wasxfail"):
        outcome += ":xfail"
    _recorded.setdefault(report.nodeid, []).append(outcome)


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("RECORD_PYTEST_OUTCOMES")
    if path and not hasattr(session.config, "workerinput"):  # not an xdist worker
        with open(path, "w") as out:
            json.dump({"outcomes": _recorded, "exitstatus": int(exitstatus)}, out)
