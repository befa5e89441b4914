"""Throughput and latency of ``presslens serve`` against the model's own, in one run.

Starts the server on a loopback port (a subprocess, so its peak RSS is its own) and drives
it with N concurrent clients that post the seed articles for a fixed time; in between, it
times the model in this process on the same articles (one article per call, and N per
call), alternating the two in rounds so that both see the same machine. Prints requests/s,
sentences/s, latency p50/p95/p99, errors by status, the server's peak RSS, and service
sentences/s as a share of in-process sentences/s (the service's overhead).

Usage:
    python bench/service.py [--clients 8] [--duration 60] [--rounds 3] [--model DIR]
                            [--backend NAME] [--batch-documents N] [--compare-batching]

``--batch-documents`` sets the server's PRESSLENS_MAX_BATCH_DOCUMENTS (1: no batching);
``--compare-batching`` runs everything twice: batching on, then one document per model call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
READY_TIMEOUT_S = 600


@dataclass
class Load:
    """What the clients saw."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    sentences: int = 0
    completed: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    peak_rss_mb: float = 0.0
    batches: dict[str, float] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q) - 1]


def batch_stats(metrics: str) -> dict[str, float]:
    """Model calls, documents per call and seconds per call, from the server's /metrics."""
    values = {}
    for line in metrics.splitlines():
        name, _, value = line.partition(" ")
        if name in ("presslens_batch_documents_sum", "presslens_batch_documents_count",
                    "presslens_batch_duration_seconds_sum"):
            values[name] = float(value)
    calls = values.get("presslens_batch_documents_count", 0.0)
    return {"calls": calls,
            "documents per call": values.get("presslens_batch_documents_sum", 0.0) / (calls or 1),
            "seconds per call": values.get("presslens_batch_duration_seconds_sum", 0.0)
            / (calls or 1)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def server(args: argparse.Namespace, batch_documents: int | None) -> Iterator[tuple[str, int]]:
    """``presslens serve`` on a free loopback port, until it answers /readyz."""
    port = free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PRESSLENS_LOG_LEVEL": "warning",
                        "PRESSLENS_MAX_QUEUE": str(max(64, 4 * args.clients))}
    if batch_documents is not None:
        env["PRESSLENS_MAX_BATCH_DOCUMENTS"] = str(batch_documents)
    command = [sys.executable, "-m", "presslens.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    if args.model:
        command += ["--model", str(args.model)]
    if args.backend:
        command += ["--backend", args.backend]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, process, log)
            yield base, process.pid
        finally:
            process.terminate()
            process.wait(30)


