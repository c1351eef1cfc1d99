/*
 * csi_proto: encoders, payload parsers and the resynchronising reader for wire protocol v1.
 * Byte layouts: see csi_proto.h and docs/wire-protocol.md.
 */
#include "csi_proto.h"

#include <string.h>

/* Nibble-wise table for the reflected polynomial 0xEDB88320 (64 bytes of flash). */
static const uint32_t s_crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t csi_proto_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ s_crc_nibble[crc & 0x0F];
        crc = (crc >> 4) ^ s_crc_nibble[crc & 0x0F];
    }
    return ~crc;
}

/* ---- little-endian helpers ---- */
static uint8_t *s_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static uint8_t *s_put32(uint8_t *p, uint32_t v)
{
    p = s_put16(p, (uint16_t)v);
    return s_put16(p, (uint16_t)(v >> 16));
}

static uint8_t *s_put64(uint8_t *p, uint64_t v)
{
    p = s_put32(p, (uint32_t)v);
    return s_put32(p, (uint32_t)(v >> 32));
}

static uint16_t s_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t s_get32(const uint8_t *p)
{
    return (uint32_t)s_get16(p) | ((uint32_t)s_get16(p + 2) << 16);
}

static uint64_t s_get64(const uint8_t *p)
{
    return (uint64_t)s_get32(p) | ((uint64_t)s_get32(p + 4) << 32);
}

/* A text field of `size` bytes, NUL-padded after the first NUL (equal strings, equal bytes). */
static uint8_t *s_put_text(uint8_t *p, const char *text, size_t size)
{
    size_t n = 0;
    while (n < size && text[n] != '\0') {
        n++;
    }
    memset(p, 0, size);
    memcpy(p, text, n);
    return p + size;
}

/* Write the 6-byte envelope header; the payload must follow at out + 6. */
static uint8_t *s_begin(uint8_t *out, uint8_t type, size_t len)
{
    out[0] = CSI_PROTO_SYNC0;
    out[1] = CSI_PROTO_SYNC1;
    out[2] = CSI_PROTO_VERSION;
    out[3] = type;
    return s_put16(out + 4, (uint16_t)len);
}

/* Append the CRC over bytes 2 .. 6+len-1; return the frame size. */
static size_t s_finish(uint8_t *out, size_t len)
{
    uint32_t crc = csi_proto_crc32(0, out + 2, 4 + len);
    s_put32(out + CSI_PROTO_HEADER_SIZE + len, crc);
    return len + CSI_PROTO_OVERHEAD;
}

size_t csi_proto_encode_frame(uint8_t *out, size_t cap, uint8_t type, const uint8_t *payload, size_t len)
{
    if (len > CSI_PROTO_MAX_PAYLOAD || cap < len + CSI_PROTO_OVERHEAD) {
        return 0;
    }
    uint8_t *p = s_begin(out, type, len);
    if (len) {
        memmove(p, payload, len);
    }
    return s_finish(out, len);
}

size_t csi_proto_encode_csi(uint8_t *out, size_t cap, const csi_proto_csi_t *h, const int8_t *csi)
{
    size_t len = CSI_PROTO_CSI_HEADER_SIZE + (size_t)h->csi_len;
    if (h->csi_len > CSI_PROTO_MAX_CSI || cap < len + CSI_PROTO_OVERHEAD) {
        return 0;
    }
    uint8_t *p = s_begin(out, CSI_PROTO_TYPE_CSI, len);
    p = s_put32(p, h->seq);
    p = s_put64(p, h->timestamp_us);
    p = s_put32(p, h->tx_timestamp_us);
    *p++ = (uint8_t)h->rssi;
    *p++ = (uint8_t)h->noise_floor;
    *p++ = h->rate;
    *p++ = h->sig_mode;
    *p++ = h->mcs;
    *p++ = h->bandwidth;
    *p++ = h->channel;
    *p++ = h->secondary_channel;
    *p++ = h->agc_gain;
    *p++ = (uint8_t)h->fft_gain;
    p = s_put16(p, h->flags);
    p = s_put16(p, h->sig_len);
    *p++ = h->rx_state;
    *p++ = h->ant;
    p = s_put16(p, h->csi_len);
    if (h->csi_len) {
        memcpy(p, csi, h->csi_len);
    }
    return s_finish(out, len);
}

