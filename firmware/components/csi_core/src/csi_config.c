/* csi_config: settings table, bounds and cross-field rules (see csi_config.h). */
#include "csi_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const csi_config_key_t s_keys[] = {
    {"role", CSI_CFG_U8, 0, 1, "0 TX, 1 RX"},
    {"channel", CSI_CFG_U8, 1, 14, "primary Wi-Fi channel"},
    {"secondary", CSI_CFG_U8, 0, 2, "secondary channel: 0 none, 1 above, 2 below"},
    {"bandwidth", CSI_CFG_U8, 0, 1, "0 HT20, 1 HT40"},
    {"phy_rate", CSI_CFG_U8, 0, 31, "wifi_phy_rate_t code of the TX"},
    {"rate_hz", CSI_CFG_U16, 1, 1000, "TX packets per second"},
    {"peer_mac", CSI_CFG_MAC, 0, 0, "MAC of the other board"},
    {"transport", CSI_CFG_U8, 0, 1, "0 USB-Serial-JTAG, 1 UART"},
    {"baud", CSI_CFG_U32, 9600, 2000000, "UART baud"},
    {"format", CSI_CFG_U8, 0, 1, "0 protocol v1, 1 esp-csi text"},
    {"gain_lock", CSI_CFG_U8, 0, 1, "lock AGC/FFT gain after a median"},
    {"gl_packets", CSI_CFG_U16, 10, 1000, "packets in the gain-lock median"},
    {"ltf_mask", CSI_CFG_U8, 1, 7, "bit 0 L-LTF, 1 HT-LTF, 2 STBC-HT-LTF"},
};

#define S_NKEYS (sizeof(s_keys) / sizeof(s_keys[0]))

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static csi_config_err_t s_fail(csi_config_err_t err, char *msg, size_t msg_len, const char *fmt, ...)
{
    if (msg && msg_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msg_len, fmt, ap);
        va_end(ap);
    }
    return err;
}

const csi_config_key_t *csi_config_keys(size_t *n)
{
    *n = S_NKEYS;
    return s_keys;
}

const csi_config_key_t *csi_config_find(const char *key)
{
    for (size_t i = 0; i < S_NKEYS; i++) {
        if (strcmp(s_keys[i].key, key) == 0) {
            return &s_keys[i];
        }
    }
    return NULL;
}

void csi_config_defaults(csi_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = CSI_ROLE_RX;
    cfg->channel = 11;
    cfg->secondary = 0;
    cfg->bandwidth = 0;
    cfg->phy_rate = 0x10; /* WIFI_PHY_RATE_MCS0_LGI */
    cfg->rate_hz = 100;
    cfg->transport = CSI_TRANSPORT_USB;
    cfg->baud = 921600;
    cfg->format = CSI_FORMAT_V1;
    cfg->gain_lock = 0;
    cfg->gl_packets = 100;
    cfg->ltf_mask = CSI_LTF_LLTF;
}

/* wifi_phy_rate_t codes the TX may use: 11b long (0..3), 11b short (5..7), 11g (8..15),
 * HT MCS0..7 with long (16..23) and short (24..31) guard interval. 4 is not a rate. */
static bool s_phy_rate_ok(uint32_t code)
{
    return code <= 31 && code != 4;
}

/* Where each integer key lives in csi_config_t (same order as s_keys). */
static const size_t s_offsets[] = {
    offsetof(csi_config_t, role),      offsetof(csi_config_t, channel),   offsetof(csi_config_t, secondary),
    offsetof(csi_config_t, bandwidth), offsetof(csi_config_t, phy_rate),  offsetof(csi_config_t, rate_hz),
    offsetof(csi_config_t, peer_mac),  offsetof(csi_config_t, transport), offsetof(csi_config_t, baud),
    offsetof(csi_config_t, format),    offsetof(csi_config_t, gain_lock), offsetof(csi_config_t, gl_packets),
    offsetof(csi_config_t, ltf_mask),
};
/* C99 compile-time check: one offset per key */
typedef char s_offsets_match_keys[(sizeof(s_offsets) / sizeof(s_offsets[0]) == S_NKEYS) ? 1 : -1];

static void s_store(csi_config_t *cfg, const csi_config_key_t *k, uint32_t value)
{
    uint8_t *field = (uint8_t *)cfg + s_offsets[k - s_keys];
    if (k->type == CSI_CFG_U8) {
        *field = (uint8_t)value;
    } else if (k->type == CSI_CFG_U16) {
        uint16_t v = (uint16_t)value;
        memcpy(field, &v, sizeof(v));
    } else if (k->type == CSI_CFG_U32) {
        memcpy(field, &value, sizeof(value));
    }
}

static uint32_t s_load(const csi_config_t *cfg, const csi_config_key_t *k)
{
    const uint8_t *field = (const uint8_t *)cfg + s_offsets[k - s_keys];
    if (k->type == CSI_CFG_U8) {
        return *field;
    }
    if (k->type == CSI_CFG_U16) {
        uint16_t v;
        memcpy(&v, field, sizeof(v));
        return v;
    }
    if (k->type == CSI_CFG_U32) {
        uint32_t v;
        memcpy(&v, field, sizeof(v));
        return v;
    }
    return 0;
}

