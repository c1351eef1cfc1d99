"""Link settings for a TX/RX pair and the NVS key/values each board gets at flash time.

The firmware reads namespace `csi_edge` at boot (firmware/components/csi_core/include/
csi_config.h is the authority; tests/firmware/test_flash.py checks this table, the country
table and the defaults against the C ones). Every value is a code the HELLO frame echoes back:

    key         NVS type  range            meaning
    role        u8        0..1             0 TX, 1 RX
    channel     u8        1..14            primary Wi-Fi channel (allowed by `country`; 14: 11b only)
    secondary   u8        0..2             0 none, 1 above, 2 below
    bandwidth   u8        0..1             0 HT20, 1 HT40
    phy_rate    u8        8..31            wifi_phy_rate_t of the TX packets (11g, HT MCS0-7; no 11b)
    rate_hz     u16       1..1000          TX packets per second
    peer_mac    string    aa:bb:cc:dd:ee:ff  the other board
    transport   u8        0..1             0 USB-Serial-JTAG, 1 UART (UART1)
    baud        u32       9600..2000000    UART baud
    format      u8        0..1             0 protocol v1, 1 esp-csi text
    gain_lock   u8        0..1             lock AGC/FFT gain after a median
    gl_packets  u16       10..1000         packets in that median
    ltf_mask    u8        1..7             bit 0 L-LTF, 1 HT-LTF, 2 STBC-HT-LTF
    country     string    "01", "DE", ...  regulatory country (esp_wifi_set_country_code)
    csi_scale   u8        0..1             0 automatic (the driver scales each report), 1 manual
    csi_shift   u8        0..15            manual scaling: left shift

Defaults are the reference (3DO) setup the shipped model and the simulator use: channel 11,
HT40 with the secondary channel below, MCS0, 100 Hz, L-LTF, country "01", manual scaling 4.
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
    SettingKey("phy_rate", "u8", 8, 31),
    SettingKey("rate_hz", "u16", 1, 1000),
    SettingKey("peer_mac", "string", 0, 0),
    SettingKey("transport", "u8", 0, 1),
    SettingKey("baud", "u32", 9600, 2_000_000),
    SettingKey("format", "u8", 0, 1),
    SettingKey("gain_lock", "u8", 0, 1),
    SettingKey("gl_packets", "u16", 10, 1000),
    SettingKey("ltf_mask", "u8", 1, 7),
    SettingKey("country", "string", 0, 0),
    SettingKey("csi_scale", "u8", 0, 1),
    SettingKey("csi_shift", "u8", 0, 15),
)

SECONDARY = {"none": 0, "above": 1, "below": 2}
TRANSPORT = {"usb": 0, "uart": 1}
FORMAT = {"v1": 0, "esp-csi": 1}
CSI_SCALE = {"auto": 0, "manual": 1}
LTF_BITS = {"lltf": 1, "htltf": 2, "stbc": 4}

# The country codes esp_wifi_set_country_code() knows (esp_wifi.h, ESP-IDF v5.3..v5.5) and the
# last 2.4 GHz channel each allows for OFDM, as firmware/components/csi_core/src/csi_config.c:
# "01" (ESP-IDF's default, world safe mode) 1..11; US, CA 1..11 (and MX, TW: no source for 12
# and 13, so not offered); JP 1..13 for OFDM (14 is 11b-only); the others 1..13.
COUNTRY_LAST_CHANNEL = {cc: 13 for cc in (
    "AT", "AU", "BE", "BG", "BR", "CH", "CN", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HK",
    "HR", "HU", "IE", "IN", "IS", "IT", "JP", "KR", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "NZ", "PL", "PT",
    "RO", "SE", "SI", "SK")} | {"01": 11, "CA": 11, "MX": 11, "TW": 11, "US": 11}  # fmt: skip


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
RATE_NAMES = {code: name for name, code in PHY_RATES.items()}
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def is_11b(code: int) -> bool:
    """802.11b (DSSS/CCK) codes 0..7: no L-LTF or HT-LTF, so no CSI at the RX."""
    return 0 <= code <= 7


def normalise_mac(text: str, what: str) -> str:
    """'7C-DF-A1-00-00-01' -> '7c:df:a1:00:00:01'; UsageError naming `what` otherwise."""
    mac = text.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise UsageError(f"{what}: bad MAC {text!r} (expected aa:bb:cc:dd:ee:ff)")
    return mac


def parse_phy_rate(text: str) -> int:
    """A rate name (mcs0, mcs7-sgi, 6m, ...) or a wifi_phy_rate_t code (11b ones too: check() refuses them)."""
    name = text.strip().lower()
    if name in PHY_RATES:
        return PHY_RATES[name]
    try:
        code = int(name, 0)
    except ValueError:
        code = -1
    if code in PHY_RATES.values():
        return code
    ofdm = [n for n, c in PHY_RATES.items() if not is_11b(c)]
    raise UsageError(f"--phy-rate: unknown rate {text!r} (one of {', '.join(ofdm)} or a code 8..31)")


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


def resolve_band(secondary: str | None, bandwidth_mhz: int | None) -> tuple[str, int]:
    """Fill in whichever of --secondary / --bandwidth was not given; neither: the reference
    setup (below, 40 MHz)."""
    if secondary is None and bandwidth_mhz is None:
        return "below", 40
    if secondary is None:
        return ("none" if bandwidth_mhz == 20 else "below"), int(bandwidth_mhz or 40)
    if bandwidth_mhz is None:
        return secondary, 20 if secondary == "none" else 40
    return secondary, bandwidth_mhz


@dataclass(frozen=True)
class LinkSettings:
    """What both boards of a pair share; `board_values` adds the role and the peer."""

    channel: int = 11
    secondary: str = "below"
    bandwidth_mhz: int = 40
    phy_rate: int = PHY_RATES["mcs0"]
    rate_hz: int = 100
    transport: str = "usb"
    baud: int = 921600
    output_format: str = "v1"
    gain_lock: bool = False
    gain_lock_packets: int = 100
    ltf_mask: int = 1
    country: str = "01"
    csi_scale: str = "manual"
    csi_shift: int = 4

    @property
    def country_channels(self) -> tuple[int, int]:
        """(first, last) 2.4 GHz OFDM channel the country allows."""
        return 1, COUNTRY_LAST_CHANNEL[self.country]

    def check(self) -> None:
        """The firmware's rules (csi_config_check), named by command-line flag."""
        self._check_band()
        self._check_channel()
        self._check_rates()
        if self.transport not in TRANSPORT:
            raise UsageError(f"--transport must be usb or uart (got {self.transport})")
        if not 9600 <= self.baud <= 2_000_000:
            raise UsageError(f"--baud must be 9600..2000000 (got {self.baud})")
        if self.output_format not in FORMAT:
            raise UsageError(f"--format must be v1 or esp-csi (got {self.output_format})")
        if not 10 <= self.gain_lock_packets <= 1000:
            raise UsageError(f"--gain-lock-packets must be 10..1000 (got {self.gain_lock_packets})")
        if self.csi_scale not in CSI_SCALE:
            raise UsageError(f"--csi-scale must be auto or manual (got {self.csi_scale})")
        if not 0 <= self.csi_shift <= 15:
            raise UsageError(f"--csi-shift must be 0..15 (got {self.csi_shift})")

    def _check_band(self) -> None:
        if self.secondary not in SECONDARY:
            raise UsageError(f"--secondary must be none, above or below (got {self.secondary})")
        if self.bandwidth_mhz not in (20, 40):
            raise UsageError(f"--bandwidth must be 20 or 40 (got {self.bandwidth_mhz})")
        if self.bandwidth_mhz == 40 and self.secondary == "none":
            raise UsageError("--bandwidth 40 needs --secondary above or below")
        if self.bandwidth_mhz == 20 and self.secondary != "none":
            raise UsageError(f"--secondary {self.secondary} needs --bandwidth 40")

    def _check_channel(self) -> None:
        if self.country not in COUNTRY_LAST_CHANNEL:
            raise UsageError(f"--country {self.country!r} is not a code ESP-IDF knows "
                             f"(one of {', '.join(sorted(COUNTRY_LAST_CHANNEL))})")  # fmt: skip
        first, last = self.country_channels
        if self.channel == 14:
            raise UsageError("--channel 14 allows only 802.11b (DSSS, Japan): no OFDM, so no CSI "
                             f"(use 1..{last})")  # fmt: skip
        if not first <= self.channel <= last:
            wider = "" if last == 13 else "; e.g. --country DE allows 1..13"
            raise UsageError(f"--channel {self.channel} is not allowed in --country {self.country} "
                             f"(channels {first}..{last}{wider})")  # fmt: skip
        if self.secondary == "above" and self.channel + 4 > last:
            raise UsageError(f"--secondary above needs --channel {first}..{last - 4} in --country {self.country} "
                             f"(its 40 MHz pair is channel + 4; got {self.channel})")  # fmt: skip
        if self.secondary == "below" and self.channel - 4 < first:
            raise UsageError(f"--secondary below needs --channel {first + 4}..{last} in --country {self.country} "
                             f"(its 40 MHz pair is channel - 4; got {self.channel})")  # fmt: skip

    def _check_rates(self) -> None:
        if not 1 <= self.rate_hz <= 1000:
            raise UsageError(f"--rate-hz must be 1..1000 (got {self.rate_hz})")
        if self.phy_rate not in PHY_RATES.values():
            raise UsageError(f"--phy-rate code {self.phy_rate} is not a wifi_phy_rate_t rate")
        name = RATE_NAMES[self.phy_rate]
        if is_11b(self.phy_rate):
            raise UsageError(f"--phy-rate {name} is an 802.11b (DSSS) rate: it carries no L-LTF/HT-LTF, so the RX "
                             "gets no CSI (use 6m..54m or mcs0..mcs7)")  # fmt: skip
        if not 1 <= self.ltf_mask <= 7:
            raise UsageError(f"--ltf mask must be 1..7 (got {self.ltf_mask})")
        if self.ltf_mask & (LTF_BITS["htltf"] | LTF_BITS["stbc"]) and self.phy_rate < 16:
            raise UsageError(f"--ltf htltf/stbc needs an HT rate (--phy-rate mcs0..mcs7); {name} is an 11g rate")

    def describe(self) -> str:
        """One line for people: what the boards will do."""
        first, last = self.country_channels
        band = "HT20" if self.secondary == "none" else f"HT40, secondary {self.secondary}"
        blocks = "+".join(n.upper().replace("LTF", "-LTF") for n, bit in LTF_BITS.items() if self.ltf_mask & bit)
        scale = f"manual, shift {self.csi_shift}" if self.csi_scale == "manual" else "automatic"
        return (f"channel {self.channel} ({band}), country {self.country} (channels {first}..{last}), "
                f"{RATE_NAMES[self.phy_rate]} at {self.rate_hz} Hz, CSI {blocks}, scaling {scale}")  # fmt: skip

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
            "country": self.country,
            "csi_scale": CSI_SCALE[self.csi_scale],
            "csi_shift": self.csi_shift,
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
