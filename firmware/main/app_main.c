/*
 * csi-edge firmware entry: load settings (Kconfig defaults + NVS), open the serial transport,
 * bring Wi-Fi up, start the configured role. A board with bad settings does not guess: it
 * repeats a LOG frame naming the problem so `csi-edge flash pair` and the host can show it.
 */
#include <stdio.h>
#include <string.h>

#include "app_settings.h"
#include "esp_check.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"
#include "role_rx.h"
#include "role_tx.h"
#include "serial_out.h"
#include "wifi_link.h"

static const char *TAG = "csi_edge";
static char s_config_error[120];

static esp_err_t s_nvs_init(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        /* Never erase: the settings partition is written by the flash tool. */
        ESP_LOGE(TAG, "NVS partition unusable (%s): reflash with csi-edge flash pair", esp_err_to_name(err));
    }
    return err;
}

static void s_config_error_task(void *arg)
{
    (void)arg;
    for (;;) {
        serial_out_log(1, s_config_error);
        vTaskDelay(pdMS_TO_TICKS(2000));
    }
}

void app_main(void)
{
    static csi_config_t cfg;
    esp_err_t nvs_err = s_nvs_init();
    esp_err_t err = nvs_err == ESP_OK ? app_settings_load(&cfg, s_config_error, sizeof(s_config_error)) : nvs_err;
    if (nvs_err != ESP_OK) {
        csi_config_defaults(&cfg);
        snprintf(s_config_error, sizeof(s_config_error), "nvs_flash_init: %s", esp_err_to_name(nvs_err));
    }
    ESP_ERROR_CHECK(serial_out_init(&cfg));
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "not starting: %s", s_config_error);
        if (xTaskCreate(s_config_error_task, "config_error", 3072, NULL, 1, NULL) != pdPASS) {
            ESP_LOGE(TAG, "cannot start the config error reporter");
        }
        return;
    }
    ESP_ERROR_CHECK(wifi_link_start(&cfg));
    if (cfg.role == CSI_ROLE_TX) {
        ESP_ERROR_CHECK(role_tx_start(&cfg));
    } else {
        ESP_ERROR_CHECK(role_rx_start(&cfg));
    }
    ESP_LOGI(TAG, "started as %s", cfg.role == CSI_ROLE_TX ? "TX" : "RX");
}
