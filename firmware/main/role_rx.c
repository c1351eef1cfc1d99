/*
 * role_rx: CSI capture and streaming.
 *
 * The radio listens in promiscuous mode (management frames only: ESP-NOW is an action frame).
 * A station that is not connected receives nothing else, and without it the driver discards
 * the packets before CSI is computed (ESP-IDF wifi.rst "Wi-Fi Channel State Information
 * Configure"; Espressif in esp-csi issue 17; every esp-csi receiver does it).
 *
 *   Wi-Fi task: s_csi_cb   filter on peer MAC + our payload magic, drop MAC retries (the same
 *                          TX seq again), count, copy the header fields and raw CSI bytes into
 *                          a preallocated ring slot.
 *                          No blocking, no malloc, no logging; a full ring drops and counts.
 *   writer task: s_writer_task  drain the ring, encode protocol-v1 CSI frames (or esp-csi text),
 *                          write them to the serial transport; HELLO at start and on request,
 *                          STATS every second; force the gains once the gain lock is READY.
 *
 * Invariant (reported in STATS): captured == sent + dropped_queue + dropped_write + queued.
 */
#include "role_rx.h"

#include <string.h>

#include "app_settings.h"
#include "app_status.h"
#include "csi_gainlock.h"
#include "csi_proto.h"
#include "csi_text.h"
#include "csi_txpayload.h"
#include "esp_check.h"
#include "esp_csi_gain_ctrl.h"
#include "esp_log.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"
#include "serial_out.h"

#define RX_QUEUE_LEN (1u << CONFIG_CSI_EDGE_QUEUE_LEN_LOG2)
#define RX_QUEUE_BUDGET_BYTES (96u * 1024u) /* Kconfig CSI_EDGE_QUEUE_LEN_LOG2 explains it */
#define RX_BATCH 16 /* frames written per writer pass before checking STATS/requests */
#define RX_STATS_PERIOD_US 1000000

typedef struct {
    csi_proto_csi_t hdr;
    uint8_t mac[6];
    int8_t csi[CSI_PROTO_MAX_CSI];
} rx_record_t;

_Static_assert(sizeof(rx_record_t) * RX_QUEUE_LEN <= RX_QUEUE_BUDGET_BYTES,
               "CSI_EDGE_QUEUE_LEN_LOG2 puts more than 96 KiB in .bss (see its Kconfig help)");

static const char *TAG = "role_rx";

static csi_config_t s_cfg;
static csi_stats_t s_stats;
static csi_gainlock_t s_gain;
static csi_ring_t s_ring;
static rx_record_t s_slots[RX_QUEUE_LEN];
static uint64_t s_ts_high; /* producer: rx_ctrl.timestamp extended to 64 bits */
static uint32_t s_ts_last;
static uint8_t s_last_agc; /* producer: gains of the latest packet, for STATS */
static int8_t s_last_fft;
static bool s_writer_started;

/* writer-only buffers */
static uint8_t s_frame[CSI_PROTO_MAX_FRAME];
static char s_line[CSI_TEXT_MAX_LINE];

static uint16_t s_flags(const wifi_pkt_rx_ctrl_t *rx, bool first_word_invalid)
{
    unsigned f = (rx->smoothing ? CSI_FLAG_SMOOTHING : 0) | (rx->not_sounding ? CSI_FLAG_NOT_SOUNDING : 0) |
                 (rx->aggregation ? CSI_FLAG_AGGREGATION : 0) | ((rx->stbc & 3u) << CSI_FLAG_STBC_SHIFT) |
                 (rx->fec_coding ? CSI_FLAG_FEC_CODING : 0) | (rx->sgi ? CSI_FLAG_SGI : 0) |
                 (first_word_invalid ? CSI_FLAG_FIRST_WORD_INVALID : 0) |
                 ((unsigned)csi_gainlock_wire_state(&s_gain) << CSI_FLAG_GAIN_LOCK_SHIFT);
    return (uint16_t)f;
}

