/*
 * csi_proto: wire protocol v1 (docs/wire-protocol.md) - framing, CRC-32, encoders and a
 * resynchronising frame reader. Plain C99, no ESP-IDF includes; built on the host and the board.
 *
 * Envelope (all integers little-endian):
 *   0  u8[2] sync 0xC5 0xED | 2 u8 version (1) | 3 u8 type | 4 u16 payload length N (0..1024)
 *   6  u8[N] payload        | 6+N u32 CRC-32 (zlib) over bytes 2 .. 6+N-1
 * Payloads: CSI 34 + csi_len, STATS 60, HELLO 172, LOG 1 + text (layouts in the doc and below).
 * STATS and HELLO grew compatibly in firmware 1.1 (fields appended: a v1.0 host reads the first
 * 52 / 64 bytes and ignores the tail); readers accept the v1.0 sizes too.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSI_PROTO_VERSION 1
#define CSI_PROTO_SYNC0 0xC5
#define CSI_PROTO_SYNC1 0xED
#define CSI_PROTO_HEADER_SIZE 6
#define CSI_PROTO_OVERHEAD 10
#define CSI_PROTO_MAX_PAYLOAD 1024
#define CSI_PROTO_MAX_FRAME (CSI_PROTO_MAX_PAYLOAD + CSI_PROTO_OVERHEAD)
#define CSI_PROTO_MAX_CSI 612

#define CSI_PROTO_CSI_HEADER_SIZE 34
#define CSI_PROTO_STATS_BASE_SIZE 52 /* firmware 1.0; the minimum a reader accepts */
#define CSI_PROTO_STATS_SIZE 60      /* + duplicates, tx_skipped */
#define CSI_PROTO_HELLO_BASE_SIZE 64 /* firmware 1.0; the minimum a reader accepts */
#define CSI_PROTO_HELLO_SIZE 172     /* + status, CSI scaling, country, last error */
#define CSI_PROTO_BUILD_LEN 32
#define CSI_PROTO_COUNTRY_LEN 4
#define CSI_PROTO_ERROR_LEN 96

typedef enum {
    CSI_PROTO_TYPE_CSI = 1,
    CSI_PROTO_TYPE_STATS = 2,
    CSI_PROTO_TYPE_HELLO = 3,
    CSI_PROTO_TYPE_LOG = 4,
} csi_proto_type_t;

/* CSI header flags (u16 at payload offset 26). */
#define CSI_FLAG_SMOOTHING (1u << 0)
#define CSI_FLAG_NOT_SOUNDING (1u << 1)
#define CSI_FLAG_AGGREGATION (1u << 2)
#define CSI_FLAG_STBC_SHIFT 3 /* 2 bits */
#define CSI_FLAG_FEC_CODING (1u << 5)
#define CSI_FLAG_SGI (1u << 6)
#define CSI_FLAG_FIRST_WORD_INVALID (1u << 7)
#define CSI_FLAG_GAIN_LOCK_SHIFT 8 /* 2 bits: csi_gainlock_state_t */

/* CSI payload header, 34 bytes on the wire (field order = wire order). */
typedef struct {
    uint32_t seq;             /* TX sequence number from the ESP-NOW payload */
    uint64_t timestamp_us;    /* RX time, µs since RX boot (64-bit, never wraps) */
    uint32_t tx_timestamp_us; /* TX time (low 32 bits), µs */
    int8_t rssi;              /* dBm */
    int8_t noise_floor;       /* dBm */
    uint8_t rate;
    uint8_t sig_mode;
    uint8_t mcs;
    uint8_t bandwidth;         /* 0 = 20 MHz, 1 = 40 MHz */
    uint8_t channel;
    uint8_t secondary_channel; /* 0 none, 1 above, 2 below */
    uint8_t agc_gain;
    int8_t fft_gain;
    uint16_t flags; /* CSI_FLAG_* */
    uint16_t sig_len;
    uint8_t rx_state;
    uint8_t ant;
    uint16_t csi_len; /* 0..612 */
} csi_proto_csi_t;

/* STATS payload, 60 bytes (52 from firmware 1.0). */
typedef struct {
    uint64_t uptime_us;
    uint32_t captured, sent, dropped_queue, dropped_write, filtered, seq_gaps;
    uint16_t queue_high_water, queue_capacity;
    uint8_t agc_gain;
    int8_t fft_gain;
    uint8_t gain_lock;
    uint8_t role;
    uint32_t tx_sent, tx_send_errors, tx_recoveries;
    uint32_t duplicates; /* RX: retried packets (a seq already streamed) dropped */
    uint32_t tx_skipped; /* TX: send periods skipped (previous send pending, ESP-NOW recovering) */
    uint8_t extended;    /* parse only: the payload carried the 1.1 fields */
} csi_proto_stats_t;

