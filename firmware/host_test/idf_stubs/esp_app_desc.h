/* esp_app_desc.h (ESP-IDF v5.x): leading fields of esp_app_desc_t (the ones read). */
#pragma once
#include <stdint.h>

typedef struct {
    uint32_t magic_word;
    uint32_t secure_version;
    uint32_t reserv1[2];
    char version[32];
    char project_name[32];
    char time[16];
    char date[16];
    char idf_ver[32];
} esp_app_desc_t;

const esp_app_desc_t *esp_app_get_description(void);
