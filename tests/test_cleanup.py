"""After a run nothing it made is left: no clone, no template, no worker process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import server_databases
from helpers import EDGECASES, run_concurrent

pytestmark = pytest.mark.integration


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    return "State:\tZ" not in status.read_text()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_no_database_or_worker_left(backend, start_method, tmp_path):
    before = server_databases(backend)
    ours = run_concurrent(EDGECASES, "--workers", "3", "--start-method", start_method, db=backend)
    assert ours.returncode == 1  # the edge cases fail on purpose
    pids = [e["pid"] for e in ours.of("workerReady")]
    assert len(pids) == 3
    assert not [pid for pid in pids if alive(pid)]
    assert server_databases(backend) == before
    if backend == "sqlite":
        clones = [
            Path(c["name"])
            for slot in ours.of("clones")[0]["slots"]
            for c in slot["clones"].values()
        ]
        template = Path(ours.of("templates")[0]["templates"][0]["name"])
        assert not template.exists()
        assert not [c for c in clones if c.exists() and c != template]
    assert os.getpid()  # the test process itself is untouched
