/*
 * csi_txpayload: the ESP-NOW payload the TX sends and the RX looks for. Plain C99.
 *
 *   offset size type  field
 *   0      4    u8[4] magic "CSIe" (0x43 0x53 0x49 0x65)
 *   4      4    u32   seq              TX sequence number, +1 per packet from 0 at boot
 *   8      4    u32   tx_timestamp_us  esp_timer time at send, low 32 bits
 *   12     1    u8    version (1)
 *   13     3    u8[3] reserved (0)
 *
 * The RX sees the payload inside the ESP-NOW vendor action frame, so it searches for the
 * magic in the first bytes of wifi_csi_info_t.payload rather than assuming an offset.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSI_TXPAYLOAD_SIZE 16
#define CSI_TXPAYLOAD_VERSION 1
#define CSI_TXPAYLOAD_SEARCH 64 /* bytes of the frame payload searched for the magic */

size_t csi_txpayload_pack(uint8_t *out, size_t cap, uint32_t seq, uint32_t tx_timestamp_us);

/** Find our payload in a received frame payload; false when it is not there. */
bool csi_txpayload_find(const uint8_t *data, size_t len, uint32_t *seq, uint32_t *tx_timestamp_us);

#ifdef __cplusplus
}
#endif
