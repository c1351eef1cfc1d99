"""A tiny ONNX model package for benchmarks and tests (when models/default.* is absent).

Graph: csi (B, 1, 52, W) -> ReduceMean over subcarriers and time (B, 1) -> MatMul + Add ->
class_logits (B, C); the same mean -> MatMul + Add -> position (B, 3). It knows nothing about
activities; it exercises every stage of the pipeline (card, sha256, preprocess, ORT, outputs).
Needs the `onnx` package (train/dev extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from csi_edge.model.card import FeatureSpec, ModelCard, ScalerSpec, Skill, activity_head, position_head, sha256_file

CLASSES = ("empty", "walking", "sitting", "lying")


def build_tiny_model(directory: Path, name: str = "tiny", window: int = 351, hop: int = 10,
                     classes: tuple[str, ...] = CLASSES, layouts: tuple[str, ...] = ("none", "below", "above"),
                     seed: int = 0, position_skill: Skill | None = None, links: int = 1) -> Path:
    """Write NAME.onnx + NAME.json into `directory`; return the package path (without suffix).
    `position_skill`: what the card claims about its position head (None: not measured);
    `links` > 1: a joint model over that many links (input [batch, links, 52, window])."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    c = len(classes)
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(rng.normal(size=(1, c)).astype(np.float32), "w_cls"),
        numpy_helper.from_array(np.arange(c, dtype=np.float32) * 0.1, "b_cls"),
        numpy_helper.from_array(np.array([[1.0, 0.5, 0.1]], dtype=np.float32), "w_pos"),
        numpy_helper.from_array(np.array([3.6, 2.0, 1.0], dtype=np.float32), "b_pos"),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["csi"], ["m"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["m", "ax"], ["m1"]),
        helper.make_node("MatMul", ["m1", "w_cls"], ["l0"]),
        helper.make_node("Add", ["l0", "b_cls"], ["class_logits"]),
        helper.make_node("MatMul", ["m1", "w_pos"], ["p0"]),
        helper.make_node("Add", ["p0", "b_pos"], ["position"]),
    ]
    inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "ax"))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("csi", TensorProto.FLOAT, ["batch", links, 52, window])],
        [helper.make_tensor_value_info("class_logits", TensorProto.FLOAT, ["batch", c]),
         helper.make_tensor_value_info("position", TensorProto.FLOAT, ["batch", 3])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="csi-edge-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx_path = directory / f"{name}.onnx"
    onnx.save(model, onnx_path)
    card = ModelCard(
        name=name, onnx_file=onnx_path.name, onnx_sha256=sha256_file(onnx_path), window=window, hop=hop,
        heads=(activity_head(classes), position_head(baseline=(3.6, 2.0, 1.0), skill=position_skill)),
        feature=FeatureSpec(layouts=tuple(layouts)),
        scaler=ScalerSpec(kind="maxmin", min=0.0, max=40.0), input_shape=(None, links, 52, window), links=links,
        architecture="tiny-mean-linear", notes="benchmark/test model: knows nothing about activities",
    )
    card.save(directory / f"{name}.json")
    return directory / name
