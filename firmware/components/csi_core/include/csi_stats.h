/*
 * csi_stats: counters behind the STATS frame and the TX sequence-gap tracker. Plain C99.
 *
 * Producer-side counters (captured, filtered, seq_gaps; the ring counts dropped_queue) are
 * written by the CSI callback, consumer-side ones (sent, dropped_write) by the writer task,
 * TX counters by the TX timer and the ESP-NOW send callback. Updates are relaxed atomic adds
 * and snapshots relaxed atomic loads, so STATS never needs a lock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "csi_proto.h"
#include "csi_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t captured;      /* callbacks from the peer (accepted) */
    uint32_t filtered;      /* callbacks from other MACs / without our payload */
    uint32_t seq_gaps;      /* TX sequence numbers never seen */
    uint32_t sent;          /* frames written to the transport */
    uint32_t dropped_write; /* frames lost because the transport write failed */
    uint32_t duplicates;    /* callbacks repeating the last seq (MAC retries): dropped */
    uint32_t tx_sent;
    uint32_t tx_send_errors;
    uint32_t tx_recoveries;
    uint32_t tx_skipped; /* TX periods without a send (previous one pending, recovering) */
    uint32_t last_seq;   /* seq tracker state (producer) */
    bool have_seq;
} csi_stats_t;

void csi_stats_init(csi_stats_t *s);

/** counter += n (relaxed atomic add). */
void csi_stats_add(uint32_t *counter, uint32_t n);
uint32_t csi_stats_get(const uint32_t *counter);

/**
 * Account for one received TX sequence number; returns how many numbers were skipped.
 * Forward jumps (< 2^31) count as gaps, a repeat counts nothing, a backward jump (the TX
 * rebooted) restarts tracking without counting.
 */
uint32_t csi_stats_track_seq(csi_stats_t *s, uint32_t seq);

/**
 * A packet from the peer with TX sequence number `seq`: false for a repeat of the last seq (a
 * MAC-layer retry of a frame already captured: counted in `duplicates`, to be dropped), else
 * true after csi_stats_track_seq().
 */
bool csi_stats_accept_seq(csi_stats_t *s, uint32_t seq);

/** Fill a STATS payload from the counters and the ring (gains and role by the caller). */
void csi_stats_snapshot(const csi_stats_t *s, const csi_ring_t *ring, uint64_t uptime_us,
                        csi_proto_stats_t *out);

#ifdef __cplusplus
}
#endif
