"""Peak resident memory of this process, for the benchmarks' memory figures."""

from __future__ import annotations

import resource


def peak_mb() -> float:
    """This process's peak resident set in MB: VmHWM of /proc/self/status, which starts afresh at exec (ru_maxrss
    keeps the high-water mark of the process that forked this one), else ru_maxrss."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
