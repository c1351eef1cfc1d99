/*
 * host_app: the firmware's app_main (the unmodified main/ sources) on the host, against the fake
 * ESP-IDF (../fake), driven in virtual time.
 *
 * RX: injects CSI reports at --rate Hz for --seconds through the radio (which delivers them
 * only as the real radio would), lets the writer drain, then decodes everything the data port
 * carried and checks the accounting: every peer packet offered is delivered and captured,
 * every captured one is either sent or counted as dropped (captured == sent + dropped_queue +
 * dropped_write), sent equals the CSI frames actually found in the output, and the TX
 * sequence numbers come out strictly increasing (MAC retries dropped). TX: runs the send
 * timer against the fake ESP-NOW and checks the counters, the rate API and the recovery.
 * Settings problems and start failures are checked through the LOG frames and the HELLO.
 * Prints one summary line; exit 1 on a failed check.
 *
 * The HELLO/STATS fields of firmware 1.1 are read at their wire offsets (docs/wire-protocol.md),
 * so this driver also builds against the 1.0 firmware sources (to show which checks fail there).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "csi_config.h"
#include "csi_proto.h"
#include "csi_txpayload.h"
#include "fake_idf.h"
#include "role_tx.h"

void app_main(void);

#define S_MAX_NVS 8
#define S_MAX_FAILS 4

typedef struct {
    const char *nvs_csv, *out, *role, *transport, *format, *expect_log, *expect_hello_error;
    const char *nvs[S_MAX_NVS], *fail[S_MAX_FAILS];
    int n_nvs, n_fail;
    uint32_t rate, seconds, baud, csi_len, ltf_mask, foreign_every, lose_every, wedge_after, ack_fail_every;
    uint32_t stall_from_ms, stall_to_ms, unplug_from_ms, unplug_to_ms, hello_at_ms, start_s, agc, duplicate_every;
    uint32_t expect_rate_code, max_failed_block_ms;
    int gain_lock, expect_drops; /* expect_drops: -1 don't care, 0 none, 1 some */
    int wedge_silent, peer_absent, nvs_minimal, expect_status, expect_recovery, expect_broadcast;
    int expect_scale, expect_shift; /* -1: not checked */
    const char *expect_country, *expect_link; /* expect_link: "channel/secondary/bandwidth" */
} s_opts_t;

static s_opts_t s_o = {.role = "rx", .transport = "usb", .format = "v1", .rate = 1000, .seconds = 5,
                       .baud = 921600, .csi_len = 128, .ltf_mask = 1, .expect_drops = -1, .start_s = 4290,
                       .agc = 38, .expect_status = -1, .expect_rate_code = 16, .max_failed_block_ms = UINT32_MAX,
                       .expect_scale = -1, .expect_shift = -1};

static const uint8_t s_peer[6] = {0x7c, 0xdf, 0xa1, 0x00, 0x00, 0x01};
static const uint8_t s_self_mac[6] = {0x7c, 0xdf, 0xa1, 0x00, 0x00, 0x02};
static const uint8_t s_stranger[6] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

static int *s_flag(const char *a)
{
    static const struct {
        const char *name;
        int *flag;
    } flags[] = {{"--gain-lock", &s_o.gain_lock}, {"--wedge-silent", &s_o.wedge_silent},
                 {"--peer-absent", &s_o.peer_absent}, {"--nvs-minimal", &s_o.nvs_minimal},
                 {"--expect-recovery", &s_o.expect_recovery}, {"--expect-broadcast", &s_o.expect_broadcast}};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (!strcmp(a, flags[i].name)) {
            return flags[i].flag;
        }
    }
    return NULL;
}

static uint32_t *s_number(const char *a)
{
    static const struct {
        const char *name;
        uint32_t *value;
    } nums[] = {{"--rate", &s_o.rate}, {"--seconds", &s_o.seconds}, {"--baud", &s_o.baud},
                {"--csi-len", &s_o.csi_len}, {"--ltf-mask", &s_o.ltf_mask}, {"--foreign-every", &s_o.foreign_every},
                {"--lose-every", &s_o.lose_every}, {"--wedge-after", &s_o.wedge_after},
                {"--ack-fail-every", &s_o.ack_fail_every}, {"--stall-from-ms", &s_o.stall_from_ms},
                {"--stall-to-ms", &s_o.stall_to_ms}, {"--unplug-from-ms", &s_o.unplug_from_ms},
                {"--unplug-to-ms", &s_o.unplug_to_ms}, {"--hello-at-ms", &s_o.hello_at_ms},
                {"--start-s", &s_o.start_s}, {"--agc", &s_o.agc}, {"--duplicate-every", &s_o.duplicate_every},
                {"--expect-rate-code", &s_o.expect_rate_code}, {"--max-failed-block-ms", &s_o.max_failed_block_ms}};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        if (!strcmp(a, nums[i].name)) {
            return nums[i].value;
        }
    }
    return NULL;
}

