/* fake_misc: logging, error names and the app description. Logs print only when the
 * environment has FAKE_IDF_LOG set (tests stay quiet). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "esp_app_desc.h"
#include "esp_err.h"
#include "esp_log.h"
#include "esp_now.h"
#include "nvs.h"

static esp_log_level_t s_level = ESP_LOG_INFO;

void esp_log_level_set(const char *tag, esp_log_level_t level)
{
    (void)tag;
    s_level = level;
}

void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
{
    if (level > s_level || !getenv("FAKE_IDF_LOG")) {
        return;
    }
    va_list ap;
    va_start(ap, format);
    fprintf(stderr, "%c (%s) ", "NEWIDV"[level], tag);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *esp_err_to_name(esp_err_t code)
{
    switch (code) {
    case ESP_OK: return "ESP_OK";
    case ESP_FAIL: return "ESP_FAIL";
    case ESP_ERR_NO_MEM: return "ESP_ERR_NO_MEM";
    case ESP_ERR_INVALID_ARG: return "ESP_ERR_INVALID_ARG";
    case ESP_ERR_INVALID_STATE: return "ESP_ERR_INVALID_STATE";
    case ESP_ERR_NVS_NOT_FOUND: return "ESP_ERR_NVS_NOT_FOUND";
    case ESP_ERR_ESPNOW_NO_MEM: return "ESP_ERR_ESPNOW_NO_MEM";
    case ESP_ERR_ESPNOW_NOT_INIT: return "ESP_ERR_ESPNOW_NOT_INIT";
    default: return "ESP_ERR_(other)";
    }
}

const esp_app_desc_t *esp_app_get_description(void)
{
    static const esp_app_desc_t s_desc = {
        .magic_word = 0xABCD5432u,
        .version = "1.0.0-host",
        .project_name = "csi_edge",
        .time = "00:00:00",
        .date = "Nov 22 2026",
        .idf_ver = "v5.4-host-stubs",
    };
    return &s_desc;
}
