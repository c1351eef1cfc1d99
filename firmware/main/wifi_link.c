/*
 * wifi_link: station mode (never connects), regulatory country, fixed channel / secondary /
 * bandwidth, power save off. Every call is checked and a failure recorded (APP_TRY) for the
 * HELLO; the one-time steps remember that they are done, so the supervisor can call
 * wifi_link_start() again after a failure and it resumes where it stopped.
 */
#include "wifi_link.h"

#include <stdbool.h>

#include "app_status.h"
#include "esp_check.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_wifi.h"

static const char *TAG = "wifi_link";

static bool s_netif_done, s_loop_done, s_init_done, s_started;

/* The driver's own channel table for the country we set: the authority on the board. */
static esp_err_t s_check_driver_channels(const csi_config_t *cfg)
{
    wifi_country_t country;
    APP_TRY(esp_wifi_get_country(&country), "esp_wifi_get_country");
    unsigned first = country.schan, last = country.schan + country.nchan - 1;
    unsigned pair = cfg->secondary == 1 ? cfg->channel + 4u : cfg->secondary == 2 ? cfg->channel - 4u : cfg->channel;
    if (cfg->channel < first || cfg->channel > last || pair < first || pair > last) {
        app_status_failed(ESP_ERR_INVALID_ARG, "channel %u%s: the driver allows %u..%u in country %.2s",
                          (unsigned)cfg->channel, cfg->secondary ? " (HT40 pair)" : "", first, last, country.cc);
        return ESP_ERR_INVALID_ARG;
    }
    return ESP_OK;
}

esp_err_t wifi_link_start(const csi_config_t *cfg)
{
    if (!s_netif_done) {
        APP_TRY(esp_netif_init(), "esp_netif_init");
        s_netif_done = true;
    }
    if (!s_loop_done) {
        APP_TRY(esp_event_loop_create_default(), "esp_event_loop_create_default");
        s_loop_done = true;
    }
    if (!s_init_done) {
        wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
        APP_TRY(esp_wifi_init(&init), "esp_wifi_init");
        s_init_done = true;
    }
    APP_TRY(esp_wifi_set_storage(WIFI_STORAGE_RAM), "esp_wifi_set_storage");
    APP_TRY(esp_wifi_set_mode(WIFI_MODE_STA), "esp_wifi_set_mode");
    APP_TRY(esp_wifi_set_protocol(WIFI_IF_STA, WIFI_PROTOCOL_11B | WIFI_PROTOCOL_11G | WIFI_PROTOCOL_11N),
            "esp_wifi_set_protocol");
    /* 802.11d off: the configured country always applies (we never join an AP anyway) */
    APP_TRY(esp_wifi_set_country_code(cfg->country, false), "esp_wifi_set_country_code %s", cfg->country);
    if (!s_started) {
        APP_TRY(esp_wifi_start(), "esp_wifi_start");
        s_started = true;
    }
    APP_TRY(esp_wifi_set_ps(WIFI_PS_NONE), "esp_wifi_set_ps");
    APP_TRY(esp_wifi_set_bandwidth(WIFI_IF_STA, cfg->bandwidth ? WIFI_BW_HT40 : WIFI_BW_HT20),
            "esp_wifi_set_bandwidth HT%u", cfg->bandwidth ? 40u : 20u);
    ESP_RETURN_ON_ERROR(s_check_driver_channels(cfg), TAG, "channel");
    APP_TRY(esp_wifi_set_channel(cfg->channel, (wifi_second_chan_t)cfg->secondary), "esp_wifi_set_channel %u/%u",
            (unsigned)cfg->channel, (unsigned)cfg->secondary);
    ESP_LOGI(TAG, "country %s channel %u secondary %u bandwidth %s", cfg->country, cfg->channel, cfg->secondary,
             cfg->bandwidth ? "HT40" : "HT20");
    return ESP_OK;
}
