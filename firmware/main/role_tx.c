/*
 * role_tx: a periodic esp_timer sends one ESP-NOW packet (csi_txpayload: magic, u32 seq,
 * TX timestamp) to the peer per period, at a fixed PHY rate, power save off. Send failures
 * are counted in tx_send_errors: esp_now_send errors and send callbacks reporting
 * ESP_NOW_SEND_FAIL (no ACK: the RX is off or out of range, not a wedge). After
 * CONFIG_CSI_EDGE_TX_RECOVER_AFTER esp_now_send errors in a row (ESP-NOW wedged, e.g. every
 * send returning ESP_ERR_ESPNOW_NO_MEM) ESP-NOW is de-initialised and initialised again,
 * counted in tx_recoveries. A report task sends HELLO at boot and STATS every second.
 */
#include "role_tx.h"

#include <string.h>

#include "app_settings.h"
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

static csi_config_t s_cfg;
static csi_stats_t s_stats;
static esp_timer_handle_t s_timer;
static uint32_t s_seq;
static uint32_t s_fail_run; /* esp_now_send errors in a row (timer task only) */

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
}

static wifi_phy_mode_t s_phy_mode(void)
{
    if (s_cfg.phy_rate <= 7) {
        return WIFI_PHY_MODE_11B;
    }
    if (s_cfg.phy_rate <= 15) {
        return WIFI_PHY_MODE_11G;
    }
    return s_cfg.bandwidth ? WIFI_PHY_MODE_HT40 : WIFI_PHY_MODE_HT20;
}

static esp_err_t s_espnow_start(void)
{
    ESP_RETURN_ON_ERROR(esp_now_init(), TAG, "esp_now_init");
    ESP_RETURN_ON_ERROR(esp_now_register_send_cb(s_send_cb), TAG, "esp_now_register_send_cb");
    esp_now_peer_info_t peer = {0};
    memcpy(peer.peer_addr, s_cfg.peer_mac, ESP_NOW_ETH_ALEN);
    peer.channel = s_cfg.channel;
    peer.ifidx = WIFI_IF_STA;
    peer.encrypt = false;
    ESP_RETURN_ON_ERROR(esp_now_add_peer(&peer), TAG, "esp_now_add_peer");
    esp_now_rate_config_t rate = {
        .phymode = s_phy_mode(),
        .rate = (wifi_phy_rate_t)s_cfg.phy_rate,
        .ersu = false,
        .dcm = false,
    };
    ESP_RETURN_ON_ERROR(esp_now_set_peer_rate_config(s_cfg.peer_mac, &rate), TAG, "esp_now_set_peer_rate_config");
    return ESP_OK;
}

/* ESP-NOW is wedged: tear it down and bring it back; the next period tries again if not. */
static void s_recover(void)
{
    csi_stats_add(&s_stats.tx_recoveries, 1);
    s_fail_run = 0;
    esp_err_t err = esp_now_deinit();
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "esp_now_deinit: %s", esp_err_to_name(err));
    }
    err = s_espnow_start();
    ESP_LOGW(TAG, "ESP-NOW re-initialised after %u send errors: %s",
             (unsigned)csi_stats_get(&s_stats.tx_send_errors), esp_err_to_name(err));
}

static void s_timer_cb(void *arg)
{
    (void)arg;
    if (s_fail_run >= CONFIG_CSI_EDGE_TX_RECOVER_AFTER) {
        s_recover();
    }
    uint8_t payload[CSI_TXPAYLOAD_SIZE];
    csi_txpayload_pack(payload, sizeof(payload), s_seq++, (uint32_t)esp_timer_get_time());
    if (esp_now_send(s_cfg.peer_mac, payload, sizeof(payload)) == ESP_OK) {
        s_fail_run = 0;
    } else {
        s_fail_run++;
        csi_stats_add(&s_stats.tx_send_errors, 1);
    }
}

static void s_report_task(void *arg)
{
    (void)arg;
    static uint8_t s_frame[CSI_PROTO_OVERHEAD + CSI_PROTO_HELLO_SIZE];
    csi_proto_hello_t hello;
    bool send_hello = app_settings_hello(&s_cfg, &hello) == ESP_OK;
    TickType_t period = pdMS_TO_TICKS(1000);
    for (;;) {
        if (send_hello) {
            serial_out_write(s_frame, csi_proto_encode_hello(s_frame, sizeof(s_frame), &hello));
        }
        vTaskDelay(period);
        csi_proto_stats_t st;
        csi_stats_snapshot(&s_stats, NULL, (uint64_t)esp_timer_get_time(), &st);
        st.role = CSI_ROLE_TX;
        serial_out_write(s_frame, csi_proto_encode_stats(s_frame, sizeof(s_frame), &st));
        send_hello = serial_out_hello_requested();
    }
}

esp_err_t role_tx_start(const csi_config_t *cfg)
{
    s_cfg = *cfg;
    csi_stats_init(&s_stats);
    ESP_RETURN_ON_ERROR(s_espnow_start(), TAG, "ESP-NOW start");
    BaseType_t ok = xTaskCreatePinnedToCore(s_report_task, "tx_report", 3072, NULL, 2, NULL, 1);
    ESP_RETURN_ON_FALSE(ok == pdPASS, ESP_ERR_NO_MEM, TAG, "report task");
    const esp_timer_create_args_t args = {
        .callback = s_timer_cb,
        .arg = NULL,
        .dispatch_method = ESP_TIMER_TASK,
        .name = "tx_send",
        .skip_unhandled_events = true,
    };
    ESP_RETURN_ON_ERROR(esp_timer_create(&args, &s_timer), TAG, "esp_timer_create");
    ESP_RETURN_ON_ERROR(esp_timer_start_periodic(s_timer, 1000000ULL / s_cfg.rate_hz), TAG, "esp_timer_start_periodic");
    ESP_LOGI(TAG, "sending %u Hz to %02x:%02x:%02x:%02x:%02x:%02x at rate code %u", s_cfg.rate_hz,
             s_cfg.peer_mac[0], s_cfg.peer_mac[1], s_cfg.peer_mac[2], s_cfg.peer_mac[3], s_cfg.peer_mac[4],
             s_cfg.peer_mac[5], s_cfg.phy_rate);
    return ESP_OK;
}

const csi_stats_t *role_tx_stats(void)
{
    return &s_stats;
}