static const char **s_string(const char *a)
{
    static const struct {
        const char *name;
        const char **value;
    } strs[] = {{"--nvs-csv", &s_o.nvs_csv}, {"--out", &s_o.out}, {"--role", &s_o.role},
                {"--transport", &s_o.transport}, {"--format", &s_o.format}, {"--expect-log", &s_o.expect_log},
                {"--expect-hello-error", &s_o.expect_hello_error}, {"--expect-country", &s_o.expect_country},
                {"--expect-link", &s_o.expect_link}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (!strcmp(a, strs[i].name)) {
            return strs[i].value;
        }
    }
    return NULL;
}

static int s_parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *flag = s_flag(a);
        if (flag || !strcmp(a, "--expect-drops") || !strcmp(a, "--expect-no-drops")) {
            *(flag ? flag : &s_o.expect_drops) = flag ? 1 : !strcmp(a, "--expect-drops");
            continue;
        }
        uint32_t *num = s_number(a);
        const char **str = s_string(a);
        int *signed_num = !strcmp(a, "--expect-status") ? &s_o.expect_status
                          : !strcmp(a, "--expect-scale") ? &s_o.expect_scale
                          : !strcmp(a, "--expect-shift") ? &s_o.expect_shift : NULL;
        bool nvs = !strcmp(a, "--nvs") && s_o.n_nvs < S_MAX_NVS;
        bool fail = !strcmp(a, "--fail") && s_o.n_fail < S_MAX_FAILS;
        if ((!num && !str && !signed_num && !nvs && !fail) || !v) {
            fprintf(stderr, "host_app: bad argument %s\n", a);
            return -1;
        }
        if (num) *num = (uint32_t)strtoul(v, NULL, 0);
        else if (str) *str = v;
        else if (signed_num) *signed_num = (int)strtol(v, NULL, 0);
        else if (nvs) s_o.nvs[s_o.n_nvs++] = v;
        else s_o.fail[s_o.n_fail++] = v;
        i++;
    }
    return 0;
}

/* --nvs key=encoding:value overrides (or adds) one setting. */
static void s_apply_nvs_override(const char *spec)
{
    char key[32], enc[16], value[64];
    if (sscanf(spec, "%31[^=]=%15[^:]:%63s", key, enc, value) != 3 ||
        fake_nvs_set(CSI_CONFIG_NVS_NAMESPACE, key, enc, value) != ESP_OK) {
        fprintf(stderr, "host_app: bad --nvs %s (key=encoding:value)\n", spec);
        exit(2);
    }
}

/* Settings as csi-edge flash would write them (unless a CSV from the flash tool is given). */
static void s_setup_nvs(void)
{
    fake_nvs_clear();
    if (s_o.nvs_csv && fake_nvs_load_csv(s_o.nvs_csv) != ESP_OK) {
        fprintf(stderr, "host_app: cannot load %s\n", s_o.nvs_csv);
        exit(2);
    }
    bool rx = !strcmp(s_o.role, "rx");
    const char *ns = CSI_CONFIG_NVS_NAMESPACE;
    if (!s_o.nvs_csv) {
        char v[32];
        fake_nvs_set(ns, "role", "u8", rx ? "1" : "0");
        fake_nvs_set(ns, "peer_mac", "string", rx ? "7c:df:a1:00:00:01" : "7c:df:a1:00:00:02");
        if (!s_o.nvs_minimal) { /* --nvs-minimal: everything else from the firmware's defaults */
            snprintf(v, sizeof(v), "%u", s_o.rate);
            fake_nvs_set(ns, "rate_hz", "u16", v);
            fake_nvs_set(ns, "transport", "u8", strcmp(s_o.transport, "uart") ? "0" : "1");
            snprintf(v, sizeof(v), "%u", s_o.baud);
            fake_nvs_set(ns, "baud", "u32", v);
            fake_nvs_set(ns, "format", "u8", strcmp(s_o.format, "esp-csi") ? "0" : "1");
            fake_nvs_set(ns, "gain_lock", "u8", s_o.gain_lock ? "1" : "0");
            fake_nvs_set(ns, "gl_packets", "u16", "50");
            snprintf(v, sizeof(v), "%u", s_o.ltf_mask);
            fake_nvs_set(ns, "ltf_mask", "u8", v);
        }
    }
    for (int i = 0; i < s_o.n_nvs; i++) {
        s_apply_nvs_override(s_o.nvs[i]);
    }
}

