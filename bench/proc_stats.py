"""Readings from Linux /proc for the benches: resident set, CPU seconds of a process and of
the whole machine, and a wait for the other jobs on a shared box to calm down."""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path


def raise_nofile() -> int:
    """Soft open-file limit up to the hard one (children inherit it); returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def status_kib(field: str, pid: int | str = "self") -> int:
    """A kB field of /proc/<pid>/status, e.g. VmRSS or VmHWM."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def vmrss_kb(pid: int) -> int:
    return status_kib("VmRSS", pid)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (from /proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait_s: float, limit: float = 0.25) -> float:
    """Wait (up to `max_wait_s`) until the machine's other load stays under `limit` cores
    for two seconds in a row; returns the last reading. Other jobs share these cores."""
    deadline, calm, load = time.monotonic() + max_wait_s, 0, 0.0
    while time.monotonic() < deadline:
        busy0 = machine_busy_seconds()
        time.sleep(1.0)
        load = machine_busy_seconds() - busy0
        calm = calm + 1 if load < limit else 0
        if calm >= 2:
            break
        if calm == 0:
            print(
                f"  waiting for a quiet machine: other jobs use {load:.2f} cores", file=sys.stderr
            )
    return load


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def total_cpu_seconds(pids: list[int]) -> float:
    """cpu_seconds summed over several processes (e.g. a master and its workers)."""
    return sum(cpu_seconds(pid) for pid in pids)


def total_vmrss_kb(pids: list[int]) -> int:
    """VmRSS summed over several processes. Pages forked processes share are counted once per
    process, so compare two sums of the same processes rather than read one."""
    return sum(vmrss_kb(pid) for pid in pids)


def child_pids(parent: int) -> list[int]:
    """The live children of `parent`, from every /proc/<pid>/stat's parent field."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)
