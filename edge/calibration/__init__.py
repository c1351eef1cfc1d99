"""Site calibration: the empty-room baseline of a link, drift from it, recalibration,
baseline-relative features, novelty of a window and test-time adaptation (docs/calibration.md).

    baseline.py    the Baseline file (csi-edge/baseline/1), the link identity, the link check
    stats.py       window statistics (profile, flicker, motion ratio, drift) and BaselineBuilder
    drift.py       DriftMonitor: the quiet-room drift score and its alarm with hysteresis
    relative.py    baseline-relative packet features (dB)
    novelty.py     novelty scores of the activity logits, their calibration, AUROC
    adapt.py       StreamAdapter: test-time adaptation of the input statistics (ONNX-friendly)
    controller.py  LinkCalibration: all of it for one link of the running daemon
    cli.py         `csi-edge calibrate`
"""