/* --fail api:times: the next `times` calls of api return ESP_ERR_INVALID_ARG. */
static void s_setup_failures(void)
{
    for (int i = 0; i < s_o.n_fail; i++) {
        char api[48];
        unsigned times;
        if (sscanf(s_o.fail[i], "%47[^:]:%u", api, &times) != 2) {
            fprintf(stderr, "host_app: bad --fail %s (api:times)\n", s_o.fail[i]);
            exit(2);
        }
        fake_fail(api, ESP_ERR_INVALID_ARG, times);
    }
}

static fake_port_t s_data_port(void)
{
    return strcmp(s_o.transport, "uart") ? FAKE_PORT_USB : FAKE_PORT_UART1;
}

/* One CSI report as the Wi-Fi driver would hand it to the callback, on the radio's channel. */
static bool s_inject(uint32_t seq, const uint8_t *mac)
{
    static int8_t csi[CSI_PROTO_MAX_CSI];
    static uint8_t frame_payload[64];
    const fake_wifi_state_t *radio = fake_wifi_state();
    wifi_csi_info_t info;
    memset(&info, 0, sizeof(info));
    info.rx_ctrl.rssi = -50 - (int)(seq % 7);
    info.rx_ctrl.rate = 11;
    info.rx_ctrl.sig_mode = 1;
    info.rx_ctrl.channel = radio->channel;
    info.rx_ctrl.secondary_channel = radio->second;
    info.rx_ctrl.cwb = radio->bandwidth == WIFI_BW_HT40;
    info.rx_ctrl.noise_floor = -95;
    info.rx_ctrl.timestamp = (uint32_t)fake_now_us();
    info.rx_ctrl.sig_len = 60;
    fake_rx_ctrl_set_gain(&info.rx_ctrl, (uint8_t)(s_o.agc + seq % 5), (int8_t)(-3 - (int)(seq % 3)));
    memcpy(info.mac, mac, 6);
    memset(info.dmac, 0xff, 6); /* the TX broadcasts */
    info.first_word_invalid = true;
    for (uint32_t i = 0; i < s_o.csi_len; i++) {
        csi[i] = (int8_t)(seq + i);
    }
    info.buf = csi;
    info.len = (uint16_t)s_o.csi_len;
    memset(frame_payload, 0xAB, 10); /* ESP-NOW action frame header bytes before our payload */
    csi_txpayload_pack(frame_payload + 10, 16, seq, (uint32_t)(fake_now_us() - 900));
    info.payload = frame_payload;
    info.payload_len = 10 + 16 + 4;
    info.rx_seq = (uint16_t)(seq & 0xFFF);
    return fake_wifi_inject_csi(&info);
}

typedef struct {
    uint32_t csi, stats, hellos, logs, seq_disorder, ts_disorder, invariant_bad;
    uint32_t last_seq;
    uint64_t last_ts;
    csi_proto_stats_t last_stats;
    uint32_t last_duplicates; /* STATS 1.1 offset 52 */
    csi_proto_hello_t hello;  /* the last HELLO (1.0 fields) */
    uint8_t hello_ext[172]; /* its raw payload (172 bytes from firmware 1.1) */
    size_t hello_len;
    uint32_t hellos_not_running; /* HELLOs whose status said the board was not running */
    char first_hello_error[128];
    char log[256];
} s_seen_t;

