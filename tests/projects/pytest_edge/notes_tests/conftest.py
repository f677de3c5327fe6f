"""Fixture setups are logged to $SCOPE_LOG (one line: scope, name, pid) so the repository's
tests can count how often each scope ran in each process."""

import os

import pytest


def log_setup(scope, name):
    path = os.environ.get("SCOPE_LOG")
    if path:
        with open(path, "a") as log:
            log.write(f"{scope} {name} {os.getpid()}\n")


@pytest.fixture(scope="session", autouse=True)
def session_marker():
    log_setup("session", "session_marker")


@pytest.fixture(scope="package")
def package_marker():
    log_setup("package", "package_marker")
