/* Host tests of csi_proto: CRC, framing round trips of every type, resync after corruption. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "csi_proto.h"
#include "csi_text.h"

typedef struct {
    int n;
    uint8_t types[64];
    size_t lens[64];
    uint8_t last[CSI_PROTO_MAX_PAYLOAD];
} s_sink_t;

static void s_sink(void *ctx, uint8_t type, const uint8_t *payload, size_t len)
{
    s_sink_t *s = ctx;
    if (s->n < 64) {
        s->types[s->n] = type;
        s->lens[s->n] = len;
    }
    s->n++;
    memcpy(s->last, payload, len);
}

static void test_crc32_known_values(void)
{
    CHECK_EQ(csi_proto_crc32(0, (const uint8_t *)"", 0), 0);
    CHECK_EQ(csi_proto_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
    /* chaining equals one pass */
    uint32_t part = csi_proto_crc32(0, (const uint8_t *)"1234", 4);
    CHECK_EQ(csi_proto_crc32(part, (const uint8_t *)"56789", 5), 0xCBF43926u);
}

static csi_proto_csi_t s_csi_header(uint16_t csi_len)
{
    csi_proto_csi_t h = {0};
    h.seq = 0xDEADBEEF;
    h.timestamp_us = 0x0123456789ULL;
    h.tx_timestamp_us = 77;
    h.rssi = -60;
    h.noise_floor = -95;
    h.rate = 11;
    h.sig_mode = 1;
    h.mcs = 3;
    h.bandwidth = 1;
    h.channel = 6;
    h.secondary_channel = 2;
    h.agc_gain = 33;
    h.fft_gain = -7;
    h.flags = CSI_FLAG_FIRST_WORD_INVALID | (2u << CSI_FLAG_GAIN_LOCK_SHIFT);
    h.sig_len = 88;
    h.csi_len = csi_len;
    return h;
}

static void test_csi_round_trip_all_lengths(void)
{
    static const uint16_t lens[] = {0, 128, 256, 384, 612};
    int8_t csi[CSI_PROTO_MAX_CSI];
    for (int i = 0; i < CSI_PROTO_MAX_CSI; i++) {
        csi[i] = (int8_t)(i * 7 - 100);
    }
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        uint8_t frame[CSI_PROTO_MAX_FRAME];
        csi_proto_csi_t h = s_csi_header(lens[k]);
        size_t n = csi_proto_encode_csi(frame, sizeof(frame), &h, csi);
        CHECK_EQ(n, 34u + lens[k] + 10u);
        s_sink_t sink = {0};
        csi_proto_reader_t r;
        csi_proto_reader_init(&r, s_sink, &sink);
        csi_proto_reader_feed(&r, frame, n);
        CHECK_EQ(sink.n, 1);
        csi_proto_csi_t back;
        const int8_t *bytes = NULL;
        CHECK_EQ(csi_proto_parse_csi(sink.last, sink.lens[0], &back, &bytes), 0);
        CHECK_EQ(back.seq, h.seq);
        CHECK_EQ(back.timestamp_us, h.timestamp_us);
        CHECK_EQ(back.rssi, -60);
        CHECK_EQ(back.fft_gain, -7);
        CHECK_EQ(back.flags, h.flags);
        CHECK_EQ(back.csi_len, lens[k]);
        CHECK(lens[k] == 0 || memcmp(bytes, csi, lens[k]) == 0);
    }
    /* too small a buffer and an over-long CSI are refused */
    uint8_t small[100];
    csi_proto_csi_t h = s_csi_header(128);
    CHECK_EQ(csi_proto_encode_csi(small, sizeof(small), &h, csi), 0);
    uint8_t big[CSI_PROTO_MAX_FRAME];
    h.csi_len = 613;
    CHECK_EQ(csi_proto_encode_csi(big, sizeof(big), &h, csi), 0);
}

