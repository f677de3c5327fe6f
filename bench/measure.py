"""Running one contestant's command: wall time, exit status, output, and the peak memory of all
its processes together.

Memory is sampled from /proc every SAMPLE_SECONDS (a shorter peak can be missed): every process
in the command's session (it is started with a new session, so workers, forked children and
xdist nodes are all found, even when reparented). The figure is the peak of the summed PSS
(proportional set size: a page shared by n processes counts 1/n to each), so forked workers
sharing their parent's pages are not counted twice. Database servers are shared by every
contestant and are not counted.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.25  # one scan of /proc costs ~5 ms; keep the sampler's own load small


@dataclass
class Measured:
    returncode: int
    wall: float
    started_at: float  # time.time() at launch, to line up with timestamps the run writes
    stdout: str
    stderr: str
    peak_pss: int  # bytes
    peak_processes: int
    timed_out: bool = False

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _session_of(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces) start after the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[3])  # state, ppid, pgrp, session


def _pss(pid: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def session_memory(session: int) -> tuple[int, int]:
    """(summed PSS in bytes, process count) of the live processes in ``session``."""
    total = count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit() and _session_of(pid) == session:
            total += _pss(pid)
            count += 1
    return total, count


class _Sampler(threading.Thread):
    def __init__(self, session: int) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.peak = 0
        self.peak_processes = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total, count = session_memory(self.session)
            self.peak = max(self.peak, total)
            self.peak_processes = max(self.peak_processes, count)
            self.done.wait(SAMPLE_SECONDS)


def run_measured(
    argv: list[str], cwd: Path, env: dict[str, str], out_dir: Path, timeout: float = 1800
) -> Measured:
    """Run ``argv``; stdout/stderr go to files in ``out_dir`` (kept for post-mortems)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = out_dir / "stdout.txt", out_dir / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        started_at = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        sampler = _Sampler(proc.pid)
        sampler.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, 15)
            proc.wait()
        wall = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
    return Measured(
        returncode=proc.returncode,
        wall=wall,
        started_at=started_at,
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
        peak_pss=sampler.peak,
        peak_processes=sampler.peak_processes,
        timed_out=timed_out,
    )
