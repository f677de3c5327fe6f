"""A test that kills its own process when CRASH_WORKER=1 (checks of crash reporting only)."""

import os


def test_before_crash():
    pass


def test_crashes_the_worker():
    if os.environ.get("CRASH_WORKER") == "1":
        os._exit(13)


def test_after_crash():
    pass
