"""The page, end to end, in Debian's headless Chromium driven by Playwright.

The app runs under uvicorn on a loopback port in a thread; the screenshot is kept in
``test-artifacts/`` (CI keeps that folder as an artifact).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn

from model.predict import Presslens
from service.app import create_app
from service.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TARGETS = ["Iran", "Russia"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's chromium at /usr/bin/chromium "
                              "(apt-get install chromium); CI installs it"),
]


@pytest.fixture(scope="module")
def live_server(model: Presslens) -> Iterator[str]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    app = create_app(Settings(), loader=lambda _: model)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)
    listener.close()


def test_page_labels_seed_001(live_server: str, model: Presslens, seed_001: str) -> None:
    from playwright.sync_api import sync_playwright

    expected = model.classify(seed_001, TARGETS)
    content = [s for s in expected if not s.boilerplate]
    probe = content[len(content) // 2]
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("request", lambda request: problems.append(f"off-box request: {request.url}")
                if urlparse(request.url).hostname not in {"127.0.0.1", None} else None)
        page.goto(live_server)
        page.fill("#article", seed_001)
        page.fill("#targets", ", ".join(TARGETS))
        page.click("#classify-button")
        page.wait_for_selector("#classify-result:not([hidden])", timeout=60_000)

        reading = page.locator("#reading")
        assert reading.locator(".sentence.labelled").count() == len(content)
        assert reading.locator(".sentence.boilerplate").count() == len(expected) - len(content)
        sentence = reading.locator(f'.sentence[data-index="{probe.index}"]')
        assert sentence.get_attribute("data-framing") == probe.framing.label
        assert sentence.inner_text() == probe.text
        assert f"{probe.framing.label} ({probe.framing.confidence:.2f}" in (
            sentence.get_attribute("title"))
        badges = reading.locator(f'.sentence[data-index="{probe.index}"] ~ .stance')
        assert badges.all_inner_texts() == [
            f"{p.label} · {p.target}" if p.target else p.label for p in probe.stance
        ]
        assert page.locator("#framing-chart rect").count() == len(model.card.labels["framing"])
        article = page.evaluate("""() => {
            const copy = document.getElementById("reading").cloneNode(true);
            copy.querySelectorAll(".stance").forEach((badge) => badge.remove());
            return copy.textContent;
        }""")
        assert article == seed_001  # the reading view is the article, nothing lost or moved

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "page-seed-001.png"), full_page=True)
        browser.close()
    assert not problems
    assert (ARTIFACTS / "page-seed-001.png").stat().st_size > 10_000


def test_compare_view_aligns_the_seeds(live_server: str, model: Presslens,
                                       seed_texts: dict[str, str], seed_001: str) -> None:
    from playwright.sync_api import sync_playwright

    from model.compare import compare

    original, rewrite = seed_texts["000_38e477e218487515.txt"], seed_001
    expected = compare(model, original, rewrite, TARGETS)
    changed = [p for p in expected.pairs if p.framing_changed]
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("request", lambda request: problems.append(f"off-box request: {request.url}")
                if urlparse(request.url).hostname not in {"127.0.0.1", None} else None)
        page.goto(live_server)
        page.click('#tabs [data-tab="compare"]')
        assert page.locator("#panel-classify").is_hidden()
        page.fill("#compare-a", original)
        page.fill("#compare-b", rewrite)
        page.fill("#compare-targets", ", ".join(TARGETS))
        page.click("#compare-button")
        page.wait_for_selector("#compare-result:not([hidden])", timeout=60_000)

        rows = page.locator("#compare-rows tbody tr.compare-row")
        assert rows.count() == len(expected.rows())
        assert page.locator('tr.compare-row[data-status="pair"]').count() == len(expected.pairs)
        assert page.locator('tr.compare-row[data-status="removed"]').count() == len(
            expected.removed)
        marked = page.locator("tr.compare-row.framing-changed")
        assert marked.count() == len(changed) >= 1
        first = changed[0]
        row = page.locator(f'tr.framing-changed:has(.sentence[data-index="{first.a}"])').first
        cells = row.locator(".sentence")
        assert cells.nth(0).inner_text() == expected.a.sentences[first.a].text
        assert cells.nth(1).inner_text() == expected.b.sentences[first.b].text
        assert cells.nth(1).get_attribute("data-framing") == first.framing_b
        assert f"{first.framing_a} → {first.framing_b}" in row.inner_text()
        for chart in ("#compare-chart-a", "#compare-chart-b"):
            assert page.locator(f"{chart} rect").count() == len(model.card.labels["framing"])

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "page-compare-seeds.png"), full_page=True)
        browser.close()
    assert not problems
    assert (ARTIFACTS / "page-compare-seeds.png").stat().st_size > 10_000


def test_interactive_docs_render_with_no_network(live_server: str) -> None:
    """Swagger UI comes from the package's own files: every request stays on the box."""
    from playwright.sync_api import sync_playwright

    off_box: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.on("request", lambda request: off_box.append(request.url)
                if urlparse(request.url).hostname not in {"127.0.0.1", None} else None)
        page.goto(f"{live_server}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        browser.close()
    assert "/v1/classify" in paths and "/v1/compare" in paths
    assert off_box == []
