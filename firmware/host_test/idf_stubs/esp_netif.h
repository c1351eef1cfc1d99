/* esp_netif.h (ESP-IDF v5.x). */
#pragma once
#include "esp_err.h"
esp_err_t esp_netif_init(void);
