/*
 * csi_text: the espressif esp-csi compatible text line, for hosts that parse CSI_DATA rows:
 *
 *   CSI_DATA,id,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,
 *   fec_coding,sgi,noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,sig_len,
 *   rx_state,len,first_word,"[b0,b1,...]"\n
 *
 * id is the TX sequence number, local_timestamp the low 32 bits of the RX time in µs,
 * ampdu_cnt is 0 (not carried), first_word is the first_word_invalid flag. Plain C99.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "csi_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Worst case: header ~200 chars + 612 values of up to 5 chars ("-128,"). */
#define CSI_TEXT_MAX_LINE (256 + 5 * CSI_PROTO_MAX_CSI)

/** Format one line into out[cap]; returns its length (without NUL) or 0 if cap is too small. */
size_t csi_text_encode(char *out, size_t cap, const csi_proto_csi_t *hdr, const uint8_t mac[6],
                       const int8_t *csi);

#ifdef __cplusplus
}
#endif
