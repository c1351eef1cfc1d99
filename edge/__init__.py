"""csi-edge: through-wall WiFi sensing with ESP32-S3 CSI at the edge."""

__version__ = "0.1.0"
