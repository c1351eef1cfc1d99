/*
 * Shared byte-exact vectors: tests/vectors/protocol_v1.json (made by the Python encoder).
 * For every vector the C encoder must produce exactly `frame_hex`, and the C reader must
 * accept those bytes and give the fields back. The file keeps one vector per line, so this
 * reader only needs to pick the flat "key": value pairs out of each line (no JSON library).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "csi_proto.h"

#define S_MAX_PAIRS 64
#define S_MAX_VALUE 4096

typedef struct {
    char key[32];
    char value[S_MAX_VALUE]; /* numbers as text, strings without quotes */
} s_pair_t;

typedef struct {
    int n;
    s_pair_t pairs[S_MAX_PAIRS];
} s_vector_t;

static s_vector_t s_vec;

/* Collect every "key": value pair of a line (nesting ignored; values: string or number). */
static void s_parse_line(const char *line, s_vector_t *v)
{
    v->n = 0;
    const char *p = line;
    while ((p = strchr(p, '"')) != NULL && v->n < S_MAX_PAIRS) {
        const char *kend = strchr(p + 1, '"');
        if (!kend) {
            return;
        }
        const char *q = kend + 1;
        while (*q == ' ') q++;
        if (*q != ':') { /* a string value seen from its opening quote: skip it */
            p = kend + 1;
            continue;
        }
        q++;
        while (*q == ' ') q++;
        s_pair_t *pair = &v->pairs[v->n];
        size_t klen = (size_t)(kend - p - 1);
        if (klen >= sizeof(pair->key)) klen = sizeof(pair->key) - 1;
        memcpy(pair->key, p + 1, klen);
        pair->key[klen] = '\0';
        const char *vstart = q, *vend;
        if (*q == '"') {
            vstart = q + 1;
            vend = strchr(vstart, '"');
            p = vend + 1;
        } else if (*q == '{' || *q == '[') {
            p = q; /* nested object: its pairs follow */
            continue;
        } else {
            vend = vstart;
            while (*vend == '-' || (*vend >= '0' && *vend <= '9')) vend++;
            p = vend;
        }
        size_t vlen = (size_t)(vend - vstart);
        if (vlen >= S_MAX_VALUE) vlen = S_MAX_VALUE - 1;
        memcpy(pair->value, vstart, vlen);
        pair->value[vlen] = '\0';
        v->n++;
    }
}

static const char *s_get(const char *key)
{
    for (int i = 0; i < s_vec.n; i++) {
        if (!strcmp(s_vec.pairs[i].key, key)) {
            return s_vec.pairs[i].value;
        }
    }
    fprintf(stderr, "vector lacks field %s\n", key);
    s_check_failures++;
    return "0";
}

static long long s_num(const char *key)
{
    return strtoll(s_get(key), NULL, 10);
}

static unsigned long long s_unum(const char *key)
{
    return strtoull(s_get(key), NULL, 10);
}

