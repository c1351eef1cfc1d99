"""Training and evaluation (`csi-edge train`, `eval`, `export`): the only place that imports torch.

Data flows one way: specs (dataset SPEC -> recordings) -> datasets (lazy windows) -> prep (scaler,
PCA/ICA fitted on training data) -> loop (augment, train) -> export (ONNX + card) -> evaluate.
See docs/training.md.
"""

ARCHS = ("compact", "compact-wide", "efficientnetv2s")  # networks of nets.build_net (here: no torch import)
