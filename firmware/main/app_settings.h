/* app_settings: load the link settings (Kconfig defaults + NVS namespace csi_edge) and
 * describe the board in a HELLO frame. */
#pragma once

#include <stddef.h>

#include "csi_config.h"
#include "csi_proto.h"
#include "esp_err.h"

#define APP_FW_MAJOR 1
#define APP_FW_MINOR 1
#define APP_FW_PATCH 0

/** Defaults from Kconfig, then every key present in NVS. On a bad value returns
 *  ESP_ERR_INVALID_ARG and a one-line message naming the key; cfg keeps what was valid. */
esp_err_t app_settings_load(csi_config_t *cfg, char *msg, size_t msg_len);

/** Fill a HELLO payload: firmware version, build id, this board's MAC, full config, and the
 *  board's status and last failure (app_status). */
esp_err_t app_settings_hello(const csi_config_t *cfg, csi_proto_hello_t *hello);