static size_t s_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    if (n > cap) n = cap;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void s_mac(const char *key, uint8_t mac[6])
{
    unsigned m[6];
    CHECK_EQ(sscanf(s_get(key), "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]), 6);
    for (int i = 0; i < 6; i++) mac[i] = (uint8_t)m[i];
}

static size_t s_encode_csi(uint8_t *out, size_t cap)
{
    static uint8_t csi[CSI_PROTO_MAX_CSI];
    csi_proto_csi_t h = {
        .seq = (uint32_t)s_unum("seq"), .timestamp_us = s_unum("timestamp_us"),
        .tx_timestamp_us = (uint32_t)s_unum("tx_timestamp_us"), .rssi = (int8_t)s_num("rssi"),
        .noise_floor = (int8_t)s_num("noise_floor"), .rate = (uint8_t)s_num("rate"),
        .sig_mode = (uint8_t)s_num("sig_mode"), .mcs = (uint8_t)s_num("mcs"),
        .bandwidth = (uint8_t)s_num("bandwidth"), .channel = (uint8_t)s_num("channel"),
        .secondary_channel = (uint8_t)s_num("secondary_channel"), .agc_gain = (uint8_t)s_num("agc_gain"),
        .fft_gain = (int8_t)s_num("fft_gain"), .flags = (uint16_t)s_num("flags"),
        .sig_len = (uint16_t)s_num("sig_len"), .rx_state = (uint8_t)s_num("rx_state"),
        .ant = (uint8_t)s_num("ant"), .csi_len = (uint16_t)s_num("csi_len"),
    };
    CHECK_EQ(s_hex(s_get("csi_hex"), csi, sizeof(csi)), h.csi_len);
    return csi_proto_encode_csi(out, cap, &h, (const int8_t *)csi);
}

static void s_text(const char *key, char *field, size_t size)
{
    const char *text = s_get(key);
    size_t n = strlen(text);
    memcpy(field, text, n > size ? size : n);
}

static size_t s_encode_stats(uint8_t *out, size_t cap)
{
    csi_proto_stats_t s = {
        .uptime_us = s_unum("uptime_us"), .captured = (uint32_t)s_unum("captured"),
        .sent = (uint32_t)s_unum("sent"), .dropped_queue = (uint32_t)s_unum("dropped_queue"),
        .dropped_write = (uint32_t)s_unum("dropped_write"), .filtered = (uint32_t)s_unum("filtered"),
        .seq_gaps = (uint32_t)s_unum("seq_gaps"), .queue_high_water = (uint16_t)s_num("queue_high_water"),
        .queue_capacity = (uint16_t)s_num("queue_capacity"), .agc_gain = (uint8_t)s_num("agc_gain"),
        .fft_gain = (int8_t)s_num("fft_gain"), .gain_lock = (uint8_t)s_num("gain_lock"),
        .role = (uint8_t)s_num("role"), .tx_sent = (uint32_t)s_unum("tx_sent"),
        .tx_send_errors = (uint32_t)s_unum("tx_send_errors"), .tx_recoveries = (uint32_t)s_unum("tx_recoveries"),
        .duplicates = (uint32_t)s_unum("duplicates"), .tx_skipped = (uint32_t)s_unum("tx_skipped"),
    };
    return csi_proto_encode_stats(out, cap, &s);
}

static size_t s_encode_hello(uint8_t *out, size_t cap)
{
    csi_proto_hello_t h = {
        .fw_major = (uint8_t)s_num("fw_major"), .fw_minor = (uint8_t)s_num("fw_minor"),
        .fw_patch = (uint8_t)s_num("fw_patch"), .role = (uint8_t)s_num("role"),
        .channel = (uint8_t)s_num("channel"), .secondary_channel = (uint8_t)s_num("secondary_channel"),
        .bandwidth = (uint8_t)s_num("bandwidth"), .phy_rate = (uint8_t)s_num("phy_rate"),
        .send_rate_hz = (uint16_t)s_num("send_rate_hz"), .transport = (uint8_t)s_num("transport"),
        .output_format = (uint8_t)s_num("output_format"), .uart_baud = (uint32_t)s_unum("uart_baud"),
        .gain_lock = (uint8_t)s_num("gain_lock"), .ltf_mask = (uint8_t)s_num("ltf_mask"),
        .gain_lock_packets = (uint16_t)s_num("gain_lock_packets"),
        .status = (uint8_t)s_num("status"), .csi_scale = (uint8_t)s_num("csi_scale"),
        .csi_shift = (uint8_t)s_num("csi_shift"), .error_code = (int32_t)s_num("error_code"),
    };
    s_mac("mac", h.mac);
    s_mac("peer_mac", h.peer_mac);
    s_text("build", h.build, CSI_PROTO_BUILD_LEN);
    s_text("country", h.country, CSI_PROTO_COUNTRY_LEN);
    s_text("error", h.error, CSI_PROTO_ERROR_LEN);
    return csi_proto_encode_hello(out, cap, &h);
}

static size_t s_encode_log(uint8_t *out, size_t cap)
{
    const char *text = s_get("text");
    return csi_proto_encode_log(out, cap, (uint8_t)s_num("level"), text, strlen(text));
}

static int s_frames_seen;
static int s_extended; /* the 1.1 fields were present in the last STATS/HELLO read */

static void s_count(void *ctx, uint8_t type, const uint8_t *payload, size_t len)
{
    CHECK_EQ(type, *(const uint8_t *)ctx);
    s_frames_seen++;
    if (type == CSI_PROTO_TYPE_HELLO) {
        csi_proto_hello_t h;
        CHECK_EQ(csi_proto_parse_hello(payload, len, &h), 0);
        s_extended = h.extended;
        if (h.extended) {
            CHECK_EQ(h.status, s_num("status"));
            CHECK_EQ(h.error_code, s_num("error_code"));
            CHECK(strncmp(h.country, s_get("country"), CSI_PROTO_COUNTRY_LEN) == 0);
            CHECK(strncmp(h.error, s_get("error"), CSI_PROTO_ERROR_LEN) == 0);
        }
        CHECK_EQ(h.channel, s_num("channel"));
    } else if (type == CSI_PROTO_TYPE_STATS) {
        csi_proto_stats_t st;
        CHECK_EQ(csi_proto_parse_stats(payload, len, &st), 0);
        s_extended = st.extended;
        CHECK_EQ(st.tx_recoveries, s_unum("tx_recoveries"));
        if (st.extended) {
            CHECK_EQ(st.duplicates, s_unum("duplicates"));
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_vectors tests/vectors/protocol_v1.json\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 2;
    }
    static char line[16384];
    static uint8_t want[CSI_PROTO_MAX_FRAME], got[CSI_PROTO_MAX_FRAME];
    int vectors = 0, types_seen = 0;
    while (fgets(line, sizeof(line), f)) {
        if (!strstr(line, "\"name\"")) {
            continue;
        }
        s_parse_line(line, &s_vec);
        const char *type = s_get("type");
        size_t n = 0;
        uint8_t t = 0;
        if (!strcmp(type, "csi")) { n = s_encode_csi(got, sizeof(got)); t = CSI_PROTO_TYPE_CSI; }
        else if (!strcmp(type, "stats")) { n = s_encode_stats(got, sizeof(got)); t = CSI_PROTO_TYPE_STATS; }
        else if (!strcmp(type, "hello")) { n = s_encode_hello(got, sizeof(got)); t = CSI_PROTO_TYPE_HELLO; }
        else if (!strcmp(type, "log")) { n = s_encode_log(got, sizeof(got)); t = CSI_PROTO_TYPE_LOG; }
        types_seen |= 1 << t;
        size_t wn = s_hex(s_get("frame_hex"), want, sizeof(want));
        /* a firmware 1.0 STATS/HELLO: this firmware never encodes one, but must still read it */
        bool fw10 = strstr(line, "\"firmware\": \"1.0\"") != NULL;
        int same = n == wn && memcmp(got, want, n) == 0;
        if (!same && !fw10) {
            fprintf(stderr, "vector %s: C encoder differs (%zu vs %zu bytes)\n", s_get("name"), n, wn);
            s_check_failures++;
        }
        csi_proto_reader_t *r = malloc(sizeof(*r));
        s_frames_seen = 0;
        s_extended = -1;
        csi_proto_reader_init(r, s_count, &t);
        csi_proto_reader_feed(r, want, wn);
        CHECK_EQ(s_frames_seen, 1);
        if (t == CSI_PROTO_TYPE_HELLO || t == CSI_PROTO_TYPE_STATS) {
            CHECK_EQ(s_extended, !fw10);
        }
        free(r);
        printf("%-28s %s\n", s_get("name"), fw10 ? "read (firmware 1.0 layout)" : same ? "byte-identical" : "DIFFERENT");
        vectors++;
    }
    fclose(f);
    CHECK(vectors >= 12);
    CHECK_EQ(types_seen, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4));
    printf("%d vectors\n", vectors);
    return CHECK_DONE();
}