csi_config_err_t csi_config_set_u32(csi_config_t *cfg, const char *key, uint32_t value,
                                    char *msg, size_t msg_len)
{
    const csi_config_key_t *k = csi_config_find(key);
    if (!k) {
        return s_fail(CSI_CFG_ERR_KEY, msg, msg_len, "unknown setting %s", key);
    }
    if (k->type == CSI_CFG_MAC) {
        return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len, "%s must be a MAC aa:bb:cc:dd:ee:ff",
                      key);
    }
    if (value < k->min || value > k->max) {
        return s_fail(CSI_CFG_ERR_RANGE, msg, msg_len, "%s must be %lu..%lu (got %lu)", key, (unsigned long)k->min,
                      (unsigned long)k->max, (unsigned long)value);
    }
    if (!strcmp(key, "phy_rate") && !s_phy_rate_ok(value)) {
        return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len, "%s %lu is not a wifi_phy_rate_t code",
                      key, (unsigned long)value);
    }
    s_store(cfg, k, value);
    return CSI_CFG_OK;
}

bool csi_config_parse_mac(const char *text, uint8_t mac[6])
{
    if (!text || strlen(text) != 17) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char ch = text[3 * i + j];
            unsigned d;
            if (ch >= '0' && ch <= '9') d = (unsigned)(ch - '0');
            else if (ch >= 'a' && ch <= 'f') d = (unsigned)(ch - 'a' + 10);
            else if (ch >= 'A' && ch <= 'F') d = (unsigned)(ch - 'A' + 10);
            else return false;
            v = v * 16 + d;
        }
        if (i < 5 && text[3 * i + 2] != ':' && text[3 * i + 2] != '-') {
            return false;
        }
        mac[i] = (uint8_t)v;
    }
    return true;
}

static bool s_parse_u32(const char *text, uint32_t *out)
{
    uint64_t v = 0;
    if (!text || !*text) {
        return false;
    }
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > 0xFFFFFFFFu) {
            return false;
        }
    }
    *out = (uint32_t)v;
    return true;
}

csi_config_err_t csi_config_set_str(csi_config_t *cfg, const char *key, const char *value,
                                    char *msg, size_t msg_len)
{
    const csi_config_key_t *k = csi_config_find(key);
    if (!k) {
        return s_fail(CSI_CFG_ERR_KEY, msg, msg_len, "unknown setting %s", key);
    }
    if (k->type == CSI_CFG_MAC) {
        uint8_t mac[6];
        if (!csi_config_parse_mac(value, mac)) {
            return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len,
                          "%s must be a MAC aa:bb:cc:dd:ee:ff", key);
        }
        memcpy(cfg->peer_mac, mac, 6);
        return CSI_CFG_OK;
    }
    uint32_t v;
    if (!s_parse_u32(value, &v)) {
        return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len, "%s must be a number", key);
    }
    return csi_config_set_u32(cfg, key, v, msg, msg_len);
}

uint32_t csi_config_get_u32(const csi_config_t *cfg, const char *key)
{
    const csi_config_key_t *k = csi_config_find(key);
    return k ? s_load(cfg, k) : 0;
}

csi_config_err_t csi_config_check(const csi_config_t *c, char *msg, size_t msg_len)
{
    /* every single-field bound again, so a struct filled by hand is checked as well */
    size_t n;
    const csi_config_key_t *keys = csi_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        if (keys[i].type == CSI_CFG_MAC) {
            continue;
        }
        uint32_t v = s_load(c, &keys[i]);
        if (v < keys[i].min || v > keys[i].max) {
            return s_fail(CSI_CFG_ERR_RANGE, msg, msg_len, "%s must be %lu..%lu (got %lu)",
                          keys[i].key, (unsigned long)keys[i].min, (unsigned long)keys[i].max, (unsigned long)v);
        }
    }
    if (!s_phy_rate_ok(c->phy_rate)) {
        return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len, "%s %lu is not a wifi_phy_rate_t code",
                      "phy_rate", (unsigned long)c->phy_rate);
    }
    if (c->bandwidth == 1 && c->secondary == 0) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len, "%s: HT40 needs secondary above or below",
                      "bandwidth");
    }
    if (c->bandwidth == 0 && c->secondary != 0) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len, "%s must be none (0) with HT20 (got %lu)",
                      "secondary", (unsigned long)c->secondary);
    }
    if (c->secondary == 1 && c->channel > 9) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len, "%s: secondary above needs channel 1..9 (got %lu)",
                      "channel", (unsigned long)c->channel);
    }
    if (c->secondary == 2 && (c->channel < 5 || c->channel > 13)) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len, "%s: secondary below needs channel 5..13 (got %lu)",
                      "channel", (unsigned long)c->channel);
    }
    static const uint8_t zero[6] = {0};
    if (memcmp(c->peer_mac, zero, 6) == 0) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len, "%s is not set (00:00:00:00:00:00)",
                      "peer_mac");
    }
    if (c->role == CSI_ROLE_RX && (c->peer_mac[0] & 0x01)) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len, "%s must be a unicast MAC on the RX",
                      "peer_mac");
    }
    return CSI_CFG_OK;
}
