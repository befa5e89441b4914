"""The docs the repository carries stay true to their sources."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_GUIDE = ROOT.parent / "shared" / "LABELS.md"


@pytest.mark.skipif(not SHARED_GUIDE.is_file(), reason=f"{SHARED_GUIDE} absent (a user's clone)")
def test_the_guide_in_the_repository_is_the_shared_one() -> None:
    assert (ROOT / "docs" / "LABELS.md").read_text(encoding="utf-8") == SHARED_GUIDE.read_text(
        encoding="utf-8"), "docs/LABELS.md differs from ../shared/LABELS.md: copy it over"


@pytest.mark.parametrize("name", ["README.md", "ARCHITECTURE.md", "docs/model.md",
                                  "docs/annotation.md", "docs/benchmarks.md", "docs/trust.md"])
def test_markdown_renders_every_heading_outside_code(name: str) -> None:
    """A fence closed on a content line swallows the rest of a page into one code block;
    with CommonMark's parser, every heading of the source must come out as a heading."""
    from markdown_it import MarkdownIt

    text = (ROOT / name).read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").parse(text)
    rendered = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    in_fence, written = False, []
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            written.append(line.lstrip("#").strip())
    assert not in_fence, f"{name}: a code fence is never closed"
    assert rendered == written
    assert all(t.info.strip() in {"", "sh", "json", "csv", "python", "text"}
               for t in tokens if t.type == "fence")


def test_readme_links_to_files_that_exist() -> None:
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"
