"""Link monitor: sequence gaps as loss, reordering, restarts, rate, radio fields, board stats."""

from __future__ import annotations

import numpy as np

from csi_edge import protocol as p
from csi_edge.decoder import StreamDecoder
from csi_edge.frames import FrameBatch, empty_meta
from csi_edge.link import LinkMonitor


def batch(seq, rssi=-50):
    meta = empty_meta(len(seq))
    meta["seq"] = seq
    meta["rssi"] = rssi
    meta["noise_floor"] = -92
    meta["agc_gain"], meta["fft_gain"], meta["gain_lock"] = 30, -2, 2
    return FrameBatch(meta, np.zeros((len(seq), 128), np.int8))


def test_gaps_are_counted_as_loss_across_batches():
    link = LinkMonitor()
    link.update(batch([10, 11, 13]), now=0.0)
    link.update(batch([17, 18]), now=0.1)
    assert link.received == 5 and link.lost == 1 + 3
    assert round(link.loss_percent, 6) == round(100 * 4 / 9, 6)


def test_reordering_wrap_and_restart():
    link = LinkMonitor()
    link.update(batch([2**32 - 1, 0, 1, 1, 0]), now=0.0)  # wrap is fine; then a duplicate and a late one
    assert link.lost == 0 and link.reordered == 2 and link.seq_restarts == 0
    link.update(batch([5_000_000]), now=0.1)  # a jump far ahead: the TX restarted, not 5M lost
    assert link.seq_restarts == 1 and link.lost == 0


def test_rate_from_host_time_and_radio_fields():
    link = LinkMonitor()
    for i in range(11):
        link.update(batch(list(range(i * 10, i * 10 + 10)), rssi=-40 - i), now=i * 0.1)
    snap = link.snapshot()
    assert snap["packet_rate_Hz"] == 100.0
    assert snap["rssi_dBm"] == -50.0 and snap["noise_floor_dBm"] == -92.0
    assert (snap["agc_gain"], snap["fft_gain"], snap["gain_lock"]) == (30, -2, 2)


def test_decode_errors_and_board_stats_reach_the_snapshot():
    dec = StreamDecoder()
    stats = p.Stats(uptime_us=5, captured=10, sent=9, dropped_queue=1, dropped_write=0, filtered=0, seq_gaps=2,
                    queue_high_water=3, queue_capacity=64, agc_gain=30, fft_gain=0, gain_lock=2, role=1)
    good = p.encode_csi(bytes(128), seq=1, secondary_channel=2)
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    out = dec.feed(bytes(bad) + good + p.encode_stats(stats))
    link = LinkMonitor()
    link.update(out.frames, now=0.0, stats=out.stats)
    link.set_decode_errors(dec.errors)
    snap = link.snapshot()
    assert snap["decode_errors"]["crc"] == 1
    assert snap["board"]["dropped_queue"] == 1 and snap["packets_received"] == 1


def test_tx_restart_one_packet_per_update_counts_one_restart_and_no_loss():
    link = LinkMonitor()
    for seq in range(100_000, 100_100):
        link.update(batch([seq]), now=0.0)
    for seq in range(50):
        link.update(batch([seq]), now=0.0)
    assert link.seq_restarts == 1 and link.lost == 0 and link.reordered == 0
    assert link.received == 150 and link.last_seq == 49


def test_latest_batch_classification_is_kept_for_the_capture_counters():
    link = LinkMonitor()
    link.update(batch([1, 2, 5]), now=0.0)
    meta = batch([6, 9, 9]).meta
    meta["seq"][0] = -1  # a row without a seq (text formats)
    link.update(FrameBatch(meta, np.zeros((3, 128), np.int8)), now=0.0)
    assert link.seq_rows.tolist() == [1, 2]
    assert link.seq_steps.step.tolist() == [4, 0] and link.lost == 2 + 3 and link.reordered == 1
