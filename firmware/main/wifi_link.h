/* wifi_link: bring Wi-Fi up in station mode on the configured channel and bandwidth, power
 * save off (both roles). */
#pragma once

#include "csi_config.h"
#include "esp_err.h"

esp_err_t wifi_link_start(const csi_config_t *cfg);