/* Runs on the Wi-Fi task for every CSI report: copy and return, nothing else. */
static void s_csi_cb(void *ctx, wifi_csi_info_t *info)
{
    (void)ctx;
    uint32_t seq, tx_us;
    if (!info || !info->buf || memcmp(info->mac, s_cfg.peer_mac, 6) != 0 ||
        !csi_txpayload_find(info->payload, info->payload_len, &seq, &tx_us)) {
        csi_stats_add(&s_stats.filtered, 1);
        return;
    }
    if (!csi_stats_accept_seq(&s_stats, seq)) {
        return; /* a MAC retry of the packet just captured (counted in duplicates) */
    }
    csi_stats_add(&s_stats.captured, 1);
    const wifi_pkt_rx_ctrl_t *rx = &info->rx_ctrl;
    uint8_t agc;
    int8_t fft;
    esp_csi_gain_ctrl_get_rx_gain(rx, &agc, &fft);
    s_last_agc = agc;
    s_last_fft = fft;
    csi_gainlock_add(&s_gain, agc, fft);
    if (rx->timestamp < s_ts_last) {
        s_ts_high += 1ULL << 32;
    }
    s_ts_last = rx->timestamp;

    rx_record_t *rec = csi_ring_reserve(&s_ring);
    if (!rec) {
        return; /* counted by the ring as dropped_queue */
    }
    uint16_t len = info->len > CSI_PROTO_MAX_CSI ? CSI_PROTO_MAX_CSI : info->len;
    rec->hdr = (csi_proto_csi_t){
        .seq = seq,
        .timestamp_us = s_ts_high | rx->timestamp,
        .tx_timestamp_us = tx_us,
        .rssi = (int8_t)rx->rssi,
        .noise_floor = (int8_t)rx->noise_floor,
        .rate = (uint8_t)rx->rate,
        .sig_mode = (uint8_t)rx->sig_mode,
        .mcs = (uint8_t)rx->mcs,
        .bandwidth = (uint8_t)rx->cwb,
        .channel = (uint8_t)rx->channel,
        .secondary_channel = (uint8_t)rx->secondary_channel,
        .agc_gain = agc,
        .fft_gain = fft,
        .flags = s_flags(rx, info->first_word_invalid),
        .sig_len = (uint16_t)rx->sig_len,
        .rx_state = (uint8_t)rx->rx_state,
        .ant = (uint8_t)rx->ant,
        .csi_len = len,
    };
    memcpy(rec->mac, info->mac, 6);
    memcpy(rec->csi, info->buf, len);
    csi_ring_commit(&s_ring);
}

static void s_write(const void *data, size_t len, bool is_csi)
{
    bool ok = len && serial_out_write(data, len);
    if (is_csi) {
        csi_stats_add(ok ? &s_stats.sent : &s_stats.dropped_write, 1);
    }
}

/* Encode the oldest queued record (freeing its slot before the slow write). */
static bool s_write_one(void)
{
    const rx_record_t *rec = csi_ring_peek(&s_ring);
    if (!rec) {
        return false;
    }
    size_t n;
    const void *out;
    if (s_cfg.format == CSI_FORMAT_ESP_CSI) {
        n = csi_text_encode(s_line, sizeof(s_line), &rec->hdr, rec->mac, rec->csi);
        out = s_line;
    } else {
        n = csi_proto_encode_csi(s_frame, sizeof(s_frame), &rec->hdr, rec->csi);
        out = s_frame;
    }
    csi_ring_release(&s_ring);
    s_write(out, n, true);
    return true;
}

static void s_send_hello(void)
{
    csi_proto_hello_t hello;
    if (app_settings_hello(&s_cfg, &hello) == ESP_OK) {
        s_write(s_frame, csi_proto_encode_hello(s_frame, sizeof(s_frame), &hello), false);
    }
}

static void s_send_stats(void)
{
    csi_proto_stats_t st;
    csi_stats_snapshot(&s_stats, &s_ring, (uint64_t)esp_timer_get_time(), &st);
    bool locked = csi_gainlock_wire_state(&s_gain) == CSI_GAINLOCK_LOCKED;
    st.agc_gain = locked ? s_gain.agc_median : s_last_agc;
    st.fft_gain = locked ? s_gain.fft_median : s_last_fft;
    st.gain_lock = csi_gainlock_wire_state(&s_gain);
    st.role = CSI_ROLE_RX;
    s_write(s_frame, csi_proto_encode_stats(s_frame, sizeof(s_frame), &st), false);
}

/* The medians are known: force them (outside the Wi-Fi callback). */
static void s_service_gain_lock(void)
{
    if (__atomic_load_n(&s_gain.state, __ATOMIC_ACQUIRE) != CSI_GAINLOCK_READY) {
        return;
    }
    esp_err_t err = esp_csi_gain_ctrl_set_rx_force_gain(s_gain.agc_median, s_gain.fft_median);
    csi_gainlock_forced(&s_gain, err == ESP_OK);
    ESP_LOGI(TAG, "gain lock agc %u fft %d: %s", s_gain.agc_median, s_gain.fft_median, esp_err_to_name(err));
}

