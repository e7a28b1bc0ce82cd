"""Time, CPU and peak memory of a command and every process it starts (its workers), from /proc."""

from __future__ import annotations

import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


def _tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def _sum_fields(pids: list[int], name: str, fields: tuple[str, ...]) -> list[int]:
    totals = [0] * len(fields)
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/{name}").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            for i, field in enumerate(fields):
                if line.startswith(field):
                    totals[i] += int(line.split()[1])
    return totals


def tree_rss_kb(pid: int) -> int:
    """Resident memory summed over the process tree (VmRSS: cheap to read often)."""
    return _sum_fields(_tree(pid), "status", ("VmRSS:",))[0]


def tree_rss_pss_kb(pid: int) -> tuple[int, int]:
    """RSS and PSS summed over the process tree. Forked workers share the main process's pages:
    RSS counts them once per process, PSS divides them among the sharers."""
    rss, pss = _sum_fields(_tree(pid), "smaps_rollup", ("Rss:", "Pss:"))
    return rss, pss


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system of the whole process tree
    peak_rss_mb: float
    peak_pss_mb: float = 0.0  # only when measured with pss=True


def measure(
    command: list[str],
    stdout: int | None = subprocess.DEVNULL,
    *,
    interval: float = 0.05,
    pss: bool = False,
) -> Run:
    """Wall time, CPU time and peak memory summed over the process tree, sampled every
    `interval` seconds in a thread while the command runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_rss, peak_pss
        while not stop.is_set():
            if pss:
                rss, shared = tree_rss_pss_kb(process.pid)
                peak_pss = max(peak_pss, shared)
            else:
                rss = tree_rss_kb(process.pid)
            peak_rss = max(peak_rss, rss)
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {stderr.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return Run(elapsed, cpu, peak_rss / 1024, peak_pss / 1024)
