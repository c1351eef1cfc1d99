/* app_status: what the board is doing, and the last failure, for HELLO and LOG frames.
 *
 * Start steps record a failure with APP_TRY (the call, its arguments and the esp_err_t name);
 * the supervisor in app_main turns it into a status (settings refused, or retrying with
 * backoff) that every HELLO carries, so `csi-edge flash pair` and `csi-edge run` can say why a
 * board is not streaming. Written by the supervisor before any role task exists; read by
 * whoever sends a HELLO afterwards. */
#pragma once

#include <stdint.h>

#include "csi_proto.h"
#include "esp_err.h"

/* Longest failure text kept (LOG frames carry all of it; HELLO the first CSI_PROTO_ERROR_LEN). */
#define APP_STATUS_TEXT_LEN 160

/** Record a failed call: "what: ESP_ERR_NAME" (also logged on the console). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void app_status_failed(esp_err_t err, const char *what_fmt, ...);

/** The last failure recorded ("" if none) and its code. */
const char *app_status_last_error(void);
esp_err_t app_status_last_code(void);

/** Set the HELLO status (csi_proto_status_t); RUNNING clears the last failure. */
void app_status_set(uint8_t status);
uint8_t app_status_get(void);

/** Replace the last failure's text (e.g. add the retry plan to it). */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void app_status_describe(const char *fmt, ...);

/** Status, error code and error text into a HELLO. */
void app_status_fill_hello(csi_proto_hello_t *hello);

/* Like ESP_RETURN_ON_ERROR, but the failure is recorded for HELLO / LOG. */
#define APP_TRY(call, ...)                         \
    do {                                           \
        esp_err_t app_err_ = (call);               \
        if (app_err_ != ESP_OK) {                  \
            app_status_failed(app_err_, __VA_ARGS__); \
            return app_err_;                       \
        }                                          \
    } while (0)
