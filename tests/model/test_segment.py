"""Sentence splitting: offsets, news abbreviations, and page furniture on the seeds."""

from __future__ import annotations

import pytest

from model.segment import split


def test_offsets_point_back_into_the_text(seed_texts: dict[str, str]) -> None:
    for text in seed_texts.values():
        for segment in split(text):
            assert text[segment.start : segment.end] == segment.text
            assert segment.text == segment.text.strip()


def test_every_seed_content_sentence_is_one_segment(
    seed_texts: dict[str, str], seed_framing: dict[str, list[list[str]]]
) -> None:
    for name, labels in seed_framing.items():
        content = [s.text for s in split(seed_texts[name]) if not s.boilerplate]
        assert len(content) == len(labels)
        for sentence, (opening, _) in zip(content, labels, strict=True):
            assert sentence.startswith(opening)


def test_all_ten_seed_boilerplate_lines_are_flagged(seed_texts: dict[str, str]) -> None:
    flagged = [s.text for text in seed_texts.values() for s in split(text) if s.boilerplate]
    assert len(flagged) == 10
    assert "world" in flagged and "You might also like" in flagged
    assert any(t.startswith("SULLIVAN CLAIMS") for t in flagged)
    assert any(t.startswith("Trump's inauguration: Brazilian court") for t in flagged)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ret. Lt. Gen. Keith Kellogg spoke. He left.",
         ["Ret. Lt. Gen. Keith Kellogg spoke.", "He left."]),
        ("Sen. Warren met U.S. officials on Jan. 5 in Washington. They talked.",
         ["Sen. Warren met U.S. officials on Jan. 5 in Washington.", "They talked."]),
        ("“It is over,” she said. “We lost.”", ["“It is over,” she said.", "“We lost.”"]),
        ('"It is over," she said. Gov. Newsom agreed.',
         ['"It is over," she said.', "Gov. Newsom agreed."]),
        ("Markets fell — again — on Friday. Dr. Smith resigned.",
         ["Markets fell — again — on Friday.", "Dr. Smith resigned."]),
    ],
)
def test_news_abbreviations_quotes_and_dashes(text: str, expected: list[str]) -> None:
    assert [s.text for s in split(text)] == expected


def test_lines_bullets_and_headlines_without_full_stop() -> None:
    text = "Senate Passes Budget Deal\n\n- First point here.\n• Second point\n\nThe vote was 51-49."
    segments = split(text)
    assert [s.text for s in segments] == [
        "Senate Passes Budget Deal", "First point here.", "Second point", "The vote was 51-49.",
    ]
    assert not any(s.boilerplate for s in segments)


@pytest.mark.parametrize(
    "line",
    [
        "By Jane Doe and John Roe | Reuters",
        "Photo: AP Photo/Evan Vucci",
        "Share on Facebook",
        "BIDEN UNVEILS NEW TARIFFS ON CHINESE STEEL, SAYS WORKERS ‘DESERVE BETTER’",
        "Politics",
    ],
)
def test_furniture_lines_are_boilerplate(line: str) -> None:
    segments = split(f"The council met on Monday.\n{line}\nIt adjourned at noon.")
    assert [s.boilerplate for s in segments] == [False, True, False]


def test_related_list_ends_at_the_next_paragraph() -> None:
    text = "Related\n- One story\n- Another story\nThe mayor said the plan would pass."
    assert [s.boilerplate for s in split(text)] == [True, True, True, False]


def test_empty_text_has_no_segments() -> None:
    assert split("  \n\n ") == []


def test_a_long_line_is_split_in_chunks_exactly_as_whole(
    seed_texts: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunking only bounds pysbd's quadratic time: the sentences are the same as unchunked."""
    import model.segment as segment

    one_line = " ".join(" ".join(t.split("\n")) for t in seed_texts.values())
    text = " ".join([one_line] * 3)  # about 20,000 characters on a single line
    assert len(segment._chunks(text)) > 3
    chunked = split(text)
    monkeypatch.setattr(segment, "CHUNK_CHARS", len(text) + 1)
    assert len(segment._chunks(text)) == 1
    assert split(text) == chunked
    assert all(text[s.start : s.end] == s.text for s in chunked)


def test_no_chunk_is_cut_after_an_abbreviation(monkeypatch: pytest.MonkeyPatch) -> None:
    import model.segment as segment

    monkeypatch.setattr(segment, "CHUNK_CHARS", 10)
    text = "He met Sen. Warren on Friday. The talks went well. Then U.S. Army officials left."
    pieces = [text[start:end].rstrip() for start, end in segment._chunks(text)]
    assert pieces == ["He met Sen. Warren on Friday.", "The talks went well.",
                      "Then U.S. Army officials left."]


def test_threads_splitting_at_once_get_their_own_sentences(seed_texts: dict[str, str]) -> None:
    """pysbd keeps the text it is splitting in its Segmenter: shared across threads, one
    thread's sentences turned up in another's answer (the batcher and the measuring thread
    split at the same time)."""
    from concurrent.futures import ThreadPoolExecutor

    texts = list(seed_texts.values()) * 6
    expected = [split(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(split, texts)) == expected
