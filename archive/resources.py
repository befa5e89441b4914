"""How many labelling workers, with how many threads, asking Ray for how many CPUs.

Measured on a 2-core machine: a Ray Data actor pool that asks for every CPU (2 actors of
1 CPU each) leaves none for the read tasks, and the job never starts. So the pool is sized
from the CPUs Ray reports, and each worker asks for a little less than its threads use,
leaving ``IO_CPUS`` for each read and write task (which spend their time in I/O and Arrow,
not competing with the encoder for long).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

IO_CPUS = 0.25  # what each read task and each write task asks Ray for
IO_TASKS = 2  # one read and one write at a time always find room


@dataclass(frozen=True, slots=True)
class Pool:
    workers: int
    threads: int  # the encoder's intra-op threads in each worker
    num_cpus: float  # what each worker asks Ray for


def size_pool(cpus: float, workers: int | None = None,
              cpus_per_worker: int | None = None) -> Pool:
    """Defaults: one single-threaded worker per CPU; given workers, the CPUs spread over
    them; given threads per worker, as many workers as fit."""
    if cpus <= 0:
        raise ValueError("Ray reports no CPU to label on")
    if workers is None and cpus_per_worker is None:
        threads, count = 1, max(1, math.floor(cpus))
    elif workers is None:
        threads = cpus_per_worker or 1
        count = max(1, math.floor(cpus / threads))
    else:
        count = workers
        threads = cpus_per_worker or max(1, math.floor(cpus / workers))
    room = max(cpus - IO_TASKS * IO_CPUS, 0.1)
    return Pool(count, threads, math.floor(min(threads, room / count) * 1000) / 1000)
