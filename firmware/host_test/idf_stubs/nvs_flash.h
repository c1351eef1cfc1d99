/* nvs_flash.h (ESP-IDF v5.x). */
#pragma once
#include "esp_err.h"
#include "nvs.h"
esp_err_t nvs_flash_init(void);
