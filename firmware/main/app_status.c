/* app_status: board status and last failure (see app_status.h). */
#include "app_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esp_log.h"

static const char *TAG = "app_status";

static uint8_t s_status = CSI_STATUS_RUNNING;
static esp_err_t s_code = ESP_OK;
static char s_error[APP_STATUS_TEXT_LEN];

void app_status_failed(esp_err_t err, const char *what_fmt, ...)
{
    char what[APP_STATUS_TEXT_LEN - 32];
    va_list ap;
    va_start(ap, what_fmt);
    vsnprintf(what, sizeof(what), what_fmt, ap);
    va_end(ap);
    s_code = err;
    snprintf(s_error, sizeof(s_error), "%s: %s", what, esp_err_to_name(err));
    ESP_LOGE(TAG, "%s", s_error);
}

void app_status_describe(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s_error, sizeof(s_error), fmt, ap);
    va_end(ap);
}

const char *app_status_last_error(void)
{
    return s_error;
}

esp_err_t app_status_last_code(void)
{
    return s_code;
}

void app_status_set(uint8_t status)
{
    s_status = status;
    if (status == CSI_STATUS_RUNNING) {
        s_code = ESP_OK;
        s_error[0] = '\0';
    }
}

uint8_t app_status_get(void)
{
    return s_status;
}

void app_status_fill_hello(csi_proto_hello_t *h)
{
    h->status = s_status;
    h->error_code = (int32_t)s_code;
    memcpy(h->error, s_error, sizeof(h->error)); /* NUL-terminated within; the encoder pads */
}
