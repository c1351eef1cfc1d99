/* csi_txpayload: pack / find the TX payload (layout in csi_txpayload.h). */
#include "csi_txpayload.h"

#include <string.h>

static const uint8_t s_magic[4] = {0x43, 0x53, 0x49, 0x65}; /* "CSIe" */

static void s_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t s_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

size_t csi_txpayload_pack(uint8_t *out, size_t cap, uint32_t seq, uint32_t tx_timestamp_us)
{
    if (cap < CSI_TXPAYLOAD_SIZE) {
        return 0;
    }
    memcpy(out, s_magic, 4);
    s_put32(out + 4, seq);
    s_put32(out + 8, tx_timestamp_us);
    out[12] = CSI_TXPAYLOAD_VERSION;
    out[13] = out[14] = out[15] = 0;
    return CSI_TXPAYLOAD_SIZE;
}

bool csi_txpayload_find(const uint8_t *data, size_t len, uint32_t *seq, uint32_t *tx_timestamp_us)
{
    if (!data || len < CSI_TXPAYLOAD_SIZE) {
        return false;
    }
    size_t last = len - CSI_TXPAYLOAD_SIZE;
    if (last > CSI_TXPAYLOAD_SEARCH) {
        last = CSI_TXPAYLOAD_SEARCH;
    }
    for (size_t i = 0; i <= last; i++) {
        const uint8_t *p = data + i;
        if (memcmp(p, s_magic, 4) == 0 && p[12] == CSI_TXPAYLOAD_VERSION) {
            *seq = s_get32(p + 4);
            *tx_timestamp_us = s_get32(p + 8);
            return true;
        }
    }
    return false;
}