static uint32_t s_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void s_on_hello(s_seen_t *s, const uint8_t *payload, size_t len)
{
    csi_proto_parse_hello(payload, len, &s->hello);
    s->hello_len = len < sizeof(s->hello_ext) ? len : sizeof(s->hello_ext);
    memcpy(s->hello_ext, payload, s->hello_len);
    if (len >= 172 && payload[64] != 0) { /* status at offset 64, error text at 76 (1.1) */
        if (!s->hellos_not_running++) {
            snprintf(s->first_hello_error, sizeof(s->first_hello_error), "%.96s", (const char *)payload + 76);
        }
    }
    s->hellos++;
}

static void s_on_frame(void *ctx, uint8_t type, const uint8_t *payload, size_t len)
{
    s_seen_t *s = ctx;
    if (type == CSI_PROTO_TYPE_CSI) {
        csi_proto_csi_t h;
        csi_proto_parse_csi(payload, len, &h, NULL);
        if (s->csi && (h.seq <= s->last_seq)) s->seq_disorder++;
        if (s->csi && (h.timestamp_us <= s->last_ts)) s->ts_disorder++;
        s->last_seq = h.seq;
        s->last_ts = h.timestamp_us;
        s->csi++;
    } else if (type == CSI_PROTO_TYPE_STATS) {
        csi_proto_stats_t *st = &s->last_stats;
        csi_proto_parse_stats(payload, len, st);
        s->last_duplicates = len >= 60 ? s_u32(payload + 52) : 0;
        uint32_t out = st->sent + st->dropped_queue + st->dropped_write;
        if (out > st->captured || st->captured - out > st->queue_capacity) s->invariant_bad++;
        s->stats++;
    } else if (type == CSI_PROTO_TYPE_HELLO) {
        s_on_hello(s, payload, len);
    } else if (type == CSI_PROTO_TYPE_LOG) {
        size_t n = len - 1 < sizeof(s->log) - 1 ? len - 1 : sizeof(s->log) - 1;
        memcpy(s->log, payload + 1, n);
        s->log[n] = '\0';
        s->logs++;
    }
}

static uint32_t s_count_text_lines(const uint8_t *data, size_t len)
{
    uint32_t n = 0;
    for (size_t i = 0; i + 9 <= len; i++) {
        n += memcmp(data + i, "CSI_DATA,", 9) == 0;
    }
    return n;
}

typedef struct {
    uint32_t offered;   /* peer packets on the air (the first copy of each) */
    uint32_t delivered; /* ... that the radio handed to the CSI callback */
    uint32_t foreign, duplicates_delivered;
    uint32_t first_seq, last_seq; /* peer seqs delivered to the callback */
} s_air_t;

static void s_step_host(uint32_t ms, bool *asked)
{
    fake_serial_set_stalled(s_o.stall_to_ms && ms >= s_o.stall_from_ms && ms < s_o.stall_to_ms);
    fake_serial_set_usb_connected(!(s_o.unplug_to_ms && ms >= s_o.unplug_from_ms && ms < s_o.unplug_to_ms));
    if (s_o.hello_at_ms && !*asked && ms >= s_o.hello_at_ms) {
        fake_serial_host_send(s_data_port(), "hello\n", 6); /* the host asks for a HELLO (byte 'h') */
        *asked = true;
    }
}

static void s_run_rx(s_air_t *air)
{
    uint64_t t0 = fake_now_us();
    uint64_t period = 1000000u / s_o.rate;
    uint32_t n = s_o.rate * s_o.seconds;
    bool asked = false;
    air->first_seq = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = t0 + (uint64_t)(i + 1) * period;
        s_step_host((uint32_t)((t - t0) / 1000), &asked);
        fake_advance_to(t);
        if (s_o.lose_every && i % s_o.lose_every == s_o.lose_every - 1) {
            continue; /* lost on air: the RX never sees this seq */
        }
        bool stranger = s_o.foreign_every && i % s_o.foreign_every == 0;
        bool delivered = s_inject(i, stranger ? s_stranger : s_peer);
        if (stranger) {
            air->foreign += delivered;
            continue;
        }
        air->offered++;
        air->delivered += delivered;
        if (delivered) {
            air->first_seq = air->first_seq == UINT32_MAX ? i : air->first_seq;
            air->last_seq = i;
        }
        if (delivered && s_o.duplicate_every && i % s_o.duplicate_every == 0) {
            air->duplicates_delivered += s_inject(i, s_peer); /* a MAC retry: the same frame again */
        }
    }
    fake_serial_set_stalled(false);
    fake_serial_set_usb_connected(true);
    if (s_o.expect_hello_error) {
        fake_serial_host_send(s_data_port(), "h", 1); /* a last HELLO, to see the status now */
    }
    fake_advance_to(fake_now_us() + 2500000); /* drain, then at least two more STATS */
}

