/*
 * esp_wifi_types.h (ESP-IDF v5.x; types from esp_wifi_types_generic.h and, for the ESP32-S3,
 * local/esp_wifi_types_native.h). wifi_pkt_rx_ctrl_t is the ESP32-S3 layout (48 bytes; the
 * esp_csi_gain_ctrl component reads fft_gain / agc_gain from reserved bytes 22 / 23).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

typedef enum { WIFI_MODE_NULL = 0, WIFI_MODE_STA, WIFI_MODE_AP, WIFI_MODE_APSTA } wifi_mode_t;
typedef enum { WIFI_IF_STA = 0, WIFI_IF_AP = 1 } wifi_interface_t;
typedef enum { WIFI_SECOND_CHAN_NONE = 0, WIFI_SECOND_CHAN_ABOVE, WIFI_SECOND_CHAN_BELOW } wifi_second_chan_t;
typedef enum { WIFI_BW_HT20 = 1, WIFI_BW_HT40 = 2 } wifi_bandwidth_t;
typedef enum { WIFI_PS_NONE, WIFI_PS_MIN_MODEM, WIFI_PS_MAX_MODEM } wifi_ps_type_t;
typedef enum { WIFI_STORAGE_FLASH, WIFI_STORAGE_RAM } wifi_storage_t;

typedef enum { WIFI_COUNTRY_POLICY_AUTO, WIFI_COUNTRY_POLICY_MANUAL } wifi_country_policy_t;

typedef struct {
    char cc[3];
    uint8_t schan;
    uint8_t nchan;
    int8_t max_tx_power;
    wifi_country_policy_t policy;
} wifi_country_t;

typedef struct {
    uint32_t filter_mask;
} wifi_promiscuous_filter_t;

#define WIFI_PROMIS_FILTER_MASK_ALL (0xFFFFFFFF)
#define WIFI_PROMIS_FILTER_MASK_MGMT (1)
#define WIFI_PROMIS_FILTER_MASK_CTRL (1 << 1)
#define WIFI_PROMIS_FILTER_MASK_DATA (1 << 2)

#define WIFI_PROTOCOL_11B 0x1
#define WIFI_PROTOCOL_11G 0x2
#define WIFI_PROTOCOL_11N 0x4

typedef enum {
    WIFI_PHY_MODE_LR,
    WIFI_PHY_MODE_11B,
    WIFI_PHY_MODE_11G,
    WIFI_PHY_MODE_11A,
    WIFI_PHY_MODE_HT20,
    WIFI_PHY_MODE_HT40,
    WIFI_PHY_MODE_HE20,
    WIFI_PHY_MODE_VHT20,
} wifi_phy_mode_t;

/* wifi_phy_rate_t: codes 0x00..0x1F (11b, 11g, HT MCS0-7 LGI/SGI); the firmware passes the
 * configured code through, so only the type and the first names are spelled out here. */
typedef enum {
    WIFI_PHY_RATE_1M_L = 0x00,
    WIFI_PHY_RATE_6M = 0x0B,
    WIFI_PHY_RATE_MCS0_LGI = 0x10,
    WIFI_PHY_RATE_MCS0_SGI = 0x18,
    WIFI_PHY_RATE_MCS7_SGI = 0x1F,
    WIFI_PHY_RATE_MAX,
} wifi_phy_rate_t;

typedef struct {
    signed rssi : 8;
    unsigned rate : 5;
    unsigned : 1;
    unsigned sig_mode : 2;
    unsigned : 16;
    unsigned mcs : 7;
    unsigned cwb : 1;
    unsigned : 16;
    unsigned smoothing : 1;
    unsigned not_sounding : 1;
    unsigned : 1;
    unsigned aggregation : 1;
    unsigned stbc : 2;
    unsigned fec_coding : 1;
    unsigned sgi : 1;
    unsigned : 8;
    unsigned ampdu_cnt : 8;
    unsigned channel : 4;
    unsigned secondary_channel : 4;
    unsigned : 8;
    unsigned timestamp : 32;
    unsigned : 32;
    signed noise_floor : 8;
    unsigned : 24;
    unsigned : 32;
    unsigned : 31;
    unsigned ant : 1;
    unsigned : 32;
    unsigned : 32;
    unsigned : 32;
    unsigned sig_len : 12;
    unsigned : 12;
    unsigned rx_state : 8;
} wifi_pkt_rx_ctrl_t;

typedef struct {
    bool lltf_en;
    bool htltf_en;
    bool stbc_htltf2_en;
    bool ltf_merge_en;
    bool channel_filter_en;
    bool manu_scale;
    uint8_t shift;
    bool dump_ack_en;
} wifi_csi_config_t;

typedef struct wifi_csi_info_t {
    wifi_pkt_rx_ctrl_t rx_ctrl;
    uint8_t mac[6];
    uint8_t dmac[6];
    bool first_word_invalid;
    int8_t *buf;
    uint16_t len;
    uint8_t *hdr;
    uint8_t *payload;
    uint16_t payload_len;
    uint16_t rx_seq;
} wifi_csi_info_t;

typedef void (*wifi_csi_cb_t)(void *ctx, wifi_csi_info_t *data);

/* wifi_init_config_t is opaque to the firmware: it only passes WIFI_INIT_CONFIG_DEFAULT(). */
typedef struct {
    int magic;
} wifi_init_config_t;
#define WIFI_INIT_CONFIG_DEFAULT() {.magic = 0x1F2F3F4F}
