/* csi_gainlock: median gain over the first N packets (see csi_gainlock.h). */
#include "csi_gainlock.h"

#include <string.h>

static uint8_t s_get_state(const csi_gainlock_t *g)
{
    return __atomic_load_n(&g->state, __ATOMIC_ACQUIRE);
}

static void s_set_state(csi_gainlock_t *g, uint8_t state)
{
    __atomic_store_n(&g->state, state, __ATOMIC_RELEASE);
}

void csi_gainlock_init(csi_gainlock_t *g, bool enabled, uint16_t packets)
{
    memset(g, 0, sizeof(*g));
    g->target = packets ? packets : 1;
    g->state = enabled ? CSI_GAINLOCK_COLLECTING : CSI_GAINLOCK_OFF;
}

/* Value (bin index) of the lower median of a histogram holding `count` samples. */
static unsigned s_median_bin(const uint16_t hist[256], unsigned count, bool signed_bins)
{
    unsigned want = (count - 1) / 2; /* 0-based rank of the lower median */
    unsigned seen = 0;
    for (unsigned k = 0; k < 256; k++) {
        /* signed bins in value order: -128..-1 are indices 128..255, then 0..127 */
        unsigned bin = signed_bins ? (k + 128) & 0xFF : k;
        seen += hist[bin];
        if (seen > want) {
            return bin;
        }
    }
    return 0;
}

bool csi_gainlock_add(csi_gainlock_t *g, uint8_t agc, int8_t fft)
{
    if (s_get_state(g) != CSI_GAINLOCK_COLLECTING) {
        return false;
    }
    g->agc_hist[agc]++;
    g->fft_hist[(uint8_t)fft]++;
    if (++g->count < g->target) {
        return false;
    }
    g->agc_median = (uint8_t)s_median_bin(g->agc_hist, g->count, false);
    g->fft_median = (int8_t)(uint8_t)s_median_bin(g->fft_hist, g->count, true);
    s_set_state(g, g->agc_median <= CSI_GAINLOCK_MIN_AGC ? CSI_GAINLOCK_SKIPPED : CSI_GAINLOCK_READY);
    return true;
}

uint8_t csi_gainlock_wire_state(const csi_gainlock_t *g)
{
    uint8_t s = s_get_state(g);
    return s == CSI_GAINLOCK_READY ? CSI_GAINLOCK_COLLECTING : s;
}

void csi_gainlock_forced(csi_gainlock_t *g, bool ok)
{
    s_set_state(g, ok ? CSI_GAINLOCK_LOCKED : CSI_GAINLOCK_SKIPPED);
}