static void test_stats_hello_log_round_trip(void)
{
    uint8_t buf[3 * CSI_PROTO_MAX_FRAME];
    size_t n = 0;
    csi_proto_stats_t st = {.uptime_us = 5000000, .captured = 500, .sent = 490, .dropped_queue = 10,
                            .queue_high_water = 64, .queue_capacity = 64, .fft_gain = -2, .role = 1,
                            .tx_recoveries = 3, .duplicates = 7, .tx_skipped = 9};
    csi_proto_hello_t he = {.fw_major = 1, .role = 1, .mac = {1, 2, 3, 4, 5, 6}, .channel = 11,
                            .send_rate_hz = 100, .uart_baud = 921600, .ltf_mask = 1, .build = "test",
                            .status = CSI_STATUS_RETRYING, .csi_scale = 1, .csi_shift = 4, .country = "DE",
                            .error_code = 0x102, .error = "esp_wifi_set_channel: ESP_ERR_INVALID_ARG"};
    n += csi_proto_encode_stats(buf + n, sizeof(buf) - n, &st);
    n += csi_proto_encode_hello(buf + n, sizeof(buf) - n, &he);
    n += csi_proto_encode_log(buf + n, sizeof(buf) - n, 3, "hi", 2);
    CHECK_EQ(n, (60 + 10) + (172 + 10) + (3 + 10));
    s_sink_t sink = {0};
    csi_proto_reader_t r;
    csi_proto_reader_init(&r, s_sink, &sink);
    for (size_t i = 0; i < n; i++) { /* byte by byte: every chunk boundary */
        csi_proto_reader_feed(&r, buf + i, 1);
    }
    CHECK_EQ(sink.n, 3);
    CHECK_EQ(sink.types[0], CSI_PROTO_TYPE_STATS);
    CHECK_EQ(sink.types[1], CSI_PROTO_TYPE_HELLO);
    CHECK_EQ(sink.types[2], CSI_PROTO_TYPE_LOG);
    CHECK_EQ(sink.last[0], 3);
    CHECK_MEM(sink.last + 1, "hi", 2);
    csi_proto_stats_t st2;
    CHECK_EQ(csi_proto_parse_stats(buf + 6, 60, &st2), 0);
    CHECK_EQ(st2.dropped_queue, 10);
    CHECK_EQ(st2.fft_gain, -2);
    CHECK_EQ(st2.tx_recoveries, 3);
    CHECK_EQ(st2.duplicates, 7);
    CHECK_EQ(st2.tx_skipped, 9);
    CHECK_EQ(st2.extended, 1);
    csi_proto_hello_t he2;
    const uint8_t *hp = buf + 70 + 6;
    CHECK_EQ(csi_proto_parse_hello(hp, 172, &he2), 0);
    CHECK_MEM(he2.mac, he.mac, 6);
    CHECK_EQ(he2.uart_baud, 921600);
    CHECK(strncmp(he2.build, "test", 32) == 0);
    CHECK_EQ(he2.extended, 1);
    CHECK_EQ(he2.status, CSI_STATUS_RETRYING);
    CHECK_EQ(he2.csi_shift, 4);
    CHECK_EQ(he2.error_code, 0x102);
    CHECK(strncmp(he2.country, "DE", CSI_PROTO_COUNTRY_LEN) == 0);
    CHECK(strncmp(he2.error, he.error, CSI_PROTO_ERROR_LEN) == 0);
    for (int i = 0; i < CSI_PROTO_ERR_COUNT; i++) {
        CHECK_EQ(r.errors[i], 0);
    }
    /* a firmware 1.0 board's payloads (the first 52 / 64 bytes) still parse, without the 1.1 fields */
    CHECK_EQ(csi_proto_parse_stats(buf + 6, 52, &st2), 0);
    CHECK_EQ(st2.tx_recoveries, 3);
    CHECK_EQ(st2.extended, 0);
    CHECK_EQ(st2.duplicates, 0);
    CHECK_EQ(csi_proto_parse_hello(hp, 64, &he2), 0);
    CHECK_EQ(he2.uart_baud, 921600);
    CHECK_EQ(he2.extended, 0);
    CHECK_EQ(he2.error[0], 0);
    CHECK_EQ(csi_proto_parse_hello(hp, 63, &he2), -1);
    uint8_t old[CSI_PROTO_MAX_FRAME];
    size_t on = csi_proto_encode_frame(old, sizeof(old), CSI_PROTO_TYPE_HELLO, hp, 64);
    s_sink_t sink2 = {0};
    csi_proto_reader_init(&r, s_sink, &sink2);
    csi_proto_reader_feed(&r, old, on);
    CHECK_EQ(sink2.n, 1); /* the reader accepts the 1.0 size */
    CHECK_EQ(r.errors[CSI_PROTO_ERR_PAYLOAD], 0);
}

/* A stream of 20 frames with garbage, a flipped bit, a torn frame and a bad version between
 * them: every intact frame comes out, every failure is counted by reason. */
