/* wifi_link: station mode, fixed channel/secondary/bandwidth, power save off, no connect. */
#include "wifi_link.h"

#include "esp_check.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_wifi.h"

static const char *TAG = "wifi_link";

esp_err_t wifi_link_start(const csi_config_t *cfg)
{
    ESP_RETURN_ON_ERROR(esp_netif_init(), TAG, "esp_netif_init");
    ESP_RETURN_ON_ERROR(esp_event_loop_create_default(), TAG, "esp_event_loop_create_default");
    wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
    ESP_RETURN_ON_ERROR(esp_wifi_init(&init), TAG, "esp_wifi_init");
    ESP_RETURN_ON_ERROR(esp_wifi_set_storage(WIFI_STORAGE_RAM), TAG, "esp_wifi_set_storage");
    ESP_RETURN_ON_ERROR(esp_wifi_set_mode(WIFI_MODE_STA), TAG, "esp_wifi_set_mode");
    ESP_RETURN_ON_ERROR(esp_wifi_set_protocol(WIFI_IF_STA, WIFI_PROTOCOL_11B | WIFI_PROTOCOL_11G | WIFI_PROTOCOL_11N),
                        TAG, "esp_wifi_set_protocol");
    ESP_RETURN_ON_ERROR(esp_wifi_start(), TAG, "esp_wifi_start");
    ESP_RETURN_ON_ERROR(esp_wifi_set_ps(WIFI_PS_NONE), TAG, "esp_wifi_set_ps");
    ESP_RETURN_ON_ERROR(esp_wifi_set_bandwidth(WIFI_IF_STA, cfg->bandwidth ? WIFI_BW_HT40 : WIFI_BW_HT20), TAG,
                        "esp_wifi_set_bandwidth");
    ESP_RETURN_ON_ERROR(esp_wifi_set_channel(cfg->channel, (wifi_second_chan_t)cfg->secondary), TAG,
                        "esp_wifi_set_channel %u/%u", cfg->channel, cfg->secondary);
    ESP_LOGI(TAG, "channel %u secondary %u bandwidth %s", cfg->channel, cfg->secondary,
             cfg->bandwidth ? "HT40" : "HT20");
    return ESP_OK;
}