size_t csi_proto_encode_stats(uint8_t *out, size_t cap, const csi_proto_stats_t *s)
{
    if (cap < CSI_PROTO_STATS_SIZE + CSI_PROTO_OVERHEAD) {
        return 0;
    }
    uint8_t *p = s_begin(out, CSI_PROTO_TYPE_STATS, CSI_PROTO_STATS_SIZE);
    p = s_put64(p, s->uptime_us);
    p = s_put32(p, s->captured);
    p = s_put32(p, s->sent);
    p = s_put32(p, s->dropped_queue);
    p = s_put32(p, s->dropped_write);
    p = s_put32(p, s->filtered);
    p = s_put32(p, s->seq_gaps);
    p = s_put16(p, s->queue_high_water);
    p = s_put16(p, s->queue_capacity);
    *p++ = s->agc_gain;
    *p++ = (uint8_t)s->fft_gain;
    *p++ = s->gain_lock;
    *p++ = s->role;
    p = s_put32(p, s->tx_sent);
    p = s_put32(p, s->tx_send_errors);
    p = s_put32(p, s->tx_recoveries);
    p = s_put32(p, s->duplicates);
    s_put32(p, s->tx_skipped);
    return s_finish(out, CSI_PROTO_STATS_SIZE);
}

size_t csi_proto_encode_hello(uint8_t *out, size_t cap, const csi_proto_hello_t *h)
{
    if (cap < CSI_PROTO_HELLO_SIZE + CSI_PROTO_OVERHEAD) {
        return 0;
    }
    uint8_t *p = s_begin(out, CSI_PROTO_TYPE_HELLO, CSI_PROTO_HELLO_SIZE);
    *p++ = h->fw_major;
    *p++ = h->fw_minor;
    *p++ = h->fw_patch;
    *p++ = h->role;
    memcpy(p, h->mac, 6);
    p += 6;
    memcpy(p, h->peer_mac, 6);
    p += 6;
    *p++ = h->channel;
    *p++ = h->secondary_channel;
    *p++ = h->bandwidth;
    *p++ = h->phy_rate;
    p = s_put16(p, h->send_rate_hz);
    *p++ = h->transport;
    *p++ = h->output_format;
    p = s_put32(p, h->uart_baud);
    *p++ = h->gain_lock;
    *p++ = h->ltf_mask;
    p = s_put16(p, h->gain_lock_packets);
    p = s_put_text(p, h->build, CSI_PROTO_BUILD_LEN);
    *p++ = h->status;
    *p++ = h->csi_scale;
    *p++ = h->csi_shift;
    *p++ = 0; /* reserved */
    p = s_put_text(p, h->country, CSI_PROTO_COUNTRY_LEN);
    p = s_put32(p, (uint32_t)h->error_code);
    s_put_text(p, h->error, CSI_PROTO_ERROR_LEN);
    return s_finish(out, CSI_PROTO_HELLO_SIZE);
}

size_t csi_proto_encode_log(uint8_t *out, size_t cap, uint8_t level, const char *text, size_t text_len)
{
    size_t len = 1 + text_len;
    if (len > CSI_PROTO_MAX_PAYLOAD || cap < len + CSI_PROTO_OVERHEAD) {
        return 0;
    }
    uint8_t *p = s_begin(out, CSI_PROTO_TYPE_LOG, len);
    *p++ = level;
    if (text_len) {
        memcpy(p, text, text_len);
    }
    return s_finish(out, len);
}

