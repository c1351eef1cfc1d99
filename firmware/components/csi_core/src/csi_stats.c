/* csi_stats: STATS counters and TX sequence-gap tracking (see csi_stats.h). */
#include "csi_stats.h"

#include <string.h>

void csi_stats_init(csi_stats_t *s)
{
    memset(s, 0, sizeof(*s));
}

void csi_stats_add(uint32_t *counter, uint32_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

uint32_t csi_stats_get(const uint32_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

uint32_t csi_stats_track_seq(csi_stats_t *s, uint32_t seq)
{
    uint32_t gap = 0;
    if (s->have_seq) {
        uint32_t d = seq - s->last_seq;
        if (d == 0) {
            return 0; /* duplicate: keep last_seq */
        }
        if (d < 0x80000000u) {
            gap = d - 1;
        }
    }
    s->last_seq = seq;
    s->have_seq = true;
    if (gap) {
        csi_stats_add(&s->seq_gaps, gap);
    }
    return gap;
}

bool csi_stats_accept_seq(csi_stats_t *s, uint32_t seq)
{
    if (s->have_seq && seq == s->last_seq) {
        csi_stats_add(&s->duplicates, 1);
        return false;
    }
    csi_stats_track_seq(s, seq);
    return true;
}

static uint16_t s_u16(uint32_t v)
{
    return v > 0xFFFFu ? 0xFFFFu : (uint16_t)v;
}

void csi_stats_snapshot(const csi_stats_t *s, const csi_ring_t *ring, uint64_t uptime_us,
                        csi_proto_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->uptime_us = uptime_us;
    out->captured = csi_stats_get(&s->captured);
    out->sent = csi_stats_get(&s->sent);
    out->dropped_write = csi_stats_get(&s->dropped_write);
    out->filtered = csi_stats_get(&s->filtered);
    out->seq_gaps = csi_stats_get(&s->seq_gaps);
    out->tx_sent = csi_stats_get(&s->tx_sent);
    out->tx_send_errors = csi_stats_get(&s->tx_send_errors);
    out->tx_recoveries = csi_stats_get(&s->tx_recoveries);
    out->duplicates = csi_stats_get(&s->duplicates);
    out->tx_skipped = csi_stats_get(&s->tx_skipped);
    if (ring) {
        out->dropped_queue = csi_ring_dropped(ring);
        out->queue_high_water = s_u16(csi_ring_high_water(ring));
        out->queue_capacity = s_u16(ring->capacity);
    }
}
