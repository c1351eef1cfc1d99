/*
 * app_settings: Kconfig supplies defaults, the NVS namespace "csi_edge" (written at flash
 * time by `csi-edge flash pair`) supplies the real values. Every value goes through
 * csi_config's bounds and cross-field checks, so a bad flash is reported, not obeyed.
 */
#include "app_settings.h"

#include <stdio.h>
#include <string.h>

#include "app_status.h"
#include "esp_app_desc.h"
#include "esp_check.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "nvs.h"
#include "sdkconfig.h"

static const char *TAG = "app_settings";

static esp_err_t s_apply_kconfig(csi_config_t *cfg, char *msg, size_t msg_len)
{
    const struct {
        const char *key;
        uint32_t value;
    } ints[] = {
        {"role", CONFIG_CSI_EDGE_ROLE},
        {"channel", CONFIG_CSI_EDGE_CHANNEL},
        {"secondary", CONFIG_CSI_EDGE_SECONDARY},
        {"bandwidth", CONFIG_CSI_EDGE_BANDWIDTH},
        {"phy_rate", CONFIG_CSI_EDGE_PHY_RATE},
        {"rate_hz", CONFIG_CSI_EDGE_RATE_HZ},
        {"transport", CONFIG_CSI_EDGE_TRANSPORT},
        {"baud", CONFIG_CSI_EDGE_UART_BAUD},
        {"format", CONFIG_CSI_EDGE_FORMAT},
#ifdef CONFIG_CSI_EDGE_GAIN_LOCK
        {"gain_lock", 1},
#else
        {"gain_lock", 0},
#endif
        {"gl_packets", CONFIG_CSI_EDGE_GAIN_LOCK_PACKETS},
        {"ltf_mask", CONFIG_CSI_EDGE_LTF_MASK},
        {"csi_scale", CONFIG_CSI_EDGE_CSI_SCALE},
        {"csi_shift", CONFIG_CSI_EDGE_CSI_SHIFT},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (csi_config_set_u32(cfg, ints[i].key, ints[i].value, msg, msg_len) != CSI_CFG_OK) {
            return ESP_ERR_INVALID_ARG;
        }
    }
    if (CONFIG_CSI_EDGE_PEER_MAC[0] != '\0' &&
        csi_config_set_str(cfg, "peer_mac", CONFIG_CSI_EDGE_PEER_MAC, msg, msg_len) != CSI_CFG_OK) {
        return ESP_ERR_INVALID_ARG;
    }
    if (csi_config_set_str(cfg, "country", CONFIG_CSI_EDGE_COUNTRY, msg, msg_len) != CSI_CFG_OK) {
        return ESP_ERR_INVALID_ARG;
    }
    return ESP_OK;
}

static const char *s_type_name(csi_config_type_t type)
{
    switch (type) {
    case CSI_CFG_U8: return "u8";
    case CSI_CFG_U16: return "u16";
    case CSI_CFG_U32: return "u32";
    default: return "string"; /* MAC, country code */
    }
}

/* Read one key with its NVS type; ESP_ERR_NVS_NOT_FOUND leaves the default in place. */
static esp_err_t s_load_key(nvs_handle_t nvs, const csi_config_key_t *k, csi_config_t *cfg,
                            char *msg, size_t msg_len)
{
    esp_err_t err;
    uint32_t value = 0;
    char text[24];
    size_t text_len = sizeof(text);
    switch (k->type) {
    case CSI_CFG_U8: {
        uint8_t v;
        err = nvs_get_u8(nvs, k->key, &v);
        value = v;
        break;
    }
    case CSI_CFG_U16: {
        uint16_t v;
        err = nvs_get_u16(nvs, k->key, &v);
        value = v;
        break;
    }
    case CSI_CFG_U32:
        err = nvs_get_u32(nvs, k->key, &value);
        break;
    default:
        err = nvs_get_str(nvs, k->key, text, &text_len);
        break;
    }
    nvs_type_t stored;
    if (err == ESP_ERR_NVS_NOT_FOUND && nvs_find_key(nvs, k->key, &stored) == ESP_OK) {
        /* NVS lookups are typed: a key written with another type would silently not apply */
        snprintf(msg, msg_len, "nvs %s/%s: stored with NVS type 0x%02x, the firmware reads %s",
                 CSI_CONFIG_NVS_NAMESPACE, k->key, (unsigned)stored, s_type_name(k->type));
        return ESP_ERR_NVS_TYPE_MISMATCH;
    }
    if (err == ESP_ERR_NVS_NOT_FOUND) {
        return ESP_OK; /* not set at flash time: keep the default */
    }
    if (err != ESP_OK) {
        snprintf(msg, msg_len, "nvs %s/%s: %s (wrong type?)", CSI_CONFIG_NVS_NAMESPACE, k->key,
                 esp_err_to_name(err));
        return err;
    }
    char why[128];
    csi_config_err_t res = CSI_CFG_IS_STRING(k->type) ? csi_config_set_str(cfg, k->key, text, why, sizeof(why))
                                                      : csi_config_set_u32(cfg, k->key, value, why, sizeof(why));
    if (res != CSI_CFG_OK) {
        snprintf(msg, msg_len, "nvs %s: %s", CSI_CONFIG_NVS_NAMESPACE, why);
        return ESP_ERR_INVALID_ARG;
    }
    return ESP_OK;
}