static void test_resync_after_corruption(void)
{
    static uint8_t stream[40000];
    size_t n = 0;
    int8_t csi[128] = {0};
    int intact = 0;
    for (int i = 0; i < 20; i++) {
        csi_proto_csi_t h = s_csi_header(128);
        h.seq = (uint32_t)i;
        size_t start = n;
        n += csi_proto_encode_csi(stream + n, sizeof(stream) - n, &h, csi);
        switch (i) {
        case 3: stream[start + 50] ^= 0x10; break;                   /* CRC error */
        case 7: stream[start + 2] = 9; break;                        /* bad version */
        case 11: n = start + 60; break;                              /* torn frame */
        case 14: memcpy(stream + n, "boot: hello\r\n\xC5", 14); n += 14; intact++; break;
        case 16: stream[start + 4] = 0xFF; stream[start + 5] = 0xFF; break; /* length > 1024 */
        default: intact++;
        }
    }
    s_sink_t sink = {0};
    csi_proto_reader_t r;
    csi_proto_reader_init(&r, s_sink, &sink);
    /* odd chunk sizes so boundaries land everywhere */
    for (size_t pos = 0, step = 1; pos < n; pos += step, step = step % 97 + 13) {
        size_t take = pos + step > n ? n - pos : step;
        csi_proto_reader_feed(&r, stream + pos, take);
    }
    CHECK_EQ(sink.n, intact);
    CHECK_EQ(r.errors[CSI_PROTO_ERR_CRC] >= 1, 1);
    CHECK_EQ(r.errors[CSI_PROTO_ERR_VERSION], 1);
    CHECK_EQ(r.errors[CSI_PROTO_ERR_LENGTH], 1);
    CHECK(r.errors[CSI_PROTO_ERR_SYNC] > 0);
    CHECK_EQ(csi_proto_reader_pending(&r), 0);
}

static void test_payload_and_type_errors(void)
{
    uint8_t frame[64];
    uint8_t payload[40] = {0};
    s_sink_t sink = {0};
    csi_proto_reader_t r;
    csi_proto_reader_init(&r, s_sink, &sink);
    size_t n = csi_proto_encode_frame(frame, sizeof(frame), CSI_PROTO_TYPE_STATS, payload, 40);
    csi_proto_reader_feed(&r, frame, n); /* STATS shorter than 52 */
    payload[32] = 200;                   /* csi_len 200 > 40 - 34 */
    n = csi_proto_encode_frame(frame, sizeof(frame), CSI_PROTO_TYPE_CSI, payload, 40);
    csi_proto_reader_feed(&r, frame, n);
    n = csi_proto_encode_frame(frame, sizeof(frame), 9, payload, 4);
    csi_proto_reader_feed(&r, frame, n);
    CHECK_EQ(sink.n, 0);
    CHECK_EQ(r.errors[CSI_PROTO_ERR_PAYLOAD], 2);
    CHECK_EQ(r.errors[CSI_PROTO_ERR_TYPE], 1);
    CHECK_EQ(csi_proto_encode_frame(frame, sizeof(frame), 1, payload, 1025), 0);
}

static void test_text_line(void)
{
    int8_t csi[4] = {-128, 0, 127, -1};
    csi_proto_csi_t h = s_csi_header(4);
    h.timestamp_us = 0x100000005ULL; /* low 32 bits = 5 */
    uint8_t mac[6] = {0x1a, 0, 0, 0, 0, 0xff};
    char line[CSI_TEXT_MAX_LINE];
    size_t n = csi_text_encode(line, sizeof(line), &h, mac, csi);
    const char *want = "CSI_DATA,3735928559,1a:00:00:00:00:ff,-60,11,1,3,1,0,0,0,0,0,0,-95,0,6,2,5,0,88,0,4,1,"
                       "\"[-128,0,127,-1]\"\n";
    CHECK_EQ(n, strlen(want));
    CHECK(strcmp(line, want) == 0);
    char tiny[20];
    CHECK_EQ(csi_text_encode(tiny, sizeof(tiny), &h, mac, csi), 0);
    /* the worst case fits the documented bound */
    static int8_t worst[CSI_PROTO_MAX_CSI];
    memset(worst, -128, sizeof(worst));
    h.csi_len = CSI_PROTO_MAX_CSI;
    h.seq = 0xFFFFFFFFu;
    CHECK(csi_text_encode(line, sizeof(line), &h, mac, worst) > 0);
}

int main(void)
{
    RUN(test_crc32_known_values);
    RUN(test_csi_round_trip_all_lengths);
    RUN(test_stats_hello_log_round_trip);
    RUN(test_resync_after_corruption);
    RUN(test_payload_and_type_errors);
    RUN(test_text_line);
    return CHECK_DONE();
}
