"""Fine-tune the sentence encoder end to end on framing and target-marked stance.

A frozen sentence-similarity encoder says what a sentence is *about*; framing is about who
speaks and what the sentence does. Training the whole transformer on labelled real news,
with one small classification layer per head, moves that knowledge into the encoder; the
calibrated heads that serve are then fitted on the fine-tuned encoder's features
(``training.fit``), so serving, export and the model format stay as they are.

Both heads read one pass of the encoder: framing the mean of the last and the middle
layer's token states, stance the sentence mean beside the mean of the marked target's
tokens (``model.target_features.marked_text``), so the body learns target-conditioned
stance, not a sentence's overall tone.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from model.encoder import middle_layer, resolve_encoder_path
from model.labels import FRAMING, LABELS, STANCE
from model.target_features import marked_text, target_span

Log = Callable[[str], None]


class FinetuneConfig(BaseModel):
    """Every setting of the fine-tuning run; recorded in the model card."""

    model_config = ConfigDict(frozen=True)

    epochs: float = 2.0
    batch_size: int = 32
    learning_rate: float = 5e-5
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_seq_length: int = 128
    seed: int = 0
    max_steps: int | None = None  # a cap for smoke runs; None trains all epochs


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled unit for one head; ``target`` only for stance."""

    text: str
    head: str
    label: str
    target: str | None = None
    soft: tuple[float, ...] | None = None  # a teacher's probabilities, in LABELS order


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _marked(example: Example) -> tuple[str, tuple[int, int] | None]:
    span = target_span(example.text, example.target) if example.target else None
    return marked_text(example.text, span)


def _batches(examples: Sequence[Example], size: int, rng: random.Random) -> list[list[Example]]:
    """Single-head batches in a shuffled order, so every step trains one head's layer.

    Rows are shuffled, then sorted by length within windows of 50 batches, so a batch
    holds sentences of similar length and pads little (about a third faster on CPU).
    """
    batches: list[list[Example]] = []
    window = 50 * size
    for head in (FRAMING, STANCE):
        rows = [e for e in examples if e.head == head]
        rng.shuffle(rows)
        for first in range(0, len(rows), window):
            chunk = sorted(rows[first : first + window], key=lambda e: len(e.text))
            batches += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def finetune(
    encoder_name: str,
    examples: Sequence[Example],
    out: Path,
    config: FinetuneConfig | None = None,
    log: Log = _stderr,
) -> Path:
    """Train the encoder on ``examples`` and save it as a sentence-transformers dir at ``out``."""
    import torch
    from sentence_transformers import SentenceTransformer

    config = config or FinetuneConfig()
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    st = SentenceTransformer(str(resolve_encoder_path(encoder_name)), device="cpu")
    tokenizer, body = st.tokenizer, st[0].auto_model
    body.train()
    dim = int(body.config.hidden_size)
    middle = middle_layer(int(body.config.num_hidden_layers))
    heads = torch.nn.ModuleDict(
        {head: torch.nn.Linear(2 * dim, len(LABELS[head])) for head in (FRAMING, STANCE)}
    )
    index = {head: {label: i for i, label in enumerate(LABELS[head])} for head in LABELS}
    steps_per_epoch = len(_batches(examples, config.batch_size, random.Random(0)))
    total = math.ceil(steps_per_epoch * config.epochs)
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    optimizer = torch.optim.AdamW(
        [{"params": body.parameters(), "lr": config.learning_rate},
         {"params": heads.parameters(), "lr": config.head_learning_rate}],
        weight_decay=config.weight_decay,
    )
    warmup = max(1, int(total * config.warmup_ratio))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup + 1)))
    )

    def step(batch: list[Example]) -> float:
        head = batch[0].head
        marked = [_marked(e) for e in batch]
        encoded = tokenizer([t for t, _ in marked], padding=True, truncation=True,
                            max_length=config.max_seq_length, return_offsets_mapping=True,
                            return_tensors="pt")
        offsets = encoded.pop("offset_mapping")
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        output = body(**encoded, output_hidden_states=True)
        last, mid = output.last_hidden_state, output.hidden_states[middle]
        mean_last = (last * mask).sum(1) / mask.sum(1)
        if head == FRAMING:
            features = torch.cat([mean_last, (mid * mask).sum(1) / mask.sum(1)], dim=1)
        else:
            region = _region_mask(offsets, [span for _, span in marked]) * mask
            region = torch.where(region.sum(1, keepdim=True) > 0, region, mask)
            features = torch.cat([mean_last, (last * region).sum(1) / region.sum(1)], dim=1)
        targets = torch.tensor([_target(e, index[head]) for e in batch])
        log_p = torch.nn.functional.log_softmax(heads[head](features), dim=1)
        loss = -(targets * log_p).sum(1).mean()  # cross-entropy, soft or one-hot
        loss.backward()
        torch.nn.utils.clip_grad_norm_(body.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        return float(loss.detach())

    done, started, recent = 0, time.monotonic(), []
    log(f"fine-tuning {encoder_name}: {len(examples)} examples, {total} steps "
        f"of {config.batch_size} ({config.epochs} epochs)")
    while done < total:
        for batch in _batches(examples, config.batch_size, rng):
            recent = [*recent[-49:], step(batch)]
            done += 1
            if done % 50 == 0 or done == total:
                rate = done / (time.monotonic() - started)
                log(f"  step {done}/{total}  loss {sum(recent) / len(recent):.3f}  "
                    f"{rate * config.batch_size:.0f} examples/s  "
                    f"eta {(total - done) / rate:.0f} s")
            if done >= total:
                break
    body.eval()
    out.mkdir(parents=True, exist_ok=True)
    st.save(str(out))
    _store_half(out / "model.safetensors")
    log(f"fine-tuned encoder saved to {out} ({time.monotonic() - started:.0f} s)")
    return out


def _target(example: Example, index: dict[str, int]) -> list[float]:
    """The distribution the head learns: a teacher's soft labels, else one-hot."""
    if example.soft is not None:
        return list(example.soft)
    return [1.0 if i == index[example.label] else 0.0 for i in range(len(index))]


def _region_mask(offsets: object, spans: list[tuple[int, int] | None]) -> object:
    """(batch, tokens, 1) float mask of the tokens inside each marked region."""
    import torch

    start, end = offsets[..., 0], offsets[..., 1]
    bounds = torch.tensor([span if span else (-1, -1) for span in spans])
    inside = (start < bounds[:, 1:2]) & (end > bounds[:, 0:1]) & (end > start)
    return inside.unsqueeze(-1).float()


def _store_half(weights: Path) -> None:
    """Keep the weights in fp16: half the bytes in the repository, and the encoder loads
    them back as fp32 (``model.encoder.TorchEncoder``), so every backend sees the same
    rounded weights."""
    from safetensors.torch import load_file, save_file

    state = load_file(str(weights))
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_file(half, str(weights), metadata={"format": "pt"})
