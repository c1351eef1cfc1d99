/*
 * host_app: the firmware's app_main (the unmodified main/ sources) on the host, against the fake
 * ESP-IDF (../fake), driven in virtual time.
 *
 * RX: injects CSI reports at --rate Hz for --seconds through the registered CSI callback
 * (as the Wi-Fi task would), lets the writer drain, then decodes everything the "USB cable"
 * carried and checks the accounting: every injected packet from the peer is captured, every
 * captured one is either sent or counted as dropped (captured == sent + dropped_queue +
 * dropped_write), sent equals the CSI frames actually found in the output, and the TX
 * sequence numbers come out in order. TX: runs the send timer, optionally wedges ESP-NOW,
 * and checks the counters and the recovery. Prints one summary line; exit 1 on a failed check.
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

void app_main(void);

typedef struct {
    const char *nvs_csv, *out, *role, *transport, *format, *expect_log;
    uint32_t rate, seconds, baud, csi_len, ltf_mask, foreign_every, lose_every, wedge_after, ack_fail_every;
    uint32_t stall_from_ms, stall_to_ms, hello_at_ms, start_s, agc;
    int gain_lock, expect_drops; /* expect_drops: -1 don't care, 0 none, 1 some */
} s_opts_t;

static s_opts_t s_o = {.role = "rx", .transport = "usb", .format = "v1", .rate = 1000, .seconds = 5,
                       .baud = 921600, .csi_len = 128, .ltf_mask = 1, .expect_drops = -1, .start_s = 4290,
                       .agc = 38};

static const uint8_t s_peer[6] = {0x7c, 0xdf, 0xa1, 0x00, 0x00, 0x01};
static const uint8_t s_self_mac[6] = {0x7c, 0xdf, 0xa1, 0x00, 0x00, 0x02};
static const uint8_t s_stranger[6] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};

static int s_parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t *num = NULL;
        const char **str = NULL;
        if (!strcmp(a, "--gain-lock")) { s_o.gain_lock = 1; continue; }
        if (!strcmp(a, "--expect-drops")) { s_o.expect_drops = 1; continue; }
        if (!strcmp(a, "--expect-no-drops")) { s_o.expect_drops = 0; continue; }
        if (!strcmp(a, "--nvs-csv")) str = &s_o.nvs_csv;
        else if (!strcmp(a, "--out")) str = &s_o.out;
        else if (!strcmp(a, "--role")) str = &s_o.role;
        else if (!strcmp(a, "--transport")) str = &s_o.transport;
        else if (!strcmp(a, "--format")) str = &s_o.format;
        else if (!strcmp(a, "--expect-log")) str = &s_o.expect_log;
        else if (!strcmp(a, "--rate")) num = &s_o.rate;
        else if (!strcmp(a, "--seconds")) num = &s_o.seconds;
        else if (!strcmp(a, "--baud")) num = &s_o.baud;
        else if (!strcmp(a, "--csi-len")) num = &s_o.csi_len;
        else if (!strcmp(a, "--ltf-mask")) num = &s_o.ltf_mask;
        else if (!strcmp(a, "--foreign-every")) num = &s_o.foreign_every;
        else if (!strcmp(a, "--lose-every")) num = &s_o.lose_every;
        else if (!strcmp(a, "--wedge-after")) num = &s_o.wedge_after;
        else if (!strcmp(a, "--ack-fail-every")) num = &s_o.ack_fail_every;
        else if (!strcmp(a, "--stall-from-ms")) num = &s_o.stall_from_ms;
        else if (!strcmp(a, "--stall-to-ms")) num = &s_o.stall_to_ms;
        else if (!strcmp(a, "--hello-at-ms")) num = &s_o.hello_at_ms;
        else if (!strcmp(a, "--start-s")) num = &s_o.start_s;
        else if (!strcmp(a, "--agc")) num = &s_o.agc;
        if ((!num && !str) || !v) {
            fprintf(stderr, "host_app: bad argument %s\n", a);
            return -1;
        }
        if (num) *num = (uint32_t)strtoul(v, NULL, 0);
        else *str = v;
        i++;
    }
    return 0;
}