esp_err_t app_settings_load(csi_config_t *cfg, char *msg, size_t msg_len)
{
    csi_config_defaults(cfg);
    ESP_RETURN_ON_ERROR(s_apply_kconfig(cfg, msg, msg_len), TAG, "Kconfig default: %s", msg);
    nvs_handle_t nvs;
    esp_err_t err = nvs_open(CSI_CONFIG_NVS_NAMESPACE, NVS_READONLY, &nvs);
    if (err == ESP_ERR_NVS_NOT_FOUND) {
        ESP_LOGW(TAG, "no NVS namespace %s: using Kconfig defaults", CSI_CONFIG_NVS_NAMESPACE);
    } else {
        ESP_RETURN_ON_ERROR(err, TAG, "nvs_open %s", CSI_CONFIG_NVS_NAMESPACE);
        size_t n;
        const csi_config_key_t *keys = csi_config_keys(&n);
        for (size_t i = 0; i < n && err == ESP_OK; i++) {
            err = s_load_key(nvs, &keys[i], cfg, msg, msg_len);
        }
        nvs_close(nvs);
        ESP_RETURN_ON_ERROR(err, TAG, "%s", msg);
    }
    if (csi_config_check(cfg, msg, msg_len) != CSI_CFG_OK) {
        ESP_LOGE(TAG, "settings: %s", msg);
        return ESP_ERR_INVALID_ARG;
    }
    return ESP_OK;
}

esp_err_t app_settings_hello(const csi_config_t *cfg, csi_proto_hello_t *h)
{
    memset(h, 0, sizeof(*h));
    h->fw_major = APP_FW_MAJOR;
    h->fw_minor = APP_FW_MINOR;
    h->fw_patch = APP_FW_PATCH;
    h->role = cfg->role;
    /* from eFuse: works before (or without) Wi-Fi, so a board that cannot start still says who it is */
    ESP_RETURN_ON_ERROR(esp_read_mac(h->mac, ESP_MAC_WIFI_STA), TAG, "esp_read_mac");
    memcpy(h->peer_mac, cfg->peer_mac, 6);
    h->channel = cfg->channel;
    h->secondary_channel = cfg->secondary;
    h->bandwidth = cfg->bandwidth;
    h->phy_rate = cfg->phy_rate;
    h->send_rate_hz = cfg->rate_hz;
    h->transport = cfg->transport;
    h->output_format = cfg->format;
    h->uart_baud = cfg->baud;
    h->gain_lock = cfg->gain_lock;
    h->ltf_mask = cfg->ltf_mask;
    h->gain_lock_packets = cfg->gl_packets;
    h->csi_scale = cfg->csi_scale;
    h->csi_shift = cfg->csi_shift;
    memcpy(h->country, cfg->country, sizeof(cfg->country));
    app_status_fill_hello(h);
    const esp_app_desc_t *app = esp_app_get_description();
    char build[CSI_PROTO_BUILD_LEN + 1];
    snprintf(build, sizeof(build), "%.16s %.11s", app->version, app->date);
    memcpy(h->build, build, strlen(build));
    return ESP_OK;
}
