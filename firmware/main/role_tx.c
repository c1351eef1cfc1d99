/*
 * role_tx: a periodic esp_timer sends one ESP-NOW packet per period (csi_txpayload: magic, u32
 * seq, TX timestamp) at a fixed PHY rate, power save off.
 *
 * Broadcast, not unicast. For channel sounding every period should put exactly one PPDU on the
 * air at a known time. A unicast frame that is not acknowledged (RX off, out of range, or simply
 * a lost ACK) is retried by the MAC: the retries fill the ESP-NOW queue when the RX is away
 * (ESP_ERR_ESPNOW_NO_MEM), shift the sounding instants, and give the RX several CSI reports of
 * one seq. A broadcast is sent once and never waits for an ACK, as in Espressif's esp-csi
 * (csi_send sends to ff:ff:ff:ff:ff:ff). The RX still keeps only this board's packets (source
 * MAC filter) and drops any repeat of a seq.
 *
 * Pacing: at most one send in flight (ESP-IDF esp_now.rst recommends sending the next frame
 * only after the send callback of the previous one). A period whose previous send has not
 * completed is skipped and counted (tx_skipped); seq counts periods, so a skipped period shows
 * at the RX as a missing seq, which is what it is for the sampling grid.
 *
 * Recovery: after CONFIG_CSI_EDGE_TX_RECOVER_AFTER failed periods in a row (send errors such as
 * ESP_ERR_ESPNOW_NO_MEM, or a send callback that never comes), the timer stops sending and the
 * service task (not the esp_timer task) de-initialises and re-initialises ESP-NOW, counted in
 * tx_recoveries. The service task also sends HELLO (at start and on request) and STATS (1 s).
 */
#include "role_tx.h"

#include <string.h>

#include "app_settings.h"
#include "app_status.h"
#include "csi_proto.h"
#include "csi_txpayload.h"
#include "esp_check.h"
#include "esp_idf_version.h"
#include "esp_log.h"
#include "esp_now.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"
#include "serial_out.h"

static const char *TAG = "role_tx";
static const uint8_t s_broadcast[ESP_NOW_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint32_t s_service_ms = 20;
static const uint32_t s_stats_every = 50; /* service periods: 1 s */

enum { TX_READY = 0, TX_RECOVERING = 1 };

static csi_config_t s_cfg;
static csi_stats_t s_stats;
static esp_timer_handle_t s_timer;
static uint32_t s_seq;       /* timer task: the next period's number */
static uint32_t s_fail_run;  /* failed periods in a row: timer task while READY, service task while RECOVERING */
static uint8_t s_state;      /* TX_READY / TX_RECOVERING (atomic; hands s_fail_run over) */
static uint8_t s_in_flight;  /* atomic: a send awaits its callback */
static bool s_espnow_up, s_timer_running, s_tasks_started;

/* ESP-IDF v5.5 passes send info instead of the peer MAC; the body only needs the status. */
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 5, 0)
static void s_send_cb(const esp_now_send_info_t *tx_info, esp_now_send_status_t status)
{
    (void)tx_info;
#else
static void s_send_cb(const uint8_t *mac_addr, esp_now_send_status_t status)
{
    (void)mac_addr;
#endif
    csi_stats_add(status == ESP_NOW_SEND_SUCCESS ? &s_stats.tx_sent : &s_stats.tx_send_errors, 1);
    __atomic_store_n(&s_in_flight, 0, __ATOMIC_RELEASE);
}

/* The ESP-NOW rate API ESP-IDF v5.3..v5.5 document for the ESP32-S3 (esp_now.rst "Config
 * ESP-NOW Rate"); esp_now.h marks it deprecated in favour of the per-peer API, which the docs
 * describe only for Wi-Fi 6 chips. The PHY mode follows the interface (HT20 / HT40). */
static esp_err_t s_set_rate(void)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    esp_err_t err = esp_wifi_config_espnow_rate(WIFI_IF_STA, (wifi_phy_rate_t)s_cfg.phy_rate);
#pragma GCC diagnostic pop
    return err;
}

static esp_err_t s_espnow_start(void)
{
    if (!s_espnow_up) {
        APP_TRY(esp_now_init(), "esp_now_init");
        s_espnow_up = true;
    }
    APP_TRY(esp_now_register_send_cb(s_send_cb), "esp_now_register_send_cb");
    if (!esp_now_is_peer_exist(s_broadcast)) {
        esp_now_peer_info_t peer = {0};
        memcpy(peer.peer_addr, s_broadcast, ESP_NOW_ETH_ALEN);
        peer.channel = s_cfg.channel;
        peer.ifidx = WIFI_IF_STA;
        peer.encrypt = false;
        APP_TRY(esp_now_add_peer(&peer), "esp_now_add_peer broadcast");
    }
    APP_TRY(s_set_rate(), "esp_wifi_config_espnow_rate %u", (unsigned)s_cfg.phy_rate);
    return ESP_OK;
}

