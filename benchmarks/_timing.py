"""Paired, interleaved timing shared by the speed benchmarks."""
from __future__ import annotations

import statistics
from collections.abc import Callable


def paired(steps: dict[str, Callable[[], float]], repeats: int, warmup: int = 2) -> dict[str, tuple[float, float]]:
    """Run the steps interleaved; per name the median time (s) and the median ratio to the first name's
    time of the same iteration."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for i in range(warmup + repeats):
        for name, step in steps.items():
            t = step()
            if i >= warmup:
                times[name].append(t)
    ref = next(iter(times.values()))
    return {name: (statistics.median(ts), statistics.median(t / r for t, r in zip(ts, ref)))
            for name, ts in times.items()}