/* Settings as csi-edge flash would write them (unless a CSV from the flash tool is given). */
static void s_setup_nvs(void)
{
    fake_nvs_clear();
    if (s_o.nvs_csv) {
        if (fake_nvs_load_csv(s_o.nvs_csv) != ESP_OK) {
            fprintf(stderr, "host_app: cannot load %s\n", s_o.nvs_csv);
            exit(2);
        }
        return;
    }
    char v[32];
    bool rx = !strcmp(s_o.role, "rx");
    const char *ns = CSI_CONFIG_NVS_NAMESPACE;
    fake_nvs_set(ns, "role", "u8", rx ? "1" : "0");
    fake_nvs_set(ns, "channel", "u8", "11");
    snprintf(v, sizeof(v), "%u", s_o.rate);
    fake_nvs_set(ns, "rate_hz", "u16", v);
    fake_nvs_set(ns, "peer_mac", "string", rx ? "7c:df:a1:00:00:01" : "7c:df:a1:00:00:02");
    fake_nvs_set(ns, "transport", "u8", strcmp(s_o.transport, "uart") ? "0" : "1");
    snprintf(v, sizeof(v), "%u", s_o.baud);
    fake_nvs_set(ns, "baud", "u32", v);
    fake_nvs_set(ns, "format", "u8", strcmp(s_o.format, "esp-csi") ? "0" : "1");
    fake_nvs_set(ns, "gain_lock", "u8", s_o.gain_lock ? "1" : "0");
    fake_nvs_set(ns, "gl_packets", "u16", "50");
    snprintf(v, sizeof(v), "%u", s_o.ltf_mask);
    fake_nvs_set(ns, "ltf_mask", "u8", v);
}

/* One CSI report as the Wi-Fi driver would hand it to the callback. */
static void s_inject(uint32_t seq, const uint8_t *mac)
{
    static int8_t csi[CSI_PROTO_MAX_CSI];
    static uint8_t frame_payload[64];
    wifi_csi_info_t info;
    memset(&info, 0, sizeof(info));
    info.rx_ctrl.rssi = -50 - (int)(seq % 7);
    info.rx_ctrl.rate = 11;
    info.rx_ctrl.sig_mode = 1;
    info.rx_ctrl.channel = 11;
    info.rx_ctrl.noise_floor = -95;
    info.rx_ctrl.timestamp = (uint32_t)fake_now_us();
    info.rx_ctrl.sig_len = 60;
    fake_rx_ctrl_set_gain(&info.rx_ctrl, (uint8_t)(s_o.agc + seq % 5), (int8_t)(-3 - (int)(seq % 3)));
    memcpy(info.mac, mac, 6);
    memcpy(info.dmac, s_self_mac, 6);
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
    fake_wifi_inject_csi(&info);
}