/* Service task, state RECOVERING: the timer sends nothing until this returns. */
static void s_recover(void)
{
    csi_stats_add(&s_stats.tx_recoveries, 1);
    esp_err_t err = esp_now_deinit();
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "esp_now_deinit: %s", esp_err_to_name(err));
    }
    s_espnow_up = false;
    err = s_espnow_start();
    ESP_LOGW(TAG, "ESP-NOW re-initialised after %u failed periods: %s", (unsigned)s_fail_run, esp_err_to_name(err));
    if (err != ESP_OK) {
        serial_out_log(2, app_status_last_error());
        return; /* stay RECOVERING: the next service period tries again */
    }
    s_fail_run = 0;
    __atomic_store_n(&s_in_flight, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&s_state, TX_READY, __ATOMIC_RELEASE);
}

/* esp_timer task: one period. Never blocks, never re-initialises anything. */
static void s_timer_cb(void *arg)
{
    (void)arg;
    uint32_t seq = s_seq++;
    if (__atomic_load_n(&s_state, __ATOMIC_ACQUIRE) != TX_READY) {
        csi_stats_add(&s_stats.tx_skipped, 1);
        return;
    }
    bool failed;
    if (__atomic_load_n(&s_in_flight, __ATOMIC_ACQUIRE)) {
        csi_stats_add(&s_stats.tx_skipped, 1); /* the previous send has not completed */
        failed = true;
    } else {
        uint8_t payload[CSI_TXPAYLOAD_SIZE];
        csi_txpayload_pack(payload, sizeof(payload), seq, (uint32_t)esp_timer_get_time());
        __atomic_store_n(&s_in_flight, 1, __ATOMIC_RELEASE);
        failed = esp_now_send(s_broadcast, payload, sizeof(payload)) != ESP_OK;
        if (failed) {
            __atomic_store_n(&s_in_flight, 0, __ATOMIC_RELEASE);
            csi_stats_add(&s_stats.tx_send_errors, 1);
        }
    }
    s_fail_run = failed ? s_fail_run + 1 : 0;
    if (s_fail_run >= CONFIG_CSI_EDGE_TX_RECOVER_AFTER) {
        __atomic_store_n(&s_state, TX_RECOVERING, __ATOMIC_RELEASE); /* the service task takes over */
    }
}

static void s_service_task(void *arg)
{
    (void)arg;
    static uint8_t s_frame[CSI_PROTO_OVERHEAD + CSI_PROTO_HELLO_SIZE];
    bool send_hello = true;
    for (uint32_t tick = 1;; tick++) {
        if (send_hello) {
            csi_proto_hello_t hello;
            if (app_settings_hello(&s_cfg, &hello) == ESP_OK) {
                serial_out_write(s_frame, csi_proto_encode_hello(s_frame, sizeof(s_frame), &hello));
            }
        }
        vTaskDelay(pdMS_TO_TICKS(s_service_ms));
        if (__atomic_load_n(&s_state, __ATOMIC_ACQUIRE) == TX_RECOVERING) {
            s_recover();
        }
        if (tick % s_stats_every == 0) {
            csi_proto_stats_t st;
            csi_stats_snapshot(&s_stats, NULL, (uint64_t)esp_timer_get_time(), &st);
            st.role = CSI_ROLE_TX;
            serial_out_write(s_frame, csi_proto_encode_stats(s_frame, sizeof(s_frame), &st));
        }
        send_hello = serial_out_hello_requested();
    }
}

esp_err_t role_tx_start(const csi_config_t *cfg)
{
    if (!s_timer_running) { /* a retry after a failure, before any send: same settings */
        s_cfg = *cfg;
        csi_stats_init(&s_stats);
    }
    ESP_RETURN_ON_ERROR(s_espnow_start(), TAG, "ESP-NOW start");
    if (!s_timer) {
        const esp_timer_create_args_t args = {
            .callback = s_timer_cb,
            .arg = NULL,
            .dispatch_method = ESP_TIMER_TASK,
            .name = "tx_send",
            .skip_unhandled_events = true,
        };
        APP_TRY(esp_timer_create(&args, &s_timer), "esp_timer_create");
    }
    if (!s_timer_running) {
        APP_TRY(esp_timer_start_periodic(s_timer, 1000000ULL / s_cfg.rate_hz), "esp_timer_start_periodic");
        s_timer_running = true;
    }
    if (!s_tasks_started) { /* last: until here the supervisor is the only writer on the port */
        app_status_set(CSI_STATUS_RUNNING); /* before the service task's first HELLO */
        BaseType_t ok = xTaskCreatePinnedToCore(s_service_task, "tx_service", 3072, NULL, 2, NULL, 1);
        APP_TRY(ok == pdPASS ? ESP_OK : ESP_ERR_NO_MEM, "TX service task");
        s_tasks_started = true;
    }
    ESP_LOGI(TAG, "broadcasting %u Hz at rate code %u (peer RX %02x:%02x:%02x:%02x:%02x:%02x)", s_cfg.rate_hz,
             s_cfg.phy_rate, s_cfg.peer_mac[0], s_cfg.peer_mac[1], s_cfg.peer_mac[2], s_cfg.peer_mac[3],
             s_cfg.peer_mac[4], s_cfg.peer_mac[5]);
    return ESP_OK;
}

const csi_stats_t *role_tx_stats(void)
{
    return &s_stats;
}
