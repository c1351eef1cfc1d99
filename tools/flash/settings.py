"""Link settings for a TX/RX pair and the NVS key/values each board gets at flash time.

The firmware reads namespace `csi_edge` at boot (firmware/components/csi_core/include/
csi_config.h is the authority; tests/firmware/test_flash.py checks this table against the C
one). Every value is a code the HELLO frame echoes back:

    key         NVS type  range            meaning
    role        u8        0..1             0 TX, 1 RX
    channel     u8        1..14            primary Wi-Fi channel
    secondary   u8        0..2             0 none, 1 above, 2 below
    bandwidth   u8        0..1             0 HT20, 1 HT40
    phy_rate    u8        0..31 (not 4)    wifi_phy_rate_t of the TX packets
    rate_hz     u16       1..1000          TX packets per second
    peer_mac    string    aa:bb:cc:dd:ee:ff  the other board
    transport   u8        0..1             0 USB-Serial-JTAG, 1 UART0
    baud        u32       9600..2000000    UART baud
    format      u8        0..1             0 protocol v1, 1 esp-csi text
    gain_lock   u8        0..1             lock AGC/FFT gain after a median
    gl_packets  u16       10..1000         packets in that median
    ltf_mask    u8        1..7             bit 0 L-LTF, 1 HT-LTF, 2 STBC-HT-LTF
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from csi_edge.errors import UsageError

NAMESPACE = "csi_edge"
ROLE_TX, ROLE_RX = 0, 1


@dataclass(frozen=True)
class SettingKey:
    key: str
    encoding: str  # NVS CSV encoding: u8, u16, u32, string
    low: int
    high: int


KEYS: tuple[SettingKey, ...] = (
    SettingKey("role", "u8", 0, 1),
    SettingKey("channel", "u8", 1, 14),
    SettingKey("secondary", "u8", 0, 2),
    SettingKey("bandwidth", "u8", 0, 1),
    SettingKey("phy_rate", "u8", 0, 31),
    SettingKey("rate_hz", "u16", 1, 1000),
    SettingKey("peer_mac", "string", 0, 0),
    SettingKey("transport", "u8", 0, 1),
    SettingKey("baud", "u32", 9600, 2_000_000),
    SettingKey("format", "u8", 0, 1),
    SettingKey("gain_lock", "u8", 0, 1),
    SettingKey("gl_packets", "u16", 10, 1000),
    SettingKey("ltf_mask", "u8", 1, 7),
)

SECONDARY = {"none": 0, "above": 1, "below": 2}
TRANSPORT = {"usb": 0, "uart": 1}
FORMAT = {"v1": 0, "esp-csi": 1}
LTF_BITS = {"lltf": 1, "htltf": 2, "stbc": 4}


def _phy_rates() -> dict[str, int]:
    """Names -> wifi_phy_rate_t codes (11b long/short preamble, 11g, HT MCS0-7 LGI/SGI)."""
    rates = {"1m": 0x00, "2m": 0x01, "5.5m": 0x02, "11m": 0x03, "2m-short": 0x05, "5.5m-short": 0x06,
             "11m-short": 0x07, "48m": 0x08, "24m": 0x09, "12m": 0x0A, "6m": 0x0B, "54m": 0x0C, "36m": 0x0D,
             "18m": 0x0E, "9m": 0x0F}  # fmt: skip
    for mcs in range(8):
        rates[f"mcs{mcs}"] = 0x10 + mcs
        rates[f"mcs{mcs}-sgi"] = 0x18 + mcs
    return rates


PHY_RATES = _phy_rates()
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def normalise_mac(text: str, what: str) -> str:
    """'7C-DF-A1-00-00-01' -> '7c:df:a1:00:00:01'; UsageError naming `what` otherwise."""
    mac = text.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise UsageError(f"{what}: bad MAC {text!r} (expected aa:bb:cc:dd:ee:ff)")
    return mac


def parse_phy_rate(text: str) -> int:
    """A rate name (mcs0, mcs7-sgi, 6m, 1m, ...) or a wifi_phy_rate_t code."""
    name = text.strip().lower()
    if name in PHY_RATES:
        return PHY_RATES[name]
    try:
        code = int(name, 0)
    except ValueError:
        code = -1
    if code in PHY_RATES.values():
        return code
    raise UsageError(f"--phy-rate: unknown rate {text!r} (one of {', '.join(PHY_RATES)} or a code 0..31 except 4)")


def parse_ltf(text: str) -> int:
    """'lltf,htltf' -> bit mask 3."""
    mask = 0
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        if part not in LTF_BITS:
            raise UsageError(f"--ltf: unknown block {part!r} (use lltf, htltf, stbc, comma separated)")
        mask |= LTF_BITS[part]
    if not mask:
        raise UsageError("--ltf: give at least one of lltf, htltf, stbc")
    return mask


@dataclass(frozen=True)
class LinkSettings:
    """What both boards of a pair share; `board_values` adds the role and the peer."""

    channel: int = 11
    secondary: str = "none"
    bandwidth_mhz: int = 20
    phy_rate: int = PHY_RATES["mcs0"]
    rate_hz: int = 100
    transport: str = "usb"
    baud: int = 921600
    output_format: str = "v1"
    gain_lock: bool = False
    gain_lock_packets: int = 100
    ltf_mask: int = 1

    def check(self) -> None:
        """The firmware's rules (csi_config_check), named by command-line flag."""
        if not 1 <= self.channel <= 14:
            raise UsageError(f"--channel must be 1..14 (got {self.channel})")
        if self.secondary not in SECONDARY:
            raise UsageError(f"--secondary must be none, above or below (got {self.secondary})")
        if self.bandwidth_mhz not in (20, 40):
            raise UsageError(f"--bandwidth must be 20 or 40 (got {self.bandwidth_mhz})")
        if self.bandwidth_mhz == 40 and self.secondary == "none":
            raise UsageError("--bandwidth 40 needs --secondary above or below")
        if self.bandwidth_mhz == 20 and self.secondary != "none":
            raise UsageError(f"--secondary {self.secondary} needs --bandwidth 40")
        if self.secondary == "above" and self.channel > 9:
            raise UsageError(f"--secondary above needs --channel 1..9 (got {self.channel})")
        if self.secondary == "below" and not 5 <= self.channel <= 13:
            raise UsageError(f"--secondary below needs --channel 5..13 (got {self.channel})")
        if not 1 <= self.rate_hz <= 1000:
            raise UsageError(f"--rate-hz must be 1..1000 (got {self.rate_hz})")
        if self.phy_rate not in PHY_RATES.values():
            raise UsageError(f"--phy-rate code {self.phy_rate} is not a wifi_phy_rate_t rate")
        if self.transport not in TRANSPORT:
            raise UsageError(f"--transport must be usb or uart (got {self.transport})")
        if not 9600 <= self.baud <= 2_000_000:
            raise UsageError(f"--baud must be 9600..2000000 (got {self.baud})")
        if self.output_format not in FORMAT:
            raise UsageError(f"--format must be v1 or esp-csi (got {self.output_format})")
        if not 10 <= self.gain_lock_packets <= 1000:
            raise UsageError(f"--gain-lock-packets must be 10..1000 (got {self.gain_lock_packets})")
        if not 1 <= self.ltf_mask <= 7:
            raise UsageError(f"--ltf mask must be 1..7 (got {self.ltf_mask})")

    def board_values(self, role: int, peer_mac: str) -> dict[str, int | str]:
        """NVS key -> value for one board (in KEYS order)."""
        values: dict[str, int | str] = {
            "role": role,
            "channel": self.channel,
            "secondary": SECONDARY[self.secondary],
            "bandwidth": 1 if self.bandwidth_mhz == 40 else 0,
            "phy_rate": self.phy_rate,
            "rate_hz": self.rate_hz,
            "peer_mac": peer_mac,
            "transport": TRANSPORT[self.transport],
            "baud": self.baud,
            "format": FORMAT[self.output_format],
            "gain_lock": int(self.gain_lock),
            "gl_packets": self.gain_lock_packets,
            "ltf_mask": self.ltf_mask,
        }
        for k in KEYS:  # belt and braces: what we flash is always in the firmware's bounds
            v = values[k.key]
            if k.encoding != "string" and not k.low <= int(v) <= k.high:
                raise UsageError(f"setting {k.key} = {v} outside {k.low}..{k.high}")
        return values


def nvs_csv(values: dict[str, int | str]) -> str:
    """The NVS partition CSV (esp-idf-nvs-partition-gen input) for one board."""
    out = io.StringIO()
    out.write("key,type,encoding,value\n")
    out.write(f"{NAMESPACE},namespace,,\n")
    for k in KEYS:
        out.write(f"{k.key},data,{k.encoding},{values[k.key]}\n")
    return out.getvalue()
