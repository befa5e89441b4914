"""The encoder's ONNX graphs: exported from torch, fused for ONNX Runtime, quantized to int8.

``torch.onnx.export`` writes the transformer (inputs ``input_ids``, ``attention_mask``,
``token_type_ids``; outputs ``model.onnx_encoder.OUTPUTS``; batch and sequence axes
dynamic); ONNX Runtime's BERT optimizer fuses attention, layer norms and GELU into the fp32
file; ``quantize_dynamic`` turns the unfused graph's matrix multiplies into the int8 file.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

from model.encoder import TorchEncoder
from model.onnx_encoder import OUTPUTS

OPSET = 17


def export_torch_to_onnx(encoder: TorchEncoder, path: Path) -> None:
    """The transformer's last and middle hidden states as ONNX (outputs ``last_hidden_state``
    and ``middle_hidden_state``, see ``model.encoder.middle_layer``), with dynamic batch and
    sequence axes.

    Exported with eager attention through the TorchScript exporter: that graph is the one
    ONNX Runtime's transformer optimizer fuses into its Attention operator.
    """
    import torch

    model = encoder._transformer
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")

    middle = encoder.middle_layer
    # BERT-style encoders (MiniLM) take segment ids; MPNet and RoBERTa-style ones do not,
    # and the graph then has no such input (the runtime feeds only the inputs it declares)
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            output = self.model(**dict(zip(names, inputs, strict=True)),
                                output_hidden_states=True)
            return output.last_hidden_state, output.hidden_states[middle]

    sample = encoder._tokenizer(
        ["An example sentence to trace.", "A second, longer example sentence to trace."],
        padding=True,
        return_tensors="pt",
    )
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, *OUTPUTS]}
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                HiddenStates().eval(),
                tuple(sample[name] for name in names),
                str(path),
                input_names=names,
                output_names=list(OUTPUTS),
                dynamic_axes=axes,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    finally:
        model.set_attn_implementation(previous)


def fuse_for_onnxruntime(source: Path, target: Path, config: dict[str, Any]) -> dict[str, int]:
    """Fuse attention, layer norms and GELU (ONNX Runtime's BERT optimizer), offline."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=1,
    )
    optimized.save_model_to_file(str(target))
    return {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8: weights per output channel, activations quantized per call at run time.

    Quantizes the unfused graph's constant-weight matrix multiplies and the embedding
    table, except each layer's FFN up-projection (``intermediate/dense``), whose input, a
    layer norm's output, has the outlier channels that cost the most accuracy per tensor.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    sensitive = [n.name for n in graph.node if n.op_type == "MatMul" and "intermediate" in n.name]
    quantize_dynamic(
        str(source),
        str(target),
        op_types_to_quantize=["MatMul", "Gather"],
        nodes_to_exclude=sensitive,
        per_channel=True,
        weight_type=QuantType.QInt8,
        extra_options={"MatMulConstBOnly": True, "DefaultTensorType": 1},  # 1: FLOAT
    )