typedef struct {
    uint32_t csi, stats, hellos, logs, seq_disorder, ts_disorder, invariant_bad;
    uint32_t last_seq;
    uint64_t last_ts;
    csi_proto_stats_t last_stats;
    csi_proto_hello_t hello;
    char log[256];
} s_seen_t;

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
        uint32_t out = st->sent + st->dropped_queue + st->dropped_write;
        if (out > st->captured || st->captured - out > st->queue_capacity) s->invariant_bad++;
        s->stats++;
    } else if (type == CSI_PROTO_TYPE_HELLO) {
        csi_proto_parse_hello(payload, len, &s->hello);
        s->hellos++;
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

static uint32_t s_first_seq = UINT32_MAX, s_last_seq; /* peer seqs delivered to the callback */

static void s_run_rx(uint32_t *injected, uint32_t *foreign)
{
    uint64_t t0 = fake_now_us();
    uint64_t period = 1000000u / s_o.rate;
    uint32_t n = s_o.rate * s_o.seconds;
    bool asked = false;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = t0 + (uint64_t)(i + 1) * period;
        uint32_t ms = (uint32_t)((t - t0) / 1000);
        fake_serial_set_stalled(s_o.stall_to_ms && ms >= s_o.stall_from_ms && ms < s_o.stall_to_ms);
        if (s_o.hello_at_ms && !asked && ms >= s_o.hello_at_ms) {
            fake_serial_host_send("hello\n", 6); /* the host asks for a HELLO (byte 'h') */
            asked = true;
        }
        fake_advance_to(t);
        if (s_o.lose_every && i % s_o.lose_every == s_o.lose_every - 1) {
            continue; /* lost on air: the RX never sees this seq */
        }
        bool stranger = s_o.foreign_every && i % s_o.foreign_every == 0;
        s_inject(i, stranger ? s_stranger : s_peer);
        (*foreign) += stranger;
        (*injected) += !stranger;
        if (!stranger) {
            s_first_seq = s_first_seq == UINT32_MAX ? i : s_first_seq;
            s_last_seq = i;
        }
    }
    fake_serial_set_stalled(false);
    fake_advance_to(fake_now_us() + 2500000); /* drain, then at least two more STATS */
}

static void s_check_rx(const s_seen_t *s, uint32_t injected, uint32_t foreign, const uint8_t *out, size_t len)
{
    const csi_proto_stats_t *st = &s->last_stats;
    bool text = !strcmp(s_o.format, "esp-csi");
    uint32_t frames = text ? s_count_text_lines(out, len) : s->csi;
    CHECK_EQ(s->hellos >= 1, 1);
    if (s_o.hello_at_ms) {
        CHECK_EQ(s->hellos, 2); /* boot + the request, even when the writer is saturated */
    }
    CHECK_EQ(s->hello.role, 1);
    CHECK_MEM(s->hello.peer_mac, s_peer, 6);
    CHECK_EQ(s->stats >= s_o.seconds, 1);
    CHECK_EQ(s->invariant_bad, 0);
    CHECK_EQ(st->role, 1);
    CHECK_EQ(st->captured, injected);
    CHECK_EQ(st->filtered, foreign);
    CHECK_EQ(st->captured, st->sent + st->dropped_queue + st->dropped_write);
    CHECK_EQ(st->sent, frames);
    CHECK_EQ(s->seq_disorder, 0);
    CHECK_EQ(s->ts_disorder, 0);
    /* every peer seq between the first and last delivered one that never arrived */
    CHECK_EQ(st->seq_gaps, s_last_seq - s_first_seq + 1 - injected);
    if (s_o.lose_every || s_o.foreign_every) {
        CHECK(st->seq_gaps > 0);
    }
    if (s_o.expect_drops == 0) {
        CHECK_EQ(st->dropped_queue + st->dropped_write, 0);
    } else if (s_o.expect_drops == 1) {
        CHECK(st->dropped_queue + st->dropped_write > 0);
    }
    if (s_o.stall_to_ms) {
        CHECK(st->dropped_write > 0);
    }
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
    CHECK_EQ(fake_wifi_state()->ps, WIFI_PS_NONE);
    printf("rx %s %s %u Hz x %u s, csi %u B, link %u B/s: injected %u, captured %u, sent %u, dropped_queue %u, "
           "dropped_write %u, filtered %u, seq_gaps %u, queue high water %u/%u, hellos %u, stats %u\n",
           s_o.transport, s_o.format, s_o.rate, s_o.seconds, s_o.csi_len, fake_serial_bytes_per_s(), injected,
           st->captured, st->sent, st->dropped_queue, st->dropped_write, st->filtered, st->seq_gaps,
           st->queue_high_water, st->queue_capacity, s->hellos, s->stats);
}

