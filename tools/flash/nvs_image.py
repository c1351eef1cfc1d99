"""NVS partition images: written with esp-idf-nvs-partition-gen, read back by our own reader.

`csi-edge flash` generates each board's image from its CSV with the real generator (the
`esp_idf_nvs_partition_gen` module, run as a command so the dry run can print it), then reads
the image back and compares every key before anything is flashed.

NVS layout (ESP-IDF "Non-Volatile Storage" format, version 2), all little-endian:

    page (4096 bytes):  0 u32 state (0xFFFFFFFE active, 0xFFFFFFFC full)
                        4 u32 sequence number   8 u8 version (0xFE = v2)
                        28 u32 CRC-32 of bytes 4..27
                        32..63 entry state bitmap, 2 bits per entry (0b10 = written)
                        64 + 32*i  entry i (126 entries)
    entry (32 bytes):   0 u8 namespace index (0 = the namespace table)
                        1 u8 type (0x01 u8, 0x02 u16, 0x04 u32, 0x21 string, ...)
                        2 u8 span (entries used, header included)   3 u8 chunk index
                        4 u32 CRC-32 of bytes 0..3 + 8..31
                        8 char[16] key (NUL padded)
                        24 8 bytes data: the value (integers) or, for strings,
                           u16 size (with NUL), u16 reserved, u32 CRC-32 of the string bytes
                        the string's bytes fill the next span-1 entries
CRCs are zlib.crc32(data, 0xFFFFFFFF) (ESP-IDF's esp_rom_crc32_le(0xffffffff, ...)).
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

from csi_edge.errors import DataError

PAGE = 4096
ENTRY = 32
ENTRIES_PER_PAGE = 126
_INT_TYPES = {0x01: "<B", 0x11: "<b", 0x02: "<H", 0x12: "<h", 0x04: "<I", 0x14: "<i", 0x08: "<Q", 0x18: "<q"}
TYPE_STRING = 0x21


def generator_command(csv_path: Path, bin_path: Path, size: int) -> list[str]:
    """The esp-idf-nvs-partition-gen command that turns one CSV into one image."""
    return [sys.executable, "-m", "esp_idf_nvs_partition_gen", "generate", str(csv_path), str(bin_path), hex(size)]


def _crc(data: bytes) -> int:
    return zlib.crc32(data, 0xFFFFFFFF) & 0xFFFFFFFF


def _entry_written(bitmap: bytes, index: int) -> bool:
    bits = (bitmap[index // 4] >> ((index % 4) * 2)) & 3
    return bits == 2


def _read_page(page: bytes, where: str, out: list[tuple[int, str, int, int | str]]) -> None:
    bitmap = page[32:64]
    i = 0
    while i < ENTRIES_PER_PAGE:
        if not _entry_written(bitmap, i):
            i += 1
            continue
        raw = page[64 + ENTRY * i : 64 + ENTRY * (i + 1)]
        ns, etype, span = raw[0], raw[1], raw[2]
        if _crc(raw[0:4] + raw[8:32]) != struct.unpack_from("<I", raw, 4)[0]:
            raise DataError(f"{where} entry {i}: header CRC mismatch")
        key = raw[8:24].split(b"\0", 1)[0].decode("ascii")
        if etype in _INT_TYPES:
            value: int | str = struct.unpack_from(_INT_TYPES[etype], raw, 24)[0]
        elif etype == TYPE_STRING:
            size, _reserved, data_crc = struct.unpack_from("<HHI", raw, 24)
            data = page[64 + ENTRY * (i + 1) : 64 + ENTRY * (i + 1) + size]
            if len(data) != size or _crc(data) != data_crc:
                raise DataError(f"{where} entry {i} ({key}): string data CRC mismatch")
            value = data.rstrip(b"\0").decode("utf-8")
        else:
            raise DataError(f"{where} entry {i} ({key}): type 0x{etype:02x} not supported by this reader")
        out.append((ns, key, etype, value))
        i += max(span, 1)


def read_nvs(image: bytes, where: str = "nvs image") -> dict[str, dict[str, tuple[int, int | str]]]:
    """Namespace -> key -> (type code, value), from a whole NVS partition image."""
    if len(image) % PAGE:
        raise DataError(f"{where}: size {len(image)} is not a multiple of {PAGE}")
    entries: list[tuple[int, str, int, int | str]] = []
    for p in range(len(image) // PAGE):
        page = image[p * PAGE : (p + 1) * PAGE]
        state = struct.unpack_from("<I", page)[0]
        if state == 0xFFFFFFFF:
            continue  # empty page
        if _crc(page[4:28]) != struct.unpack_from("<I", page, 28)[0]:
            raise DataError(f"{where} page {p}: header CRC mismatch")
        _read_page(page, f"{where} page {p}", entries)
    names = {value: key for ns, key, _t, value in entries if ns == 0}
    result: dict[str, dict[str, tuple[int, int | str]]] = {}
    for ns, key, etype, value in entries:
        if ns != 0:
            result.setdefault(names.get(ns, f"#{ns}"), {})[key] = (etype, value)
    return result