static void s_writer_task(void *arg)
{
    (void)arg;
    s_send_hello();
    int64_t next_stats = esp_timer_get_time() + RX_STATS_PERIOD_US;
    for (;;) {
        int written = 0;
        while (written < RX_BATCH && s_write_one()) {
            written++;
        }
        s_service_gain_lock();
        int64_t now = esp_timer_get_time();
        bool stats_due = now >= next_stats;
        if (stats_due) {
            s_send_stats();
            next_stats += RX_STATS_PERIOD_US;
            if (next_stats <= now) {
                next_stats = now + RX_STATS_PERIOD_US;
            }
        }
        /* requests are checked when idle, and at least once a second under overload */
        if ((written == 0 || stats_due) && serial_out_hello_requested()) {
            s_send_hello();
        }
        if (written == 0) {
            vTaskDelay(1);
        }
    }
}

static wifi_csi_config_t s_csi_config(void)
{
    wifi_csi_config_t c = {
        .lltf_en = (s_cfg.ltf_mask & CSI_LTF_LLTF) != 0,
        .htltf_en = (s_cfg.ltf_mask & CSI_LTF_HTLTF) != 0,
        .stbc_htltf2_en = (s_cfg.ltf_mask & CSI_LTF_STBC) != 0,
        .ltf_merge_en = false,      /* raw HT-LTF, not averaged with L-LTF */
        .channel_filter_en = false, /* keep adjacent subcarriers independent */
        /* manual: one fixed scale for every report (automatic rescales each report on its own,
         * so amplitudes are not comparable from packet to packet); esp-radar uses shift 4 */
        .manu_scale = s_cfg.csi_scale != 0,
        .shift = s_cfg.csi_shift,
        .dump_ack_en = false,
    };
    return c;
}

esp_err_t role_rx_start(const csi_config_t *cfg)
{
    if (!s_writer_started) { /* a retry after a failure keeps the counters */
        s_cfg = *cfg;
        csi_stats_init(&s_stats);
        csi_gainlock_init(&s_gain, cfg->gain_lock != 0, cfg->gl_packets);
        ESP_RETURN_ON_FALSE(csi_ring_init(&s_ring, s_slots, sizeof(rx_record_t), RX_QUEUE_LEN), ESP_ERR_INVALID_SIZE,
                            TAG, "queue length %u", (unsigned)RX_QUEUE_LEN);
    }
    const wifi_promiscuous_filter_t filter = {.filter_mask = WIFI_PROMIS_FILTER_MASK_MGMT};
    APP_TRY(esp_wifi_set_promiscuous_filter(&filter), "esp_wifi_set_promiscuous_filter");
    APP_TRY(esp_wifi_set_promiscuous(true), "esp_wifi_set_promiscuous");
    wifi_csi_config_t csi = s_csi_config();
    APP_TRY(esp_wifi_set_csi_config(&csi), "esp_wifi_set_csi_config");
    APP_TRY(esp_wifi_set_csi_rx_cb(s_csi_cb, NULL), "esp_wifi_set_csi_rx_cb");
    APP_TRY(esp_wifi_set_csi(true), "esp_wifi_set_csi");
    if (!s_writer_started) { /* last: until here the supervisor is the only writer on the port */
        app_status_set(CSI_STATUS_RUNNING); /* before the writer's first HELLO */
        BaseType_t ok = xTaskCreatePinnedToCore(s_writer_task, "csi_writer", 4096, NULL,
                                                CONFIG_CSI_EDGE_WRITER_PRIORITY, NULL, 1);
        APP_TRY(ok == pdPASS ? ESP_OK : ESP_ERR_NO_MEM, "writer task");
        s_writer_started = true;
    }
    ESP_LOGI(TAG, "capturing CSI (ltf mask %u, %s scaling) from %02x:%02x:%02x:%02x:%02x:%02x, queue %u frames",
             cfg->ltf_mask, cfg->csi_scale ? "manual" : "automatic", cfg->peer_mac[0], cfg->peer_mac[1],
             cfg->peer_mac[2], cfg->peer_mac[3], cfg->peer_mac[4], cfg->peer_mac[5], (unsigned)RX_QUEUE_LEN);
    return ESP_OK;
}

const csi_stats_t *role_rx_stats(void)
{
    return &s_stats;
}

const csi_ring_t *role_rx_ring(void)
{
    return &s_ring;
}
