"""Join a Ray cluster, or start Ray on this machine, for ``presslens score``.

Without an address Ray starts here as a new instance with a small object store and no
dashboard; ``ray://`` goes through Ray Client (retried, see ``_client_init``); any other
address (``host:6379``, ``auto``) joins as a driver.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import ray

LOCAL_OBJECT_STORE_BYTES = 256 * 2**20  # ample for batches of articles; Ray's default is 30% of RAM
CLIENT_ATTEMPTS = 3  # Ray Client connections: a server process that fails to start is retried
CLIENT_RETRY_S = 2.0


def connect(address: str | None, cpus: int | None = None) -> bool:
    """Join the cluster at ``address``, or start Ray here; True when this call started it
    (the caller then shuts it down). An already connected process keeps its connection."""
    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address and address.startswith("ray://"):
        _client_init(address, quiet)
    elif address:
        ray.init(address=address, **quiet)
    else:
        # "local": a new instance here even when `ray start` left a cluster on this machine
        ray.init(address="local", num_cpus=cpus or len(os.sched_getaffinity(0)),
                 include_dashboard=False,
                 object_store_memory=LOCAL_OBJECT_STORE_BYTES, **quiet)
    return True


def _client_init(address: str, options: dict[str, Any]) -> None:
    """Connect through Ray Client, trying again when it fails to connect.

    The head starts a server process for each Ray Client connection; on a loaded machine
    that start sometimes fails ("Starting Ray client server failed") though the next one
    works, so a failed connection is tried again before the user is told.
    """
    for attempt in range(1, CLIENT_ATTEMPTS + 1):
        try:
            ray.init(address=address, **options)
            return
        except ConnectionError as error:
            if attempt == CLIENT_ATTEMPTS:
                raise ConnectionError(f"{error} (tried {CLIENT_ATTEMPTS} times)") from error
            print(f"Ray Client: connection {attempt} of {CLIENT_ATTEMPTS} to {address} failed "
                  f"({str(error).splitlines()[0]}); trying again", file=sys.stderr)
            time.sleep(CLIENT_RETRY_S)