int csi_proto_parse_csi(const uint8_t *p, size_t len, csi_proto_csi_t *h, const int8_t **csi)
{
    if (len < CSI_PROTO_CSI_HEADER_SIZE) {
        return -1;
    }
    h->seq = s_get32(p);
    h->timestamp_us = s_get64(p + 4);
    h->tx_timestamp_us = s_get32(p + 12);
    h->rssi = (int8_t)p[16];
    h->noise_floor = (int8_t)p[17];
    h->rate = p[18];
    h->sig_mode = p[19];
    h->mcs = p[20];
    h->bandwidth = p[21];
    h->channel = p[22];
    h->secondary_channel = p[23];
    h->agc_gain = p[24];
    h->fft_gain = (int8_t)p[25];
    h->flags = s_get16(p + 26);
    h->sig_len = s_get16(p + 28);
    h->rx_state = p[30];
    h->ant = p[31];
    h->csi_len = s_get16(p + 32);
    if (h->csi_len > CSI_PROTO_MAX_CSI || CSI_PROTO_CSI_HEADER_SIZE + (size_t)h->csi_len > len) {
        return -1;
    }
    if (csi) {
        *csi = (const int8_t *)(p + CSI_PROTO_CSI_HEADER_SIZE);
    }
    return 0;
}

int csi_proto_parse_stats(const uint8_t *p, size_t len, csi_proto_stats_t *s)
{
    if (len < CSI_PROTO_STATS_BASE_SIZE) {
        return -1;
    }
    memset(s, 0, sizeof(*s));
    s->uptime_us = s_get64(p);
    s->captured = s_get32(p + 8);
    s->sent = s_get32(p + 12);
    s->dropped_queue = s_get32(p + 16);
    s->dropped_write = s_get32(p + 20);
    s->filtered = s_get32(p + 24);
    s->seq_gaps = s_get32(p + 28);
    s->queue_high_water = s_get16(p + 32);
    s->queue_capacity = s_get16(p + 34);
    s->agc_gain = p[36];
    s->fft_gain = (int8_t)p[37];
    s->gain_lock = p[38];
    s->role = p[39];
    s->tx_sent = s_get32(p + 40);
    s->tx_send_errors = s_get32(p + 44);
    s->tx_recoveries = s_get32(p + 48);
    if (len >= CSI_PROTO_STATS_SIZE) {
        s->duplicates = s_get32(p + 52);
        s->tx_skipped = s_get32(p + 56);
        s->extended = 1;
    }
    return 0;
}

int csi_proto_parse_hello(const uint8_t *p, size_t len, csi_proto_hello_t *h)
{
    if (len < CSI_PROTO_HELLO_BASE_SIZE) {
        return -1;
    }
    memset(h, 0, sizeof(*h));
    h->fw_major = p[0];
    h->fw_minor = p[1];
    h->fw_patch = p[2];
    h->role = p[3];
    memcpy(h->mac, p + 4, 6);
    memcpy(h->peer_mac, p + 10, 6);
    h->channel = p[16];
    h->secondary_channel = p[17];
    h->bandwidth = p[18];
    h->phy_rate = p[19];
    h->send_rate_hz = s_get16(p + 20);
    h->transport = p[22];
    h->output_format = p[23];
    h->uart_baud = s_get32(p + 24);
    h->gain_lock = p[28];
    h->ltf_mask = p[29];
    h->gain_lock_packets = s_get16(p + 30);
    memcpy(h->build, p + 32, CSI_PROTO_BUILD_LEN);
    if (len >= CSI_PROTO_HELLO_SIZE) {
        h->status = p[64];
        h->csi_scale = p[65];
        h->csi_shift = p[66];
        memcpy(h->country, p + 68, CSI_PROTO_COUNTRY_LEN);
        h->error_code = (int32_t)s_get32(p + 72);
        memcpy(h->error, p + 76, CSI_PROTO_ERROR_LEN);
        h->extended = 1;
    }
    return 0;
}

/* ---- reader ---- */

