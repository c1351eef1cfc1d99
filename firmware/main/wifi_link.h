/* wifi_link: bring Wi-Fi up in station mode under the configured country, on the configured
 * channel and bandwidth, power save off (both roles). Safe to call again after a failure. */
#pragma once

#include "csi_config.h"
#include "esp_err.h"

esp_err_t wifi_link_start(const csi_config_t *cfg);
