"""How many CPUs this process may really use: affinity mask and cgroup CPU quota, not the machine's count.

``os.cpu_count()`` (and torch's default thread count) is the host's: in a
container limited to two CPUs of a 64-core host, 64 threads fight over two
cores and run several times slower than two would.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Optional


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> Optional[float]:
    """CPUs allowed by the cgroup's quota (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), or None for no limit."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return int(quota) / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def available_cpus(root: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may use: the affinity mask, capped by the cgroup quota (rounded up), at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    quota = _cgroup_quota(root)
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return max(1, n)


def torch_threads(torch) -> None:
    """Set torch's intra-op threads to :func:`available_cpus` unless the user chose (OMP_NUM_THREADS or
    torch.set_num_threads) a smaller number."""
    if os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS"):
        return
    n = available_cpus()
    if torch.get_num_threads() > n:
        torch.set_num_threads(n)