void csi_proto_reader_init(csi_proto_reader_t *r, csi_proto_frame_cb_t cb, void *ctx)
{
    memset(r, 0, sizeof(*r));
    r->cb = cb;
    r->ctx = ctx;
}

/* Minimum payload size of a known type; 0 for an unknown type. */
static size_t s_min_payload(uint8_t type)
{
    switch (type) {
    case CSI_PROTO_TYPE_CSI: return CSI_PROTO_CSI_HEADER_SIZE;
    case CSI_PROTO_TYPE_STATS: return CSI_PROTO_STATS_BASE_SIZE;
    case CSI_PROTO_TYPE_HELLO: return CSI_PROTO_HELLO_BASE_SIZE;
    case CSI_PROTO_TYPE_LOG: return 1;
    default: return 0;
    }
}

/* Classify a whole, CRC-checked frame's payload; emit it or count why not. */
static void s_deliver(csi_proto_reader_t *r, uint8_t type, const uint8_t *payload, size_t len)
{
    size_t min = s_min_payload(type);
    if (min == 0) {
        r->errors[CSI_PROTO_ERR_TYPE]++;
        return;
    }
    if (len < min || (type == CSI_PROTO_TYPE_CSI &&
                      CSI_PROTO_CSI_HEADER_SIZE + (size_t)s_get16(payload + 32) > len)) {
        r->errors[CSI_PROTO_ERR_PAYLOAD]++;
        return;
    }
    r->frames++;
    if (r->cb) {
        r->cb(r->ctx, type, payload, len);
    }
}

/* Decode what buf[0..n) holds; keep an incomplete frame (or a lone first sync byte). */
static void s_parse(csi_proto_reader_t *r)
{
    const uint8_t *b = r->buf;
    size_t n = r->n;
    size_t pos = 0;
    for (;;) {
        while (pos + 1 < n && !(b[pos] == CSI_PROTO_SYNC0 && b[pos + 1] == CSI_PROTO_SYNC1)) {
            pos++;
            r->errors[CSI_PROTO_ERR_SYNC]++;
        }
        if (pos + 1 >= n) {
            if (pos < n && b[pos] != CSI_PROTO_SYNC0) {
                pos++;
                r->errors[CSI_PROTO_ERR_SYNC]++;
            }
            break;
        }
        if (n - pos < CSI_PROTO_HEADER_SIZE) {
            break;
        }
        if (b[pos + 2] != CSI_PROTO_VERSION) {
            r->errors[CSI_PROTO_ERR_VERSION]++;
            pos += 1;
            continue;
        }
        size_t len = s_get16(b + pos + 4);
        if (len > CSI_PROTO_MAX_PAYLOAD) {
            r->errors[CSI_PROTO_ERR_LENGTH]++;
            pos += 1;
            continue;
        }
        if (n - pos < len + CSI_PROTO_OVERHEAD) {
            break;
        }
        uint32_t crc = csi_proto_crc32(0, b + pos + 2, 4 + len);
        if (crc != s_get32(b + pos + CSI_PROTO_HEADER_SIZE + len)) {
            r->errors[CSI_PROTO_ERR_CRC]++;
            pos += 1;
            continue;
        }
        s_deliver(r, b[pos + 3], b + pos + CSI_PROTO_HEADER_SIZE, len);
        pos += len + CSI_PROTO_OVERHEAD;
    }
    memmove(r->buf, r->buf + pos, n - pos);
    r->n = n - pos;
}

void csi_proto_reader_feed(csi_proto_reader_t *r, const uint8_t *data, size_t len)
{
    while (len) {
        size_t take = sizeof(r->buf) - r->n;
        if (take > len) {
            take = len;
        }
        memcpy(r->buf + r->n, data, take);
        r->n += take;
        data += take;
        len -= take;
        s_parse(r);
    }
}

size_t csi_proto_reader_pending(const csi_proto_reader_t *r)
{
    return r->n;
}
