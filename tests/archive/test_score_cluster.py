"""A real two-node Ray cluster on this machine: ``ray start --head`` and a second
``ray start --address`` (a node process of its own, 1 CPU each), ``presslens score
--address`` against it, work done on both nodes, and the cluster stopped with nothing left.

About a minute on 2 cores (two node starts, two model loads): in the slow suite.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytestmark = pytest.mark.rebuild

BIN = Path(sys.executable).parent
NODE_OPTIONS = ["--num-cpus=1", f"--object-store-memory={80 * 2**20}", "--disable-usage-stats",
                "--block"]
START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 15  # then SIGKILL: a head can take half a minute to wind down
EXIT_TIMEOUT_S = 45  # for what the nodes started to exit after them (one took over 15 s
                     # on a loaded machine): only what outlives this counts as left running


@dataclass
class Cluster:
    address: str  # the head's GCS, what `--address` takes (as does `auto` on the head)
    client_address: str  # ray://…, the Ray Client server
    env: dict[str, str]  # the token every node and driver must present


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_nodes(cluster: Cluster, count: int) -> None:
    code = (f"import ray, time\nray.init(address={cluster.address!r}, logging_level='ERROR')\n"
            f"deadline = time.monotonic() + {START_TIMEOUT_S}\n"
            f"while sum(n['Alive'] for n in ray.nodes()) < {count}:\n"
            "    assert time.monotonic() < deadline, 'nodes did not join'\n"
            "    time.sleep(0.5)\n")
    subprocess.run([sys.executable, "-c", code], env=cluster.env, check=True,
                   timeout=START_TIMEOUT_S + 60, capture_output=True)


@pytest.fixture
def two_node_cluster(tmp_path: Path, processes) -> Iterator[Cluster]:
    """Head and worker as separate `ray start --block` processes; stopped (SIGTERM, then
    SIGKILL of whatever they started) and checked gone afterwards."""
    gcs, client = _free_port(), _free_port()
    # Ray >= 2.59 turns on token authentication for clusters started here: one shared token
    env = os.environ | {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16),
                        "HF_HUB_OFFLINE": "1"}
    temp = Path("/tmp") / f"presslens-ray-{secrets.token_hex(4)}"  # sockets: keep it short
    nodes: list[subprocess.Popen] = []
    log = (tmp_path / "nodes.log").open("w")

    def start(*arguments: str) -> None:
        nodes.append(subprocess.Popen([str(BIN / "ray"), "start", *arguments, *NODE_OPTIONS,
                                       f"--temp-dir={temp}"], env=env, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True))

    cluster = Cluster(f"127.0.0.1:{gcs}", f"ray://127.0.0.1:{client}", env)
    try:
        start("--head", f"--port={gcs}", f"--ray-client-server-port={client}",
              "--include-dashboard=false", '--resources={"head_node": 1}')
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", gcs), timeout=1).close()
                break
            except OSError:
                assert nodes[0].poll() is None, (tmp_path / "nodes.log").read_text()
                assert time.monotonic() < deadline, "the head did not start"
                time.sleep(0.5)
        start(f"--address=127.0.0.1:{gcs}", '--resources={"second_node": 1}')
        _wait_for_nodes(cluster, 2)
        yield cluster
    finally:
        roots = [node.pid for node in nodes]
        started = set(roots) | processes.descendants(roots)
        for node in reversed(nodes):
            node.send_signal(signal.SIGTERM)
        for node in reversed(nodes):
            try:
                node.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait()
        deadline = time.monotonic() + EXIT_TIMEOUT_S
        while processes.alive(started) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = processes.alive(started)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        log.close()
        subprocess.run(["rm", "-rf", str(temp)], check=False)
        assert not left, f"cluster processes left running: {sorted(left)}"


def test_score_runs_on_both_nodes_of_a_two_node_cluster(two_node_cluster: Cluster,
                                                        make_archive, articles,
                                                        tmp_path: Path, read_tables):
    archive, out = make_archive(48), tmp_path / "out"
    # Batches of 8 articles take longer to label than the next block takes to be read, so
    # the worker beside the data is busy when it comes and the other node's worker gets it
    # (with batches of 2 the reader was the bottleneck, and one worker did all the work).
    done = subprocess.run(
        [str(BIN / "presslens"), "score", str(archive), "--out", str(out),
         "--address", two_node_cluster.address, "--batch-size", "8", "--part-rows", "8"],
        env=two_node_cluster.env, capture_output=True, text=True, timeout=600)
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 0, said
    assert "2 node(s), 2 CPUs; 2 worker(s)" in said
    run = json.loads((out / "manifest.json").read_text())["runs"][-1]
    assert run["finished"] and run["articles"] == 48
    assert len(run["nodes"]) == 2 and all(count > 0 for count in run["nodes"].values()), run
    summary, sentences = read_tables(out)
    assert summary["id"].is_unique and len(summary) == 48
    assert not sentences.duplicated(["id", "index", "target"]).any()

    # more articles arrive; the same command through Ray Client labels only those
    more = articles(6, seed=9, prefix="late")
    (archive / "late.jsonl").write_text("".join(json.dumps(a) + "\n" for a in more))
    again = subprocess.run(
        [str(BIN / "presslens"), "score", str(archive), "--out", str(out),
         "--address", two_node_cluster.client_address, "--batch-size", "2"],
        env=two_node_cluster.env, capture_output=True, text=True, timeout=600)
    said = " ".join((again.stdout + again.stderr).split())
    assert again.returncode == 0, said
    assert "6 article(s) to label, 48 already in" in said
    summary, sentences = read_tables(out)
    assert summary["id"].is_unique and len(summary) == 54
    assert not sentences.duplicated(["id", "index", "target"]).any()
