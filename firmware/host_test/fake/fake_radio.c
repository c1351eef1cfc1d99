/* fake_radio: Wi-Fi, CSI, ESP-NOW and gain control as the firmware sees them (fake_idf.h). */
#include <string.h>

#include "esp_csi_gain_ctrl.h"
#include "esp_event.h"
#include "esp_netif.h"
#include "esp_now.h"
#include "esp_wifi.h"
#include "fake_idf.h"

static fake_wifi_state_t s_wifi;
static fake_espnow_state_t s_now;
static uint8_t s_mac[6] = {0x7c, 0xdf, 0xa1, 0x00, 0x00, 0x02};
static wifi_csi_cb_t s_csi_cb;
static void *s_csi_ctx;
static bool s_wifi_started, s_espnow_up, s_peer_added;
static esp_now_send_cb_t s_send_cb;
static uint32_t s_wedge_after; /* 0 = never */
static uint32_t s_ack_fail_every;

esp_err_t esp_netif_init(void) { return ESP_OK; }
esp_err_t esp_event_loop_create_default(void) { return ESP_OK; }

esp_err_t esp_wifi_init(const wifi_init_config_t *config)
{
    return config && config->magic == 0x1F2F3F4F ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t esp_wifi_set_storage(wifi_storage_t storage) { return storage <= WIFI_STORAGE_RAM ? ESP_OK : ESP_ERR_INVALID_ARG; }
esp_err_t esp_wifi_set_mode(wifi_mode_t mode) { return mode == WIFI_MODE_STA ? ESP_OK : ESP_ERR_INVALID_ARG; }

esp_err_t esp_wifi_set_protocol(wifi_interface_t ifx, uint8_t bitmap)
{
    return ifx == WIFI_IF_STA && (bitmap & WIFI_PROTOCOL_11N) ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t esp_wifi_start(void)
{
    s_wifi_started = true;
    return ESP_OK;
}

esp_err_t esp_wifi_set_ps(wifi_ps_type_t type)
{
    s_wifi.ps = type;
    return ESP_OK;
}

esp_err_t esp_wifi_set_bandwidth(wifi_interface_t ifx, wifi_bandwidth_t bw)
{
    if (!s_wifi_started || ifx != WIFI_IF_STA || (bw != WIFI_BW_HT20 && bw != WIFI_BW_HT40)) {
        return ESP_ERR_INVALID_ARG;
    }
    s_wifi.bandwidth = bw;
    return ESP_OK;
}

esp_err_t esp_wifi_set_channel(uint8_t primary, wifi_second_chan_t second)
{
    if (!s_wifi_started || primary < 1 || primary > 14 || second > WIFI_SECOND_CHAN_BELOW) {
        return ESP_ERR_INVALID_ARG;
    }
    s_wifi.channel = primary;
    s_wifi.second = second;
    return ESP_OK;
}

esp_err_t esp_wifi_get_mac(wifi_interface_t ifx, uint8_t mac[6])
{
    if (ifx != WIFI_IF_STA) {
        return ESP_ERR_INVALID_ARG;
    }
    memcpy(mac, s_mac, 6);
    return ESP_OK;
}

esp_err_t esp_wifi_set_csi_rx_cb(wifi_csi_cb_t cb, void *ctx)
{
    s_csi_cb = cb;
    s_csi_ctx = ctx;
    return ESP_OK;
}

esp_err_t esp_wifi_set_csi_config(const wifi_csi_config_t *config)
{
    if (!config || config->shift > 15) {
        return ESP_ERR_INVALID_ARG;
    }
    s_wifi.csi_config = *config;
    return ESP_OK;
}

esp_err_t esp_wifi_set_csi(bool en)
{
    s_wifi.csi_enabled = en;
    return ESP_OK;
}

void fake_wifi_set_mac(const uint8_t mac[6])
{
    memcpy(s_mac, mac, 6);
}

bool fake_wifi_inject_csi(wifi_csi_info_t *info)
{
    if (!s_csi_cb || !s_wifi.csi_enabled) {
        return false;
    }
    s_csi_cb(s_csi_ctx, info);
    return true;
}

void fake_rx_ctrl_set_gain(wifi_pkt_rx_ctrl_t *rx, uint8_t agc, int8_t fft)
{
    ((uint8_t *)rx)[22] = (uint8_t)fft;
    ((uint8_t *)rx)[23] = agc;
}

const fake_wifi_state_t *fake_wifi_state(void)
{
    return &s_wifi;
}

/* ---- esp_csi_gain_ctrl ---- */

void esp_csi_gain_ctrl_get_rx_gain(const void *rx_ctrl, uint8_t *agc_gain, int8_t *fft_gain)
{
    *fft_gain = (int8_t)((const uint8_t *)rx_ctrl)[22];
    *agc_gain = ((const uint8_t *)rx_ctrl)[23];
}

esp_err_t esp_csi_gain_ctrl_set_rx_force_gain(uint8_t agc_gain, int8_t fft_gain)
{
    if (agc_gain != 0 && agc_gain <= 25) {
        return ESP_ERR_INVALID_STATE;
    }
    s_wifi.gain_forced = agc_gain != 0 || fft_gain != 0;
    s_wifi.forced_agc = agc_gain;
    s_wifi.forced_fft = fft_gain;
    return ESP_OK;
}

/* ---- ESP-NOW ---- */

esp_err_t esp_now_init(void)
{
    if (!s_wifi_started) {
        return ESP_ERR_ESPNOW_INTERNAL;
    }
    s_espnow_up = true;
    s_now.wedged = false;
    s_now.inits++;
    return ESP_OK;
}

esp_err_t esp_now_deinit(void)
{
    s_espnow_up = false;
    s_peer_added = false;
    s_send_cb = NULL;
    s_now.deinits++;
    return ESP_OK;
}

esp_err_t esp_now_register_send_cb(esp_now_send_cb_t cb)
{
    if (!s_espnow_up) {
        return ESP_ERR_ESPNOW_NOT_INIT;
    }
    s_send_cb = cb;
    return ESP_OK;
}

esp_err_t esp_now_add_peer(const esp_now_peer_info_t *peer)
{
    if (!s_espnow_up) {
        return ESP_ERR_ESPNOW_NOT_INIT;
    }
    if (!peer || peer->ifidx != WIFI_IF_STA || (peer->channel != 0 && peer->channel != s_wifi.channel)) {
        return ESP_ERR_ESPNOW_ARG;
    }
    if (s_peer_added) {
        return ESP_ERR_ESPNOW_EXIST;
    }
    memcpy(s_now.peer, peer->peer_addr, 6);
    s_peer_added = true;
    return ESP_OK;
}

esp_err_t esp_now_set_peer_rate_config(const uint8_t *peer_addr, esp_now_rate_config_t *config)
{
    if (!s_espnow_up) {
        return ESP_ERR_ESPNOW_NOT_INIT;
    }
    if (!peer_addr || !config || memcmp(peer_addr, s_now.peer, 6) != 0) {
        return ESP_ERR_ESPNOW_ARG;
    }
    s_now.rate = *config;
    return ESP_OK;
}

esp_err_t esp_now_send(const uint8_t *peer_addr, const uint8_t *data, size_t len)
{
    s_now.send_calls++;
    if (!s_espnow_up) {
        return ESP_ERR_ESPNOW_NOT_INIT;
    }
    if (!data || len == 0 || len > 250) {
        return ESP_ERR_ESPNOW_ARG;
    }
    if (!peer_addr || !s_peer_added || memcmp(peer_addr, s_now.peer, 6) != 0) {
        return ESP_ERR_ESPNOW_NOT_FOUND;
    }
    if (s_now.wedged) {
        s_now.send_no_mem++;
        return ESP_ERR_ESPNOW_NO_MEM;
    }
    s_now.send_ok++;
    if (s_wedge_after && --s_wedge_after == 0) {
        s_now.wedged = true;
    }
    if (s_send_cb) {
        bool fail = s_ack_fail_every && s_now.send_ok % s_ack_fail_every == 0;
        s_send_cb(peer_addr, fail ? ESP_NOW_SEND_FAIL : ESP_NOW_SEND_SUCCESS);
    }
    return ESP_OK;
}

const fake_espnow_state_t *fake_espnow_state(void)
{
    return &s_now;
}

void fake_espnow_wedge_after(uint32_t after_sends)
{
    s_wedge_after = after_sends;
}

void fake_espnow_ack_fail_every(uint32_t k)
{
    s_ack_fail_every = k;
}