static void s_check_hello_common(const s_seen_t *s)
{
    unsigned ch, sec, bw;
    if (s_o.expect_link && sscanf(s_o.expect_link, "%u/%u/%u", &ch, &sec, &bw) == 3) {
        CHECK_EQ(s->hello.channel, ch);
        CHECK_EQ(s->hello.secondary_channel, sec);
        CHECK_EQ(s->hello.bandwidth, bw);
        CHECK_EQ(fake_wifi_state()->channel, ch); /* and the radio really runs like that */
        CHECK_EQ(fake_wifi_state()->second, sec);
        CHECK_EQ(fake_wifi_state()->bandwidth, bw ? WIFI_BW_HT40 : WIFI_BW_HT20);
    }
    if (s_o.expect_country) {
        CHECK(s->hello_len >= 172 && strncmp((const char *)s->hello_ext + 68, s_o.expect_country, 4) == 0);
    }
    if (s_o.expect_scale >= 0) {
        CHECK(s->hello_len >= 172);
        CHECK_EQ(s->hello_ext[65], s_o.expect_scale);
        CHECK_EQ(s->hello_ext[66], s_o.expect_shift);
    }
    if (s_o.expect_status >= 0) { /* the status of the last HELLO seen */
        CHECK(s->hello_len >= 172);
        CHECK_EQ(s->hello_ext[64], s_o.expect_status);
    }
    if (s_o.expect_hello_error) { /* some HELLO said why the board was not running */
        CHECK(s->hellos_not_running >= 1);
        CHECK(strstr(s->first_hello_error, s_o.expect_hello_error) != NULL);
        if (!strstr(s->first_hello_error, s_o.expect_hello_error)) {
            fprintf(stderr, "first HELLO error: \"%s\"\n", s->first_hello_error);
        }
    }
}

static void s_check_rx_counts(const s_seen_t *s, const s_air_t *air, uint32_t frames)
{
    const csi_proto_stats_t *st = &s->last_stats;
    CHECK(air->delivered > 0); /* the radio gave the board CSI at all */
    if (!s_o.n_fail) {
        CHECK_EQ(air->delivered, air->offered); /* ... all of it, once started */
    }
    CHECK_EQ(st->captured, air->delivered);
    CHECK_EQ(st->filtered, air->foreign);
    CHECK_EQ(st->captured, st->sent + st->dropped_queue + st->dropped_write);
    CHECK_EQ(st->sent, frames);
    CHECK_EQ(s->seq_disorder, 0); /* strictly increasing: no MAC retry streamed twice */
    CHECK_EQ(s->ts_disorder, 0);
    CHECK_EQ(s->last_duplicates, air->duplicates_delivered);
    /* every peer seq between the first and last delivered one that never arrived */
    CHECK_EQ(st->seq_gaps, air->last_seq - air->first_seq + 1 - air->delivered);
    if (s_o.lose_every || s_o.foreign_every) {
        CHECK(st->seq_gaps > 0);
    }
    if (s_o.expect_drops == 0) {
        CHECK_EQ(st->dropped_queue + st->dropped_write, 0);
    } else if (s_o.expect_drops == 1) {
        CHECK(st->dropped_queue + st->dropped_write > 0);
    }
    if (s_o.stall_to_ms || s_o.unplug_to_ms) {
        CHECK(st->dropped_write > 0);
    }
    if (s_o.max_failed_block_ms != UINT32_MAX) {
        CHECK(fake_serial_failed_block_us() <= (uint64_t)s_o.max_failed_block_ms * 1000u);
    }
}

