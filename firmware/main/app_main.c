/*
 * csi-edge firmware entry: load settings (Kconfig defaults + NVS), then a supervisor task
 * opens the serial transport, brings Wi-Fi up and starts the configured role.
 *
 * Nothing here aborts. A board with bad settings does not guess: it repeats a LOG frame naming
 * the problem and answers HELLO requests with status "settings refused". A start step that
 * fails at run time (an ESP-IDF call returning an error) is reported the same way (LOG frame,
 * HELLO status "retrying" with the failed call and its error) and retried with exponential
 * backoff (1 s doubling to 60 s), so `csi-edge flash pair` and `csi-edge run` can show why the
 * board is not streaming instead of watching it reboot-loop.
 */
#include <stdio.h>
#include <string.h>

#include "app_settings.h"
#include "app_status.h"
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
static const uint32_t s_backoff_first_ms = 1000;
static const uint32_t s_backoff_max_ms = 60000;
static const uint32_t s_settings_log_ms = 2000;
static const uint32_t s_poll_ms = 100;

static csi_config_t s_cfg;
static uint8_t s_frame[CSI_PROTO_OVERHEAD + CSI_PROTO_HELLO_SIZE]; /* supervisor only */

static esp_err_t s_nvs_init(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        /* Never erase: the settings partition is written by the flash tool. */
        ESP_LOGE(TAG, "NVS partition unusable (%s): reflash with csi-edge flash pair", esp_err_to_name(err));
    }
    return err;
}

static void s_send_hello(void)
{
    csi_proto_hello_t hello;
    if (app_settings_hello(&s_cfg, &hello) == ESP_OK) {
        serial_out_write(s_frame, csi_proto_encode_hello(s_frame, sizeof(s_frame), &hello));
    }
}

/* Wait `ms`, answering HELLO requests meanwhile (the transport may not be open yet). */
static void s_wait_answering(uint32_t ms, bool serial_up)
{
    for (uint32_t waited = 0; waited < ms; waited += s_poll_ms) {
        vTaskDelay(pdMS_TO_TICKS(s_poll_ms));
        if (serial_up && serial_out_hello_requested()) {
            s_send_hello();
        }
    }
}

/* Every start step; each is idempotent, so a retry resumes where the last attempt failed. */
static esp_err_t s_start(bool *serial_up)
{
    APP_TRY(serial_out_init(&s_cfg), "serial transport");
    *serial_up = true;
    esp_err_t err = wifi_link_start(&s_cfg);
    if (err == ESP_OK) {
        err = s_cfg.role == CSI_ROLE_TX ? role_tx_start(&s_cfg) : role_rx_start(&s_cfg);
    }
    return err;
}

/* Bad settings: nothing to retry until the board is reflashed; keep saying why. */
static void s_report_settings_forever(void)
{
    bool serial_up = serial_out_init(&s_cfg) == ESP_OK;
    ESP_LOGE(TAG, "not starting: %s", app_status_last_error());
    for (;;) {
        if (serial_up) {
            serial_out_log(1, app_status_last_error());
            s_send_hello();
        }
        s_wait_answering(s_settings_log_ms, serial_up);
        serial_up = serial_up || serial_out_init(&s_cfg) == ESP_OK;
    }
}

static void s_supervisor_task(void *arg)
{
    bool settings_ok = arg != NULL;
    if (!settings_ok) {
        s_report_settings_forever();
    }
    uint32_t backoff_ms = s_backoff_first_ms;
    bool serial_up = false;
    for (uint32_t attempt = 1;; attempt++) {
        if (s_start(&serial_up) == ESP_OK) {
            app_status_set(CSI_STATUS_RUNNING);
            ESP_LOGI(TAG, "started as %s after %u attempt(s)", s_cfg.role == CSI_ROLE_TX ? "TX" : "RX",
                     (unsigned)attempt);
            vTaskDelete(NULL);
            return;
        }
        app_status_set(CSI_STATUS_RETRYING);
        char failed[APP_STATUS_TEXT_LEN];
        snprintf(failed, sizeof(failed), "%s", app_status_last_error());
        app_status_describe("%.120s (try %u, next in %u s)", failed, (unsigned)attempt,
                            (unsigned)(backoff_ms / 1000));
        if (serial_up) {
            serial_out_log(1, app_status_last_error());
            s_send_hello();
        }
        s_wait_answering(backoff_ms, serial_up);
        backoff_ms = backoff_ms * 2 > s_backoff_max_ms ? s_backoff_max_ms : backoff_ms * 2;
    }
}

void app_main(void)
{
    char msg[APP_STATUS_TEXT_LEN];
    esp_err_t nvs_err = s_nvs_init();
    esp_err_t err = nvs_err == ESP_OK ? app_settings_load(&s_cfg, msg, sizeof(msg)) : nvs_err;
    if (nvs_err != ESP_OK) {
        csi_config_defaults(&s_cfg);
        snprintf(msg, sizeof(msg), "nvs_flash_init");
        app_status_failed(nvs_err, "%s", msg);
    } else if (err != ESP_OK) {
        app_status_failed(err, "%s", msg);
        app_status_describe("%s", msg); /* the settings message names the key and the rule */
    }
    if (err != ESP_OK) {
        app_status_set(CSI_STATUS_SETTINGS);
    }
    /* a non-NULL argument means "settings ok" */
    if (xTaskCreate(s_supervisor_task, "supervisor", 4096, err == ESP_OK ? &s_cfg : NULL, 3, NULL) != pdPASS) {
        ESP_LOGE(TAG, "cannot start the supervisor task");
    }
}
