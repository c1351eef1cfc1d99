"""Where each firmware image goes in flash: from an ESP-IDF build directory, a release bundle
(a zip of one), or the shipped default layout.

An ESP-IDF build writes `flasher_args.json` (offset -> image path, flash mode/size/frequency,
chip) and `partition_table/partition-table.bin`. The NVS partition's offset and size come
from that partition table (binary format below); without a build the defaults match
firmware/partitions.csv (a test keeps them in step).

Partition table entry (32 bytes, little-endian), repeated until an entry starts 0xFF 0xFF:

    0  u16  magic 0x50AA      4  u32  offset          12  char[16] label (NUL padded)
    2  u8   type (1 = data)   8  u32  size            28  u32  flags
    3  u8   subtype (data: 2 = nvs)
"""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from csi_edge.errors import CsiEdgeError, DataError

CHIP = "esp32s3"
NVS_OFFSET = 0x9000
NVS_SIZE = 0x6000
DEFAULT_IMAGES = ((0x0, "bootloader/bootloader.bin"), (0x8000, "partition_table/partition-table.bin"),
                  (0x10000, "csi_edge.bin"))  # fmt: skip
DEFAULT_FLASH_ARGS = ("--flash-mode", "dio", "--flash-freq", "80m", "--flash-size", "4MB")

_ENTRY = struct.Struct("<HBBII16sI")
_MAGIC = 0x50AA


@dataclass(frozen=True)
class Image:
    offset: int
    path: Path


@dataclass(frozen=True)
class Partition:
    label: str
    type: int
    subtype: int
    offset: int
    size: int


@dataclass(frozen=True)
class FirmwareLayout:
    """The images to write, the NVS partition, and where this came from (for messages)."""

    images: tuple[Image, ...]
    nvs_offset: int
    nvs_size: int
    chip: str
    flash_args: tuple[str, ...]
    source: str

    def missing(self) -> list[Path]:
        return [img.path for img in self.images if not img.path.is_file()]


def parse_partition_table(data: bytes, where: str) -> list[Partition]:
    parts = []
    for pos in range(0, len(data) - _ENTRY.size + 1, _ENTRY.size):
        magic, ptype, subtype, offset, size, label, _flags = _ENTRY.unpack_from(data, pos)
        if magic == 0xFFFF:
            break
        if magic != _MAGIC:
            if data[pos : pos + 2] == b"\xeb\xeb":  # the MD5 entry that ends the table
                break
            raise DataError(f"{where} @ byte {pos}: not a partition table entry (magic 0x{magic:04x})")
        parts.append(Partition(label.rstrip(b"\0").decode("ascii", "replace"), ptype, subtype, offset, size))
    return parts


def _nvs_partition(table_path: Path) -> tuple[int, int]:
    if not table_path.is_file():
        return NVS_OFFSET, NVS_SIZE
    for part in parse_partition_table(table_path.read_bytes(), str(table_path)):
        if part.type == 1 and part.subtype == 2 and part.label == "nvs":
            return part.offset, part.size
    raise DataError(f"{table_path}: no data/nvs partition labelled 'nvs'")


def _from_flasher_args(build: Path, args_path: Path) -> FirmwareLayout:
    try:
        doc = json.loads(args_path.read_text(encoding="utf-8"))
        files = {int(off, 16): build / rel for off, rel in doc["flash_files"].items()}
    except (ValueError, KeyError, AttributeError) as exc:
        raise DataError(f"{args_path}: not an ESP-IDF flasher_args.json ({exc})") from None
    chip = doc.get("extra_esptool_args", {}).get("chip", CHIP)
    settings = doc.get("flash_settings", {})
    flash_args = tuple(a for k in ("flash_mode", "flash_freq", "flash_size") if k in settings
                       for a in (f"--{k.replace('_', '-')}", settings[k]))  # fmt: skip
    table = files.get(0x8000, build / "partition_table" / "partition-table.bin")
    nvs_offset, nvs_size = _nvs_partition(table)
    images = tuple(Image(off, path) for off, path in sorted(files.items()))
    return FirmwareLayout(images, nvs_offset, nvs_size, chip, flash_args or DEFAULT_FLASH_ARGS, f"build {build}")


def from_build_dir(build: Path) -> FirmwareLayout:
    """A build directory (idf.py build output) or an unpacked bundle."""
    args_path = build / "flasher_args.json"
    if args_path.is_file():
        return _from_flasher_args(build, args_path)
    images = tuple(Image(off, build / rel) for off, rel in DEFAULT_IMAGES)
    return FirmwareLayout(images, NVS_OFFSET, NVS_SIZE, CHIP, DEFAULT_FLASH_ARGS,
                          f"default layout in {build} (no flasher_args.json)")  # fmt: skip


def from_bundle(bundle: Path, into: Path) -> FirmwareLayout:
    """Unpack a release bundle (zip of a build's flasher_args.json and images) into `into`."""
    if not bundle.is_file():
        raise CsiEdgeError(f"{bundle}: no such bundle")
    try:
        with zipfile.ZipFile(bundle) as zf:
            for name in zf.namelist():
                target = (into / name).resolve()
                if not str(target).startswith(str(into.resolve())):
                    raise DataError(f"{bundle}: member {name!r} escapes the bundle directory")
            zf.extractall(into)
    except zipfile.BadZipFile:
        raise DataError(f"{bundle}: not a zip file (a release bundle is a zip of the build images)") from None
    layout = from_build_dir(into)
    return FirmwareLayout(layout.images, layout.nvs_offset, layout.nvs_size, layout.chip, layout.flash_args,
                          f"bundle {bundle}")  # fmt: skip