static void s_check_rx_radio(const csi_proto_stats_t *st)
{
    if (s_o.gain_lock && s_o.agc + 2 > 25) { /* median of agc + 0..4 */
        CHECK_EQ(st->gain_lock, 2);
        CHECK(fake_wifi_state()->gain_forced);
        CHECK_EQ(fake_wifi_state()->forced_agc, st->agc_gain);
        CHECK_EQ(st->agc_gain, s_o.agc + 2);
    } else if (s_o.gain_lock) { /* AGC very low: the lock is skipped, nothing forced */
        CHECK_EQ(st->gain_lock, 3);
        CHECK(!fake_wifi_state()->gain_forced);
    }
    const wifi_csi_config_t *c = &fake_wifi_state()->csi_config;
    CHECK_EQ(c->lltf_en, (s_o.ltf_mask & 1) != 0);
    CHECK_EQ(c->htltf_en, (s_o.ltf_mask & 2) != 0);
    CHECK_EQ(c->stbc_htltf2_en, (s_o.ltf_mask & 4) != 0);
    if (s_o.expect_scale >= 0) {
        CHECK_EQ(c->manu_scale, s_o.expect_scale);
        CHECK_EQ(c->shift, s_o.expect_shift);
    }
    CHECK_EQ(fake_wifi_state()->ps, WIFI_PS_NONE);
    CHECK(fake_wifi_state()->promiscuous);
}

static void s_check_rx(const s_seen_t *s, const s_air_t *air, const uint8_t *out, size_t len)
{
    const csi_proto_stats_t *st = &s->last_stats;
    bool text = !strcmp(s_o.format, "esp-csi");
    uint32_t frames = text ? s_count_text_lines(out, len) : s->csi;
    CHECK_EQ(s->hellos >= 1, 1);
    bool undisturbed = !s_o.n_fail && !s_o.stall_to_ms && !s_o.unplug_to_ms;
    if (s_o.hello_at_ms && undisturbed) {
        CHECK_EQ(s->hellos, 2); /* boot + the request, even when the writer is saturated */
    }
    CHECK_EQ(s->hello.role, 1);
    CHECK_MEM(s->hello.peer_mac, s_peer, 6);
    CHECK(s->stats >= (undisturbed ? s_o.seconds : 1)); /* one a second (none get through a stall) */
    CHECK_EQ(s->invariant_bad, 0);
    CHECK_EQ(st->role, 1);
    s_check_rx_counts(s, air, frames);
    s_check_rx_radio(st);
    s_check_hello_common(s);
    printf("rx %s %s %u Hz x %u s, csi %u B, link %u B/s: offered %u, delivered %u, captured %u, sent %u, "
           "dropped_queue %u, dropped_write %u, filtered %u, seq_gaps %u, duplicates %u, queue high water %u/%u, "
           "hellos %u, stats %u, writes blocked then failed %llu us\n",
           s_o.transport, s_o.format, s_o.rate, s_o.seconds, s_o.csi_len, fake_serial_bytes_per_s(s_data_port()),
           air->offered, air->delivered, st->captured, st->sent, st->dropped_queue, st->dropped_write, st->filtered,
           st->seq_gaps, s->last_duplicates, st->queue_high_water, st->queue_capacity, s->hellos, s->stats,
           (unsigned long long)fake_serial_failed_block_us());
}

static void s_check_tx(const s_seen_t *s)
{
    const fake_espnow_state_t *now = fake_espnow_state();
    const csi_proto_stats_t *st = &s->last_stats;
    CHECK(s->hellos >= 1);
    CHECK_EQ(s->hello.role, 0);
    const csi_stats_t *live = role_tx_stats(); /* the firmware's counters now (STATS: up to 1 s old) */
    CHECK(now->send_ok > 0);
    CHECK_EQ(st->role, 0);
    CHECK(s->stats >= (s_o.n_fail ? 1 : s_o.seconds - 1));
    /* every send accounted for: a callback (sent or failed) or an error returned by esp_now_send */
    CHECK_EQ(live->tx_sent + live->tx_send_errors, now->completed + now->send_calls - now->send_ok);
    CHECK_EQ(live->tx_recoveries, now->deinits);
    CHECK_EQ(now->inits, now->deinits + 1);
    CHECK_EQ(now->inits_in_timer + now->deinits_in_timer, 0); /* recovery runs in a task */
    CHECK_EQ(now->rate_api, FAKE_RATE_INTERFACE);           /* the API documented for the S3 */
    CHECK_EQ(now->rate, s_o.expect_rate_code);
    if (s_o.expect_broadcast) {
        CHECK_EQ(now->unicast_sends, 0);
        CHECK_EQ(now->broadcasts, now->send_ok);
        CHECK(now->max_in_flight <= 1); /* paced on the send callback */
    }
    if (!s_o.wedge_after) {
        CHECK_EQ(live->tx_recoveries, 0); /* an absent RX or lost ACKs never re-initialise ESP-NOW */
        CHECK_EQ(now->send_no_mem, 0);
    }
    if (s_o.expect_recovery) {
        CHECK(live->tx_recoveries >= 1);
        CHECK(now->send_ok > s_o.wedge_after); /* it kept going after the wedge */
    }
    s_check_hello_common(s);
    printf("tx %u Hz x %u s: send calls %u (broadcast %u, unicast %u), completed %u, NO_MEM %u, sent ok %u, "
           "send errors %u, recoveries %u (in timer %u), max in flight %u, stats %u\n",
           s_o.rate, s_o.seconds, now->send_calls, now->broadcasts, now->unicast_sends, now->completed,
           now->send_no_mem, live->tx_sent, live->tx_send_errors, live->tx_recoveries, now->deinits_in_timer,
           now->max_in_flight, s->stats);
}

