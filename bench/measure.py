"""Running one contestant's command: wall time, exit status, output, and the peak memory of all
its processes together.

Memory is sampled from /proc every SAMPLE_SECONDS (a shorter peak can be missed): every process
in the command's session (it is started with a new session, so workers, forked children and
xdist nodes are all found, even when reparented). The figure is the peak of the summed PSS
(proportional set size: a page shared by n processes counts 1/n to each), so forked workers
sharing their parent's pages are not counted twice. Database servers are shared by every
contestant and are not counted. Each process's own peak PSS is kept too, so a worker's memory can
be told from the main process's (``worker_peaks``).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.25  # one scan of /proc costs ~5 ms; keep the sampler's own load small


@dataclass
class ProcessPeak:
    """One process of a measured command: its parent, its name and its own peak PSS."""

    ppid: int
    name: str
    peak_pss: int  # bytes


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
    pid: int = 0  # the command's own process (the session leader)
    processes: dict[int, ProcessPeak] = field(default_factory=dict)  # pid -> its peak

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _stat(pid: str) -> tuple[str, int, int] | None:
    """(command name, parent pid, session) of ``pid``, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces) start after the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    name = stat[stat.find("(") + 1 : stat.rfind(")")]
    return name, int(fields[1]), int(fields[3])  # state, ppid, pgrp, session


def _session_of(pid: str) -> int | None:
    found = _stat(pid)
    return found[2] if found else None


def _pss(pid: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def session_processes(session: int) -> dict[int, ProcessPeak]:
    """The live processes in ``session``, each with its PSS now (bytes)."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        stat = _stat(pid)
        if stat and stat[2] == session:
            found[int(pid)] = ProcessPeak(stat[1], stat[0], _pss(pid))
    return found


def session_memory(session: int) -> tuple[int, int]:
    """(summed PSS in bytes, process count) of the live processes in ``session``."""
    found = session_processes(session)
    return sum(p.peak_pss for p in found.values()), len(found)


def worker_peaks(processes: dict[int, ProcessPeak], root: int) -> list[int]:
    """The peak PSS of each worker: every Python process of the command but its first one
    (ours: the bridge, which forks the workers; Django: the parent of its pool; pytest: the
    xdist controller). The Node engine is not a worker."""
    return sorted(
        p.peak_pss
        for pid, p in processes.items()
        if pid != root and p.name.startswith("python") and p.peak_pss
    )


class _Sampler(threading.Thread):
    def __init__(self, session: int) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.peak = 0
        self.peak_processes = 0
        self.processes: dict[int, ProcessPeak] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            now = session_processes(self.session)
            self.peak = max(self.peak, sum(p.peak_pss for p in now.values()))
            self.peak_processes = max(self.peak_processes, len(now))
            for pid, p in now.items():
                seen = self.processes.get(pid)
                if seen is None or p.peak_pss > seen.peak_pss:
                    self.processes[pid] = p
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
        pid=proc.pid,
        processes=sampler.processes,
    )
