"""Column layouts of the text CSI formats, and how their columns map onto `META_DTYPE`.

A text row is `CSI_DATA,<f1>,<f2>,...,<fk>,<array>[,trailing columns]`. The layout names the
k columns between `CSI_DATA` and the array. It comes from a header line when the log has one
(`type,id,mac,...` / `type,role,mac,...`), otherwise from the number of columns k:

    k   printed by                                  columns (after `type`)
    23  espressif esp-csi csi_recv (ESP32, S2, S3)  id,mac,rssi,rate,sig_mode,mcs,bandwidth,
                                                    smoothing,not_sounding,aggregation,stbc,
                                                    fec_coding,sgi,noise_floor,ampdu_cnt,channel,
                                                    secondary_channel,local_timestamp,ant,sig_len,
                                                    rx_state,len,first_word
    13  esp-csi csi_recv on ESP32-C5/C6/C61/P4      seq,mac,rssi,rate,noise_floor,fft_gain,
                                                    agc_gain,channel,local_timestamp,sig_len,
                                                    rx_state,len,first_word
    24  ESP32-CSI-Tool (2020 and later)             role,mac,rssi,...,rx_state,real_time_set,
                                                    real_timestamp,len
    22  ESP32-CSI-Tool (before real_timestamp)      role,mac,rssi,...,rx_state,len

Units: `local_timestamp` is the RX radio clock in microseconds, `real_timestamp` the board's
(RTC/host-set) clock in seconds, `rssi`/`noise_floor` dBm. The esp-csi `id`/`seq` column is the
receiver's packet counter and goes to `seq`. `len` is the CSI byte count the firmware claims:
esp-csi prints exactly `len` values (checked), ESP32-CSI-Tool may print fewer (not checked;
`csi_len` is always the number of values present).
"""

from __future__ import annotations

from dataclasses import dataclass

from csi_edge.frames import FORMAT_CSI_TOOL, FORMAT_ESP_CSI

# header column name -> META_DTYPE field (columns not listed are read as text and ignored)
META_COLUMNS = {
    "id": "seq",
    "seq": "seq",
    "rx_seq": "seq",
    "rssi": "rssi",
    "rate": "rate",
    "sig_mode": "sig_mode",
    "mcs": "mcs",
    "bandwidth": "bandwidth",
    "cwb": "bandwidth",
    "smoothing": "smoothing",
    "not_sounding": "not_sounding",
    "aggregation": "aggregation",
    "stbc": "stbc",
    "fec_coding": "fec_coding",
    "sgi": "sgi",
    "noise_floor": "noise_floor",
    "ampdu_cnt": "ampdu_cnt",
    "channel": "channel",
    "channel_primary": "channel",
    "secondary_channel": "secondary_channel",
    "channel_secondary": "secondary_channel",
    "local_timestamp": "timestamp_us",
    "ant": "ant",
    "sig_len": "sig_len",
    "rx_state": "rx_state",
    "agc_gain": "agc_gain",
    "fft_gain": "fft_gain",
    "first_word": "first_word_invalid",
    "first_word_invalid": "first_word_invalid",
    "real_time_set": None,  # integer, kept out of META
    "len": None,  # integer, checked against the array (esp-csi)
}
FLOAT_COLUMNS = {"real_timestamp": "host_time_s"}
DATA_COLUMNS = ("data", "csi_data", "csi")

_RX = ("rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,fec_coding,sgi,"
       "noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,sig_len,rx_state")  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """The columns between `CSI_DATA` and the array, and how to read them in bulk.

    Columns are read in three parts: `pre` leading columns split off one by one (they may be
    text: id/role, mac), an all-integer middle parsed in one numpy call, and `post` trailing
    columns split off one by one (real_timestamp is a float).
    """

    names: tuple[str, ...]
    format: int
    pre: int
    post: int

    @property
    def width(self) -> int:
        return len(self.names)

    @property
    def middle(self) -> tuple[str, ...]:
        return self.names[self.pre : self.width - self.post]

    @property
    def checks_len(self) -> bool:
        """esp-csi prints exactly `len` values; ESP32-CSI-Tool may print fewer."""
        return self.format == FORMAT_ESP_CSI and "len" in self.names


def _is_int(name: str) -> bool:
    return name in META_COLUMNS and name != "mac"


def make_layout(names: list[str] | tuple[str, ...]) -> Layout:
    """Build a layout from the column names between `type` and the data column."""
    names = tuple(names)
    fmt = FORMAT_CSI_TOOL if ("role" in names or "real_time_set" in names) else FORMAT_ESP_CSI
    half = len(names) // 2
    non_int = [i for i, name in enumerate(names) if not _is_int(name)]
    pre = max([i + 1 for i in non_int if i < half], default=0)
    post = max([len(names) - i for i in non_int if i >= half], default=0)
    return Layout(names, fmt, pre, post)


ESP_CSI = make_layout(f"id,mac,{_RX},len,first_word".split(","))
ESP_CSI_C6 = make_layout(
    "seq,mac,rssi,rate,noise_floor,fft_gain,agc_gain,channel,local_timestamp,sig_len,rx_state,len,first_word".split(",")
)
CSI_TOOL = make_layout(f"role,mac,{_RX},real_time_set,real_timestamp,len".split(","))
CSI_TOOL_OLD = make_layout(f"role,mac,{_RX},len".split(","))
LAYOUTS_BY_WIDTH = {layout.width: layout for layout in (ESP_CSI, ESP_CSI_C6, CSI_TOOL, CSI_TOOL_OLD)}


def parse_header(line: bytes) -> Layout | None:
    """A header line (`type,id,mac,...,data[,extra]`) -> its layout; None if it is not one."""
    start = line.find(b"type,")
    if start < 0:
        return None
    text = line[start:].decode("ascii", "replace")
    names = [n.strip().strip('"').strip().lower() for n in text.split(",")]
    if "mac" not in names or "rssi" not in names:
        return None
    data_at = next((i for i, n in enumerate(names) if n in DATA_COLUMNS), None)
    if data_at is None or data_at < 2:
        return None
    return make_layout(names[1:data_at])