static void s_check_tx(const s_seen_t *s)
{
    const fake_espnow_state_t *now = fake_espnow_state();
    const csi_proto_stats_t *st = &s->last_stats;
    uint32_t ack_fails = s_o.ack_fail_every ? now->send_ok / s_o.ack_fail_every : 0;
    CHECK_EQ(s->hellos, 1);
    CHECK_EQ(s->hello.role, 0);
    CHECK_EQ(now->send_calls, s_o.rate * s_o.seconds);
    CHECK_EQ(st->role, 0);
    CHECK_EQ(st->tx_sent, now->send_ok - ack_fails);
    CHECK_EQ(st->tx_send_errors, now->send_no_mem + ack_fails);
    CHECK_EQ(st->tx_recoveries, now->deinits);
    CHECK_EQ(now->inits, now->deinits + 1);
    CHECK_MEM(now->peer, s_self_mac, 6);
    CHECK_EQ(now->rate.rate, 16);
    CHECK_EQ(now->rate.phymode, WIFI_PHY_MODE_HT20);
    if (!s_o.wedge_after) {
        CHECK_EQ(st->tx_recoveries, 0); /* missing ACKs alone never re-initialise ESP-NOW */
    } else {
        CHECK(st->tx_recoveries >= 1);
        CHECK(now->send_ok > s_o.wedge_after); /* it kept going after the wedge */
        CHECK_EQ(now->send_no_mem, st->tx_recoveries * 50u);
    }
    printf("tx %u Hz x %u s: send calls %u, sent ok %u, send errors %u (NO_MEM %u, failed acks %u), "
           "recoveries %u, stats %u\n",
           s_o.rate, s_o.seconds, now->send_calls, st->tx_sent, st->tx_send_errors, now->send_no_mem, ack_fails,
           st->tx_recoveries, s->stats);
}

int main(int argc, char **argv)
{
    if (s_parse_args(argc, argv) != 0) {
        return 2;
    }
    bool rx = !strcmp(s_o.role, "rx");
    s_setup_nvs();
    fake_wifi_set_mac(rx ? s_self_mac : s_peer);
    if (!rx) {
        fake_espnow_wedge_after(s_o.wedge_after);
        fake_espnow_ack_fail_every(s_o.ack_fail_every);
    }
    fake_advance_to((uint64_t)s_o.start_s * 1000000u);
    app_main();
    uint32_t injected = 0, foreign = 0;
    static s_seen_t seen;
    if (rx && !s_o.expect_log) {
        s_run_rx(&injected, &foreign);
    } else {
        /* TX: end exactly on the last STATS (timers run before tasks at the same instant) */
        fake_advance_to(fake_now_us() + (uint64_t)s_o.seconds * 1000000u);
    }
    fake_shutdown();

    size_t len;
    const uint8_t *out = fake_serial_output(&len);
    static csi_proto_reader_t reader;
    csi_proto_reader_init(&reader, s_on_frame, &seen);
    csi_proto_reader_feed(&reader, out, len);
    if (s_o.out) {
        FILE *f = fopen(s_o.out, "wb");
        if (!f || fwrite(out, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "host_app: cannot write %s\n", s_o.out);
            return 2;
        }
    }
    if (s_o.expect_log) {
        CHECK(seen.logs >= 1);
        CHECK(strstr(seen.log, s_o.expect_log) != NULL);
        CHECK_EQ(seen.csi + seen.hellos, 0);
        printf("config error reported %u times: \"%s\"\n", seen.logs, seen.log);
    } else if (rx) {
        if (strcmp(s_o.format, "esp-csi") != 0) {
            CHECK_EQ(reader.errors[CSI_PROTO_ERR_CRC] + reader.errors[CSI_PROTO_ERR_PAYLOAD], 0);
        }
        s_check_rx(&seen, injected, foreign, out, len);
    } else {
        s_check_tx(&seen);
    }
    fake_serial_free();
    return CHECK_DONE();
}
