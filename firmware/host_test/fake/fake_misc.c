/* fake_misc: logging (to the UART0 console, and to stderr when FAKE_IDF_LOG is set), error
 * names, the app description, and failure injection. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_app_desc.h"
#include "esp_err.h"
#include "esp_log.h"
#include "esp_now.h"
#include "esp_wifi.h"
#include "fake_idf.h"
#include "nvs.h"

static esp_log_level_t s_level = ESP_LOG_INFO;

void esp_log_level_set(const char *tag, esp_log_level_t level)
{
    (void)tag;
    s_level = level;
}

void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
{
    if (level > s_level || level == ESP_LOG_NONE) {
        return;
    }
    char line[256];
    int n = snprintf(line, sizeof(line), "%c (%llu) %s: ", "NEWIDV"[level],
                     (unsigned long long)(fake_now_us() / 1000), tag);
    va_list ap;
    va_start(ap, format);
    if (n > 0 && (size_t)n < sizeof(line)) {
        n += vsnprintf(line + n, sizeof(line) - (size_t)n, format, ap);
    }
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line) - 2) {
        n = (int)sizeof(line) - 3;
    }
    line[n++] = '\r';
    line[n++] = '\n';
    fake_console_write(line, (size_t)n);
    if (getenv("FAKE_IDF_LOG")) {
        fwrite(line, 1, (size_t)n, stderr);
    }
}

const char *esp_err_to_name(esp_err_t code)
{
    switch (code) {
    case ESP_OK: return "ESP_OK";
    case ESP_FAIL: return "ESP_FAIL";
    case ESP_ERR_NO_MEM: return "ESP_ERR_NO_MEM";
    case ESP_ERR_INVALID_ARG: return "ESP_ERR_INVALID_ARG";
    case ESP_ERR_INVALID_STATE: return "ESP_ERR_INVALID_STATE";
    case ESP_ERR_TIMEOUT: return "ESP_ERR_TIMEOUT";
    case ESP_ERR_NVS_NOT_FOUND: return "ESP_ERR_NVS_NOT_FOUND";
    case ESP_ERR_WIFI_NOT_INIT: return "ESP_ERR_WIFI_NOT_INIT";
    case ESP_ERR_WIFI_NOT_STARTED: return "ESP_ERR_WIFI_NOT_STARTED";
    case ESP_ERR_ESPNOW_NO_MEM: return "ESP_ERR_ESPNOW_NO_MEM";
    case ESP_ERR_ESPNOW_NOT_INIT: return "ESP_ERR_ESPNOW_NOT_INIT";
    case ESP_ERR_ESPNOW_INTERNAL: return "ESP_ERR_ESPNOW_INTERNAL";
    case ESP_ERR_ESPNOW_ARG: return "ESP_ERR_ESPNOW_ARG";
    default: return "ESP_ERR_(other)";
    }
}

const esp_app_desc_t *esp_app_get_description(void)
{
    static const esp_app_desc_t s_desc = {
        .magic_word = 0xABCD5432u,
        .version = "1.1.0-host",
        .project_name = "csi_edge",
        .time = "00:00:00",
        .date = "Nov 29 2026",
        .idf_ver = "v5.4-host-stubs",
    };
    return &s_desc;
}

/* ---- failure injection ---- */

static struct {
    char api[48];
    esp_err_t err;
    uint32_t times;
} s_fail[8];

void fake_fail(const char *api, esp_err_t err, uint32_t times)
{
    for (size_t i = 0; i < sizeof(s_fail) / sizeof(s_fail[0]); i++) {
        if (s_fail[i].times == 0) {
            snprintf(s_fail[i].api, sizeof(s_fail[i].api), "%s", api);
            s_fail[i].err = err;
            s_fail[i].times = times;
            return;
        }
    }
    abort();
}

esp_err_t fake_injected(const char *api)
{
    for (size_t i = 0; i < sizeof(s_fail) / sizeof(s_fail[0]); i++) {
        if (s_fail[i].times && !strcmp(s_fail[i].api, api)) {
            s_fail[i].times--;
            return s_fail[i].err;
        }
    }
    return ESP_OK;
}
