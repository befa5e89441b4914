"""Soak and fault run of ``presslens serve``: saturation, huge and abandoned requests, an
overload burst, then SIGTERM with work queued. Bounded: it stops by itself.

Starts the server (default settings) on a loopback port and, for ``--seconds``, keeps the
model saturated with ``--clients`` clients that send, back to back, a mix of requests:

- normal: a seed article (with or without targets), a batch of four, a comparison;
- large but legal: a 45,000-character article (~330 sentences) or 600 short lines;
- over a limit: 50 KB of ``"a\\n"`` (25,000 sentences) or of ``"a. "`` (pysbd's slowest
  text): must be 413 at once;
- abandoned: a large request whose client hangs up after 0.2-1 s (raw socket, closed):
  the server must drop its sentences before they are encoded.

The clients' work in flight stays under the queue's sentence bound, so this phase must see
no 5xx at all. Then two phases that must answer 503 by design, and nothing worse: an
overload burst (``--burst`` concurrent large requests: fast 503s with Retry-After, then a
normal request is answered), and SIGTERM with one long request running and three queued
(each 200 or 503, the process gone within PRESSLENS_GRACEFUL_SHUTDOWN).

Prints requests by kind and status, latency p50/p99, the server's RSS after ``--warmup``
seconds of the same mix (the start: encoder and allocator caches filled), its peak, and at
the end (idle after the load), sentences dropped for gone clients,
and the shutdown's answers and time. Exit status 1 when any check fails: a 5xx in the soak
phase, a 500 anywhere, a 503 without Retry-After, a shutdown answer other than 200/503, a
process that outlives the grace period, or RSS at the end over ``--max-rss-growth`` above
the start.

Usage:
    python bench/soak.py [--seconds 600] [--warmup 30] [--clients 6] [--burst 40] [--model DIR]
                         [--backend NAME] [--seed 7] [--max-rss-growth 0.15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
READY_TIMEOUT_S = 600
GRACE_S = 8  # PRESSLENS_GRACEFUL_SHUTDOWN's default, set explicitly for the server
REQUEST_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sentences_of(text: str) -> list[str]:
    return [s.strip() + "." for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s) > 30]


def large_article(limit_chars: int = 45_000) -> str:
    """Seed sentences, each varied by its number, to about ``limit_chars`` characters."""
    pool = [s for text in SEEDS for s in sentences_of(text)]
    out, i = [], 0
    while sum(len(s) + 1 for s in out) < limit_chars - 400:
        out.append(f"{pool[i % len(pool)][:-1]} (part {i}).")
        i += 1
    return " ".join(out)


@dataclass
class Tally:
    """What the clients saw, by kind of request."""

    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list))
    problems: list[str] = field(default_factory=list)

    def record(self, kind: str, status: str, seconds: float | None = None) -> None:
        self.statuses[kind][status] += 1
        if seconds is not None:
            self.latencies[(kind, status)].append(seconds)


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class Server:
    """``presslens serve`` in a subprocess, with its RSS sampled every 0.2 s."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "presslens.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port)]
        if args.model:
            command += ["--model", str(args.model)]
        if args.backend:
            command += ["--backend", args.backend]
        env = os.environ | {"HF_HUB_OFFLINE": "1", "PRESSLENS_LOG_LEVEL": "warning",
                            "PRESSLENS_GRACEFUL_SHUTDOWN": str(GRACE_S)}
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (open while the server runs)
        self.process = subprocess.Popen(command, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.peak = 0.0
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while self._sampling and self.process.poll() is None:
            try:
                self.peak = max(self.peak, rss_mib(self.process.pid))
            except (OSError, ValueError):
                return
            time.sleep(0.2)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"server exited ({self.process.returncode}):\n{self.output()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=30).status_code == 200:
                    self._sampler.start()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        sys.exit("server did not become ready")

    def rss(self) -> float:
        return rss_mib(self.process.pid)

    def wait_idle(self, settle: float = 3.0) -> None:
        """Until nothing is queued or running, then ``settle`` s (the worker trims when idle)."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            queue = httpx.get(f"{self.base}/readyz", timeout=30).json()["queue"]
            if not queue["documents"] and not queue["busy"]:
                break
            time.sleep(0.2)
        time.sleep(settle)

    def metrics(self) -> str:
        return httpx.get(f"{self.base}/metrics", timeout=30).text

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        self._sampling = False
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def server_counts(text: str) -> Counter[str]:
    """Requests by status, and sentences labelled and dropped, from /metrics."""
    counts = server_statuses(text)
    counts["labelled"] = int(metric(text, "presslens_sentences_classified_total"))
    counts["dropped"] = int(metric(text, "presslens_dropped_sentences_total",
                                   reason="client_gone"))
    return counts


def server_statuses(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("presslens_requests_total{"):
            status = re.search(r'status="(\d+)"', line)
            if status:
                counts[status.group(1)] += int(float(line.rsplit(" ", 1)[1]))
    return counts


class Mix:
    """The requests the soak sends: (kind, path, JSON body) chosen with fixed weights."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.large = large_article()
        self.lines = "\n".join(f"Line {i} of a long list." for i in range(600))
        self.kinds = [("normal", 45), ("targets", 15), ("batch", 8), ("compare", 5),
                      ("large", 5), ("lines", 4), ("over_limit", 8), ("abandoned", 10)]

    def pick(self) -> tuple[str, str, dict]:
        kind = self.rng.choices([k for k, _ in self.kinds], [w for _, w in self.kinds])[0]
        seed = self.rng.choice(SEEDS)
        if kind == "normal":
            return kind, "/v1/classify", {"text": seed}
        if kind == "targets":
            return kind, "/v1/classify", {"text": seed, "targets": ["Iran", "Russia", "Trump"]}
        if kind == "batch":
            return kind, "/v1/classify/batch", {"documents": [{"id": i, "text": self.rng.choice(
                SEEDS)} for i in range(4)]}
        if kind == "compare":
            return kind, "/v1/compare", {"a": SEEDS[0], "b": SEEDS[-1]}
        if kind == "large":
            return kind, "/v1/classify", {"text": self.large}
        if kind == "lines":
            return kind, "/v1/classify", {"text": self.lines}
        if kind == "over_limit":
            unit = self.rng.choice(["a\n", "a. "])
            return kind, "/v1/classify", {"text": unit * (50_000 // len(unit))}
        return kind, "/v1/classify", {"text": self.rng.choice([self.large, self.lines])}


async def abandon(base: str, body: dict, after: float) -> None:
    """Send the request, wait ``after`` seconds, hang up without reading the answer."""
    host, port = base.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    payload = json.dumps(body).encode()
    writer.write(b"POST /v1/classify HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json"
                 b"\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload))
    await writer.drain()
    await asyncio.sleep(after)
    writer.close()
    await writer.wait_closed()


def check_503(tally: Tally, kind: str, response: httpx.Response) -> None:
    if response.status_code == 503 and "Retry-After" not in response.headers:
        tally.problems.append(f"{kind}: 503 without Retry-After: {response.text[:200]}")


async def soak(base: str, mix: Mix, clients: int, seconds: float, tally: Tally) -> None:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S,
                                 limits=limits) as client:
        end = time.monotonic() + seconds

        async def one_client() -> None:
            while time.monotonic() < end:
                kind, path, body = mix.pick()
                if kind == "abandoned":
                    await abandon(base, body, mix.rng.uniform(0.2, 1.0))
                    tally.record(kind, "hung up")
                    continue
                began = time.monotonic()
                try:
                    response = await client.post(path, json=body)
                except httpx.HTTPError as error:
                    tally.record(kind, type(error).__name__)
                    tally.problems.append(f"{kind}: {type(error).__name__}: {error}")
                    continue
                tally.record(kind, str(response.status_code), time.monotonic() - began)
                check_503(tally, kind, response)
                if kind == "over_limit" and response.status_code != 413:
                    tally.problems.append(f"over_limit answered {response.status_code}")

        await asyncio.gather(*(one_client() for _ in range(clients)))


async def burst(base: str, mix: Mix, size: int, tally: Tally) -> None:
    """``size`` large requests at once, far past the queue's bound; then a normal one."""
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S,
                                 limits=httpx.Limits(max_connections=size + 1)) as client:

        async def one() -> None:
            began = time.monotonic()
            response = await client.post("/v1/classify", json={"text": mix.large})
            tally.record("burst", str(response.status_code), time.monotonic() - began)
            check_503(tally, "burst", response)

        await asyncio.gather(*(one() for _ in range(size)))
        began = time.monotonic()
        after = await client.post("/v1/classify", json={"text": SEEDS[0]})
        tally.record("after burst", str(after.status_code), time.monotonic() - began)


def sigterm(server: Server, mix: Mix, tally: Tally) -> float:
    """One long request labelling and three queued, then SIGTERM: seconds to exit."""
    answers: dict[str, httpx.Response | str] = {}

    def post(name: str, body: dict) -> None:
        try:
            answers[name] = httpx.post(f"{server.base}/v1/classify", json=body,
                                       timeout=REQUEST_TIMEOUT_S)
        except httpx.HTTPError as error:
            answers[name] = type(error).__name__

    threads = [threading.Thread(target=post, args=("long", {"text": mix.large}))]
    threads += [threading.Thread(target=post, args=(f"queued {i}", {"text": SEEDS[i % 2]}))
                for i in range(3)]
    def wait_for(condition: str, test: Callable[[dict], bool]) -> None:
        deadline = time.monotonic() + 60
        while not test(httpx.get(f"{server.base}/readyz", timeout=30).json()["queue"]):
            if time.monotonic() > deadline:
                tally.problems.append(f"sigterm: gave up waiting for {condition}")
                return
            time.sleep(0.02)

    threads[0].start()
    wait_for("the long request to run", lambda queue: queue["busy"])
    for thread in threads[1:]:
        thread.start()
    wait_for("three requests queued", lambda queue: queue["documents"] == 3)
    began = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(GRACE_S + 30)
    except subprocess.TimeoutExpired:
        tally.problems.append("the server outlived SIGTERM by 30 s past the grace period")
    took = time.monotonic() - began
    for thread in threads:
        thread.join(60)
    for name, answer in answers.items():
        status = str(answer.status_code) if isinstance(answer, httpx.Response) else answer
        tally.record("sigterm", status)
        if status not in ("200", "503"):
            tally.problems.append(f"sigterm {name}: {status}")
        if isinstance(answer, httpx.Response):
            check_503(tally, "sigterm", answer)
    if server.process.returncode not in (0, -signal.SIGTERM):
        tally.problems.append(f"the server exited with status {server.process.returncode}")
    if took > GRACE_S:
        tally.problems.append(f"the server took {took:.1f} s to exit; the grace is {GRACE_S} s")
    return took


def report(tally: Tally, server: Server, rss: dict[str, float], counts: Counter[str],
           took: float, seconds: float, max_growth: float) -> None:
    print(f"\n=== soak: {seconds:.0f} s of load, then an overload burst and SIGTERM")
    print("requests by kind and status (client side; latency p50/p99 per status):")
    for kind, statuses in tally.statuses.items():
        shown = []
        for status, n in sorted(statuses.items()):
            latencies = tally.latencies.get((kind, status), [])
            timing = (f" (p50 {percentile(latencies, 50):.2f} s, p99 "
                      f"{percentile(latencies, 99):.2f} s)" if latencies else "")
            shown.append(f"{status}: {n}{timing}")
        print(f"  {kind:12s} " + ", ".join(shown))
    soaked = [t for (kind, status), values in tally.latencies.items()
              if kind not in ("burst", "after burst", "sigterm") and status == "200"
              for t in values]
    print(f"latency of answered soak requests: p50 {percentile(soaked, 50):.2f} s, "
          f"p99 {percentile(soaked, 99):.2f} s ({len(soaked)} answers)")
    statuses = {s: n for s, n in counts.items() if s.isdigit()}
    print("server, after the warm-up: requests by status " + ", ".join(
        f"{s}: {n}" for s, n in sorted(statuses.items())) + f"; sentences labelled "
        f"{counts['labelled']}, dropped for gone clients {counts['dropped']}")
    growth = rss["end"] / rss["start"] - 1
    print(f"server RSS: loaded {rss['loaded']:.0f} MiB, start (after warm-up) "
          f"{rss['start']:.0f} MiB, peak {rss['peak']:.0f} MiB, end (idle after the load) "
          f"{rss['end']:.0f} MiB: {growth:+.1%} against the start")
    print(f"SIGTERM: the process exited {took:.1f} s after the signal (grace {GRACE_S} s)")
    soak_5xx = sum(n for kind, by_status in tally.statuses.items()
                   if kind not in ("burst", "sigterm") for s, n in by_status.items()
                   if s.startswith("5"))
    if soak_5xx:
        tally.problems.append(f"{soak_5xx} 5xx answers during the soak phase")
    if statuses.get("500"):
        tally.problems.append(f"the server answered 500 {statuses['500']} times")
    if growth > max_growth:
        tally.problems.append(f"RSS at the end is {growth:+.1%} against the start "
                              f"(allowed: {max_growth:+.0%})")
    if "Traceback" in server.output():
        tally.problems.append("the server log holds a traceback")
        print(server.output()[-4000:])
    for problem in dict.fromkeys(tally.problems):
        print(f"FAIL: {problem}")
    print("=== soak: " + ("FAILED" if tally.problems else "passed"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=30,
                        help="seconds of the same mix before the start's RSS is read")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--backend")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-rss-growth", type=float, default=0.15)
    args = parser.parse_args()
    mix, tally = Mix(random.Random(args.seed)), Tally()
    server = Server(args)
    try:
        server.wait_ready()
        rss = {"loaded": server.rss()}
        warm = Tally()
        asyncio.run(soak(server.base, Mix(random.Random(0)), args.clients, args.warmup, warm))
        server.wait_idle()
        rss["start"] = server.rss()
        before = server_counts(server.metrics())
        print(f"warm-up done: RSS {rss['loaded']:.0f} MiB loaded, {rss['start']:.0f} MiB now; "
              f"soaking for {args.seconds:.0f} s with {args.clients} clients", flush=True)
        server.peak = 0.0
        asyncio.run(soak(server.base, mix, args.clients, args.seconds, tally))
        asyncio.run(burst(server.base, mix, args.burst, tally))
        server.wait_idle()
        rss["end"], rss["peak"] = server.rss(), server.peak
        counts = server_counts(server.metrics())
        counts.subtract(before)
        took = sigterm(server, mix, tally)
        report(tally, server, rss, counts, took, args.seconds, args.max_rss_growth)
    finally:
        server.stop()
    return 1 if tally.problems else 0


if __name__ == "__main__":
    sys.exit(main())
