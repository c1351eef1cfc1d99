/*
 * csi_config: the board's link settings, their bounds and cross-field rules. Plain C99.
 *
 * The firmware starts from compiled defaults (overridden by Kconfig), then applies every key
 * found in the NVS namespace CSI_CONFIG_NVS_NAMESPACE written at flash time by
 * `csi-edge flash`. Each key has one NVS type; every value is bounds-checked here, so the
 * same rules hold on the board and in the host tests. Codes match the HELLO frame.
 *
 *   key          NVS type  range              meaning
 *   role         u8        0..1               0 TX, 1 RX
 *   channel      u8        1..14              primary Wi-Fi channel (allowed by `country`; 14: 11b only)
 *   secondary    u8        0..2               0 none, 1 above, 2 below (wifi_second_chan_t)
 *   bandwidth    u8        0..1               0 HT20, 1 HT40 (HT40 needs a secondary channel)
 *   phy_rate     u8        8..31              wifi_phy_rate_t: 11g (8..15), HT MCS0-7 LGI/SGI (16..31);
 *                                             11b codes 0..7 are refused (DSSS carries no LTF: no CSI)
 *   rate_hz      u16       1..1000            TX packet rate
 *   peer_mac     string    aa:bb:cc:dd:ee:ff  the other board (RX filters CSI on it; unicast)
 *   transport    u8        0..1               0 USB-Serial-JTAG, 1 UART (UART1, not the console)
 *   baud         u32       9600..2000000      UART baud (ignored for USB-Serial-JTAG)
 *   format       u8        0..1               0 protocol v1 binary, 1 esp-csi text
 *   gain_lock    u8        0..1               lock AGC/FFT gain after a median
 *   gl_packets   u16       10..1000           packets in the gain-lock median
 *   ltf_mask     u8        1..7               bit 0 L-LTF, 1 HT-LTF, 2 STBC-HT-LTF
 *   country      string    "01", "DE", ...    regulatory country (esp_wifi_set_country_code)
 *   csi_scale    u8        0..1               0 automatic (driver scales each report), 1 manual
 *   csi_shift    u8        0..15              manual scaling: left shift of the CSI values
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSI_CONFIG_NVS_NAMESPACE "csi_edge"

typedef enum { CSI_ROLE_TX = 0, CSI_ROLE_RX = 1 } csi_role_t;
typedef enum { CSI_TRANSPORT_USB = 0, CSI_TRANSPORT_UART = 1 } csi_transport_t;
typedef enum { CSI_FORMAT_V1 = 0, CSI_FORMAT_ESP_CSI = 1 } csi_format_t;

#define CSI_LTF_LLTF 0x01
#define CSI_LTF_HTLTF 0x02
#define CSI_LTF_STBC 0x04

typedef struct {
    uint8_t role;
    uint8_t channel;
    uint8_t secondary;
    uint8_t bandwidth;
    uint8_t phy_rate;
    uint16_t rate_hz;
    uint8_t peer_mac[6];
    uint8_t transport;
    uint32_t baud;
    uint8_t format;
    uint8_t gain_lock;
    uint16_t gl_packets;
    uint8_t ltf_mask;
    char country[3]; /* two letters (or "01", world safe mode), NUL-terminated */
    uint8_t csi_scale;
    uint8_t csi_shift;
} csi_config_t;

/* Integer keys first; the string types (MAC, country code) come last. */
typedef enum { CSI_CFG_U8, CSI_CFG_U16, CSI_CFG_U32, CSI_CFG_MAC, CSI_CFG_CC } csi_config_type_t;
#define CSI_CFG_IS_STRING(type) ((type) >= CSI_CFG_MAC)

typedef struct {
    const char *key; /* NVS key (<= 15 chars) */
    csi_config_type_t type;
    uint32_t min, max; /* inclusive bounds (integers) */
    const char *help;
} csi_config_key_t;

typedef enum {
    CSI_CFG_OK = 0,
    CSI_CFG_ERR_KEY,   /* unknown key */
    CSI_CFG_ERR_RANGE, /* value outside the key's bounds */
    CSI_CFG_ERR_VALUE, /* not a number / not a MAC / not an allowed code */
    CSI_CFG_ERR_RULE,  /* a cross-field rule failed (csi_config_check) */
} csi_config_err_t;

/** The key table (count in *n). */
const csi_config_key_t *csi_config_keys(size_t *n);
const csi_config_key_t *csi_config_find(const char *key);

/** Compiled defaults, the reference (3DO) setup the shipped model expects: RX, channel 11,
 *  HT40 with the secondary channel below, MCS0 LGI, 100 Hz, USB, v1, no gain lock, L-LTF,
 *  country "01" (ESP-IDF's default, world safe mode), manual CSI scaling with shift 4. */
void csi_config_defaults(csi_config_t *cfg);

/** Set an integer key. On error writes a one-line message into msg (may be NULL). */
csi_config_err_t csi_config_set_u32(csi_config_t *cfg, const char *key, uint32_t value,
                                    char *msg, size_t msg_len);
/** Set any key from text: decimal for integers, aa:bb:cc:dd:ee:ff for peer_mac. */
csi_config_err_t csi_config_set_str(csi_config_t *cfg, const char *key, const char *value,
                                    char *msg, size_t msg_len);
/** Integer value of a key (peer_mac: not an integer, returns 0). */
uint32_t csi_config_get_u32(const csi_config_t *cfg, const char *key);

/** Cross-field rules (HT40 needs a secondary channel, the channel and the 40 MHz pair must be
 *  allowed in the country, HT-LTF needs an HT rate, the RX needs a unicast peer, ...). */
csi_config_err_t csi_config_check(const csi_config_t *cfg, char *msg, size_t msg_len);

/** The 2.4 GHz OFDM channels `cc` allows (first..last); false for a code ESP-IDF does not know.
 *  Sources: ESP-IDF's default "01" = 1..11 and its examples US 1..11, CN 1..13, JP 1..14
 *  (api-guides/wifi.rst, esp_wifi.h, test_wifi_country.c); ETSI/EU and the other codes 1..13.
 *  Channel 14 (JP) is 802.11b-only, so it never counts: no OFDM, no CSI. */
bool csi_config_country_channels(const char *cc, uint8_t *first, uint8_t *last);

/** Is `code` an 802.11b (DSSS) wifi_phy_rate_t code (0..7)? Those frames carry no LTF. */
bool csi_config_rate_is_11b(uint32_t code);

/** Parse "aa:bb:cc:dd:ee:ff" (or '-' separated). */
bool csi_config_parse_mac(const char *text, uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