/* HELLO status byte: is the board doing its job, and if not, why (error / error_code). */
typedef enum {
    CSI_STATUS_RUNNING = 0,  /* started: streaming (RX) or sending (TX) */
    CSI_STATUS_SETTINGS = 1, /* the settings in NVS were refused: not starting until reflashed */
    CSI_STATUS_RETRYING = 2, /* a start step failed at run time: retrying with backoff */
} csi_proto_status_t;

/* HELLO payload, 172 bytes (64 from firmware 1.0). */
typedef struct {
    uint8_t fw_major, fw_minor, fw_patch;
    uint8_t role;
    uint8_t mac[6];
    uint8_t peer_mac[6];
    uint8_t channel, secondary_channel, bandwidth, phy_rate;
    uint16_t send_rate_hz;
    uint8_t transport, output_format;
    uint32_t uart_baud;
    uint8_t gain_lock, ltf_mask;
    uint16_t gain_lock_packets;
    char build[CSI_PROTO_BUILD_LEN]; /* NUL-padded, not necessarily NUL-terminated */
    /* firmware 1.1 */
    uint8_t status;    /* csi_proto_status_t */
    uint8_t csi_scale; /* 0 automatic (the driver scales every report), 1 manual (csi_shift) */
    uint8_t csi_shift; /* manual scaling: left shift 0..15 */
    char country[CSI_PROTO_COUNTRY_LEN]; /* regulatory country code, e.g. "01", "DE" (NUL-padded) */
    int32_t error_code;                  /* esp_err_t of the last failure (0 none) */
    char error[CSI_PROTO_ERROR_LEN];     /* one line naming the failure (NUL-padded) */
    uint8_t extended;                    /* parse only: the payload carried the 1.1 fields */
} csi_proto_hello_t;

/** CRC-32 (IEEE 802.3 / zlib). Pass crc = 0 to start; chain by passing the previous result. */
uint32_t csi_proto_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* Encoders: write one whole frame into out[cap]; return its size, or 0 if cap is too small
 * or a length is out of range. */
size_t csi_proto_encode_csi(uint8_t *out, size_t cap, const csi_proto_csi_t *hdr, const int8_t *csi);
size_t csi_proto_encode_stats(uint8_t *out, size_t cap, const csi_proto_stats_t *stats);
size_t csi_proto_encode_hello(uint8_t *out, size_t cap, const csi_proto_hello_t *hello);
size_t csi_proto_encode_log(uint8_t *out, size_t cap, uint8_t level, const char *text, size_t text_len);
/** Wrap an already built payload (for callers that have one). */
size_t csi_proto_encode_frame(uint8_t *out, size_t cap, uint8_t type, const uint8_t *payload, size_t len);

/* Payload parsers (the reader hands payloads of checked size to these). 0 ok, -1 too short.
 * STATS and HELLO accept the 1.0 sizes: the 1.1 fields are then 0 and `extended` is 0. */
int csi_proto_parse_csi(const uint8_t *payload, size_t len, csi_proto_csi_t *hdr, const int8_t **csi);
int csi_proto_parse_stats(const uint8_t *payload, size_t len, csi_proto_stats_t *stats);
int csi_proto_parse_hello(const uint8_t *payload, size_t len, csi_proto_hello_t *hello);

/* ---- Resynchronising reader -------------------------------------------------------------
 * Feed arbitrary chunks; every complete, CRC-checked frame of a known type with a payload
 * that fits its type is handed to the callback. Failures are counted per reason and the
 * reader hunts for the next sync pair. Never trusts a length before checking the version. */
typedef enum {
    CSI_PROTO_ERR_SYNC = 0, /* bytes skipped while hunting for sync */
    CSI_PROTO_ERR_VERSION,
    CSI_PROTO_ERR_LENGTH,
    CSI_PROTO_ERR_CRC,
    CSI_PROTO_ERR_PAYLOAD, /* payload size does not fit its type */
    CSI_PROTO_ERR_TYPE,    /* unknown frame type */
    CSI_PROTO_ERR_COUNT
} csi_proto_err_t;

typedef void (*csi_proto_frame_cb_t)(void *ctx, uint8_t type, const uint8_t *payload, size_t len);

typedef struct {
    csi_proto_frame_cb_t cb;
    void *ctx;
    uint32_t frames;
    uint32_t errors[CSI_PROTO_ERR_COUNT];
    size_t n;
    uint8_t buf[2 * CSI_PROTO_MAX_FRAME];
} csi_proto_reader_t;

void csi_proto_reader_init(csi_proto_reader_t *r, csi_proto_frame_cb_t cb, void *ctx);
void csi_proto_reader_feed(csi_proto_reader_t *r, const uint8_t *data, size_t len);
/** Bytes held back waiting for the rest of a frame (a torn tail at end of stream). */
size_t csi_proto_reader_pending(const csi_proto_reader_t *r);

#ifdef __cplusplus
}
#endif