def wait_ready(base: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            sys.exit(f"server exited ({process.returncode}):\n{log.read().decode()[-3000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    sys.exit("server did not become ready")


async def drive(base: str, texts: list[str], clients: int, seconds: float, warmup: float,
                load: Load) -> None:
    """N clients, each posting the next article as soon as its previous answer arrives.

    Clients run without pause from the warm-up into the measured window (an idle gap would let
    the server close kept-alive connections). Every request started inside the window counts,
    and the window lasts until the last of them is answered, so the in-process phase that
    follows has the CPUs to itself.
    """
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:
        start = time.perf_counter() + warmup
        end = start + seconds

        async def one_client(offset: int) -> None:
            i = offset
            while (began := time.perf_counter()) < end:
                text = texts[i % len(texts)]
                i += 1
                try:
                    response = await client.post("/v1/classify", json={"text": text})
                    status = str(response.status_code)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                done = time.perf_counter()
                if began < start:
                    continue
                load.statuses[status] += 1
                if status == "200":
                    load.latencies.append(done - began)
                    load.sentences += len(response.json()["sentences"])
                    load.completed += 1

        await asyncio.gather(*(one_client(c) for c in range(clients)))
        load.seconds += time.perf_counter() - start


def in_process(model, texts: list[str], per_call: int, seconds: float) -> tuple[int, float]:
    """(sentences, seconds): the model itself, ``per_call`` articles per call, calls started
    within ``seconds`` (the last one is waited for)."""
    sentences, calls, start = 0, 0, time.perf_counter()
    while time.perf_counter() < start + seconds:
        batch = [texts[(calls * per_call + k) % len(texts)] for k in range(per_call)]
        sentences += sum(len(doc) for doc in model.classify_many(batch))
        calls += 1
    return sentences, time.perf_counter() - start


def measure(args: argparse.Namespace, texts: list[str], batch_documents: int | None
            ) -> tuple[Load, dict[str, float]]:
    """Service load and in-process runs, interleaved in rounds so both see the same machine."""
    from model.predict import Presslens, default_backend

    load = Load()
    modes = {"one article per call": 1, f"{args.clients} articles per call": args.clients}
    totals = {name: [0, 0.0] for name in modes}
    with server(args, batch_documents) as (base, pid):
        model = Presslens.load(args.model, args.backend or default_backend(args.model))
        model.classify_many(texts)  # warm-up
        piece = args.duration / args.rounds
        for round_ in range(args.rounds):
            warmup = args.warmup if round_ == 0 else 0.0
            asyncio.run(drive(base, texts, args.clients, piece, warmup, load))
            for name, per_call in modes.items():
                sentences, seconds = in_process(model, texts, per_call, piece)
                totals[name][0] += sentences
                totals[name][1] += seconds
        load.peak_rss_mb = peak_rss_mb(pid)
        load.batches = batch_stats(httpx.get(f"{base}/metrics", timeout=30).text)
    return load, {name: n / seconds for name, (n, seconds) in totals.items()}


def report(name: str, load: Load) -> None:
    errors = {s: n for s, n in load.statuses.items() if s != "200"}
    print(f"\n== service, {name}")
    rate = load.completed / load.seconds
    print(f"  requests       {load.completed} answered in {load.seconds:.0f} s = {rate:.2f} req/s")
    print(f"  sentences/s    {load.sentences / load.seconds:.1f}")
    print(f"  latency (ms)   p50 {1000 * load.percentile(50):.0f}   p95 "
          f"{1000 * load.percentile(95):.0f}   p99 {1000 * load.percentile(99):.0f}")
    print(f"  errors         {errors or 'none'}")
    print(f"  server peak RSS {load.peak_rss_mb:.0f} MiB")
    print("  model calls    {calls:.0f}, {documents per call:.1f} documents and "
          "{seconds per call:.2f} s each (warm-up and readiness probes included)"
          .format_map(load.batches))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0,
                        help="measured seconds of service load (and of each in-process mode)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="service and in-process phases alternate this many times")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of unmeasured load")
    parser.add_argument("--model", type=Path, default=None, help="model dir (default: shipped)")
    parser.add_argument("--backend", default=None, help="encoder runtime (default: the server's)")
    parser.add_argument("--batch-documents", type=int, default=None,
                        help="server's PRESSLENS_MAX_BATCH_DOCUMENTS (1: no batching)")
    parser.add_argument("--compare-batching", action="store_true",
                        help="also run with one document per model call")
    args = parser.parse_args()
    texts = [path.read_text(encoding="utf-8") for path in SEEDS]

    runs = [("batching on" if args.batch_documents != 1 else "one document per model call",
             args.batch_documents)]
    if args.compare_batching:
        runs.append(("one document per model call (PRESSLENS_MAX_BATCH_DOCUMENTS=1)", 1))
    print(f"{args.clients} clients, {args.duration:.0f} s measured in {args.rounds} rounds, "
          f"seeds {', '.join(p.name for p in SEEDS)}; {os.cpu_count()} CPUs; "
          f"load average before: {os.getloadavg()[0]:.1f}")
    for name, batch_documents in runs:
        load, rates = measure(args, texts, batch_documents)
        report(name, load)
        print("  in process, same articles, interleaved with the load above:")
        for mode, rate in rates.items():
            share = load.sentences / load.seconds / rate
            print(f"    {mode:22} {rate:6.1f} sentences/s; service = {share:.0%} of it")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
