"""Fine-tuning the encoder: batches, target regions, and a saved encoder that loads."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from model.encoder import TorchEncoder
from model.labels import FRAMING, STANCE
from training.finetune import Example, FinetuneConfig, _batches, _marked, _region_mask, finetune

EXAMPLES = [
    Example("The council approved the budget on Monday.", FRAMING, "neutral_reporting"),
    Example("The mayor said the plan would cut costs.", FRAMING, "official_claim"),
    Example("Voters must reject this reckless scheme.", FRAMING, "advocacy"),
    Example("Critics called the mayor dishonest.", STANCE, "critical", "mayor"),
    Example("Residents praised the mayor for acting fast.", STANCE, "supportive", "mayor"),
    Example("The mayor visited the school.", STANCE, "neutral", "mayor"),
]


def test_batches_hold_one_head_and_cover_every_example_once() -> None:
    examples = EXAMPLES * 7
    batches = _batches(examples, 4, random.Random(0))
    assert all(len({e.head for e in batch}) == 1 for batch in batches)
    assert sorted(id(e) for b in batches for e in b) == sorted(id(e) for e in examples)
    assert max(len(b) for b in batches) == 4


def test_the_region_mask_covers_the_marked_target_only() -> None:
    from transformers import AutoTokenizer

    from model.encoder import resolve_encoder_path

    tokenizer = AutoTokenizer.from_pretrained(str(resolve_encoder_path("default")))
    text, span = _marked(EXAMPLES[3])
    assert text == "Critics called the [ mayor ] dishonest."
    encoded = tokenizer([text], return_offsets_mapping=True, return_tensors="pt")
    mask = _region_mask(encoded["offset_mapping"], [span])[0, :, 0]
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    assert [t for t, m in zip(tokens, mask.tolist(), strict=True) if m] == ["[", "mayor", "]"]
    no_target = _region_mask(encoded["offset_mapping"], [None])
    assert float(no_target.sum()) == 0.0


@pytest.mark.slow
def test_finetuning_moves_the_encoder_and_saves_it_in_half_precision(tmp_path: Path) -> None:
    from safetensors import safe_open

    out = finetune("default", EXAMPLES, tmp_path / "tuned",
                   FinetuneConfig(batch_size=3, max_steps=3, learning_rate=1e-4),
                   log=lambda _: None)
    with safe_open(str(out / "model.safetensors"), "pt") as weights:
        dtypes = {str(weights.get_tensor(k).dtype) for k in weights.keys()}  # noqa: SIM118
    assert dtypes <= {"torch.float16", "torch.int64"}
    base, tuned = TorchEncoder("default"), TorchEncoder(str(out))
    assert tuned.checksum != base.checksum
    a, b = base.encode([EXAMPLES[0].text]), tuned.encode([EXAMPLES[0].text])
    assert 0.5 < float(a[0] @ b[0]) < 0.99999
    assert np.linalg.norm(b[0]) == pytest.approx(1.0, abs=1e-5)