static void s_check_log(const s_seen_t *s)
{
    CHECK(s->logs >= 1);
    CHECK(strstr(s->log, s_o.expect_log) != NULL);
    if (!strstr(s->log, s_o.expect_log)) {
        fprintf(stderr, "last LOG: \"%s\"\n", s->log);
    }
    printf("error reported %u times: \"%s\"\n", s->logs, s->log);
}

static int s_write_out(const uint8_t *out, size_t len)
{
    FILE *f = fopen(s_o.out, "wb");
    if (!f || fwrite(out, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "host_app: cannot write %s\n", s_o.out);
        return 2;
    }
    return 0;
}

static void s_run_tx(void)
{
    bool asked = false;
    uint64_t t0 = fake_now_us();
    for (uint32_t ms = 0; ms < s_o.seconds * 1000u; ms += 10) {
        s_step_host(ms, &asked);
        fake_advance_to(t0 + (uint64_t)(ms + 10) * 1000u);
    }
    if (s_o.expect_hello_error) {
        fake_serial_host_send(s_data_port(), "h", 1);
        fake_advance_to(fake_now_us() + 100000);
    }
}

int main(int argc, char **argv)
{
    if (s_parse_args(argc, argv) != 0) {
        return 2;
    }
    bool rx = !strcmp(s_o.role, "rx");
    s_setup_nvs();
    s_setup_failures();
    fake_wifi_set_mac(rx ? s_self_mac : s_peer);
    if (!rx) {
        fake_espnow_wedge_after(s_o.wedge_after, s_o.wedge_silent);
        fake_espnow_ack_fail_every(s_o.ack_fail_every);
        fake_espnow_peer_absent(s_o.peer_absent);
    }
    fake_advance_to((uint64_t)s_o.start_s * 1000000u);
    fake_boot();
    app_main();
    static s_air_t air;
    static s_seen_t seen;
    if (rx) {
        s_run_rx(&air);
    } else {
        s_run_tx();
    }
    fake_shutdown();

    size_t len;
    const uint8_t *out = fake_serial_output(s_data_port(), &len);
    static csi_proto_reader_t reader;
    csi_proto_reader_init(&reader, s_on_frame, &seen);
    csi_proto_reader_feed(&reader, out, len);
    if (s_o.out && s_write_out(out, len) != 0) {
        return 2;
    }
    if (strcmp(s_o.format, "esp-csi") != 0) { /* the data port carries nothing but frames */
        CHECK_EQ(reader.errors[CSI_PROTO_ERR_SYNC] + reader.errors[CSI_PROTO_ERR_CRC] +
                     reader.errors[CSI_PROTO_ERR_PAYLOAD],
                 0);
    }
    if (s_o.expect_log) {
        s_check_log(&seen);
    }
    bool refused = s_o.expect_status == 1 || (s_o.expect_log && s_o.expect_status < 0); /* settings refused */
    if (refused) {
        CHECK_EQ(seen.csi, 0);
        CHECK_EQ(fake_espnow_state()->send_calls, 0);
        s_check_hello_common(&seen);
    } else if (rx) {
        s_check_rx(&seen, &air, out, len);
    } else {
        s_check_tx(&seen);
    }
    fake_serial_free();
    return CHECK_DONE();
}
