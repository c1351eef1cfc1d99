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
    {"phy_rate", CSI_CFG_U8, 8, 31, "wifi_phy_rate_t code of the TX (OFDM: 11g or HT)"},
    {"rate_hz", CSI_CFG_U16, 1, 1000, "TX packets per second"},
    {"peer_mac", CSI_CFG_MAC, 0, 0, "MAC of the other board"},
    {"transport", CSI_CFG_U8, 0, 1, "0 USB-Serial-JTAG, 1 UART"},
    {"baud", CSI_CFG_U32, 9600, 2000000, "UART baud"},
    {"format", CSI_CFG_U8, 0, 1, "0 protocol v1, 1 esp-csi text"},
    {"gain_lock", CSI_CFG_U8, 0, 1, "lock AGC/FFT gain after a median"},
    {"gl_packets", CSI_CFG_U16, 10, 1000, "packets in the gain-lock median"},
    {"ltf_mask", CSI_CFG_U8, 1, 7, "bit 0 L-LTF, 1 HT-LTF, 2 STBC-HT-LTF"},
    {"country", CSI_CFG_CC, 0, 0, "regulatory country code (01 = world safe mode)"},
    {"csi_scale", CSI_CFG_U8, 0, 1, "CSI scaling: 0 automatic per report, 1 manual (csi_shift)"},
    {"csi_shift", CSI_CFG_U8, 0, 15, "manual CSI scaling: left shift"},
};

/* The country codes esp_wifi_set_country_code() knows (esp_wifi.h, v5.3..v5.5) and the last
 * 2.4 GHz channel each allows for OFDM (see csi_config_country_channels in the header). Kept
 * conservative: where we have no source for 12 and 13 (MX, TW) they are not offered. The
 * board also asks the driver (esp_wifi_get_country) and reports any disagreement. */
static const struct {
    char cc[3];
    uint8_t last;
} s_countries[] = {
    {"01", 11}, {"AT", 13}, {"AU", 13}, {"BE", 13}, {"BG", 13}, {"BR", 13}, {"CA", 11}, {"CH", 13},
    {"CN", 13}, {"CY", 13}, {"CZ", 13}, {"DE", 13}, {"DK", 13}, {"EE", 13}, {"ES", 13}, {"FI", 13},
    {"FR", 13}, {"GB", 13}, {"GR", 13}, {"HK", 13}, {"HR", 13}, {"HU", 13}, {"IE", 13}, {"IN", 13},
    {"IS", 13}, {"IT", 13}, {"JP", 13}, {"KR", 13}, {"LI", 13}, {"LT", 13}, {"LU", 13}, {"LV", 13},
    {"MT", 13}, {"MX", 11}, {"NL", 13}, {"NO", 13}, {"NZ", 13}, {"PL", 13}, {"PT", 13}, {"RO", 13},
    {"SE", 13}, {"SI", 13}, {"SK", 13}, {"TW", 11}, {"US", 11},
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

bool csi_config_country_channels(const char *cc, uint8_t *first, uint8_t *last)
{
    for (size_t i = 0; cc && i < sizeof(s_countries) / sizeof(s_countries[0]); i++) {
        if (strcmp(s_countries[i].cc, cc) == 0) {
            *first = 1;
            *last = s_countries[i].last;
            return true;
        }
    }
    return false;
}

bool csi_config_rate_is_11b(uint32_t code)
{
    return code <= 7;
}

void csi_config_defaults(csi_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = CSI_ROLE_RX;
    cfg->channel = 11;
    cfg->secondary = 2; /* below: HT40 on channels 11 + 7, the reference setup */
    cfg->bandwidth = 1;
    cfg->phy_rate = 0x10; /* WIFI_PHY_RATE_MCS0_LGI */
    cfg->rate_hz = 100;
    cfg->transport = CSI_TRANSPORT_USB;
    cfg->baud = 921600;
    cfg->format = CSI_FORMAT_V1;
    cfg->gain_lock = 0;
    cfg->gl_packets = 100;
    cfg->ltf_mask = CSI_LTF_LLTF;
    memcpy(cfg->country, "01", 3);
    cfg->csi_scale = 1; /* manual, as esp-radar: comparable amplitudes from packet to packet */
    cfg->csi_shift = 4;
}

/* wifi_phy_rate_t codes the TX may use: 11g (8..15) and HT MCS0..7 with long (16..23) and
 * short (24..31) guard interval. 11b (0..3 long, 5..7 short preamble; 4 is not a rate) is
 * DSSS/CCK: no L-LTF or HT-LTF, so the RX would get no CSI (ESP-IDF wifi.rst, CSI table). */
static bool s_phy_rate_ok(uint32_t code)
{
    return code >= 8 && code <= 31;
}

static bool s_is_ht_rate(uint32_t code)
{
    return code >= 16 && code <= 31;
}

/* Where each integer key lives in csi_config_t (same order as s_keys). */
static const size_t s_offsets[] = {
    offsetof(csi_config_t, role),      offsetof(csi_config_t, channel),   offsetof(csi_config_t, secondary),
    offsetof(csi_config_t, bandwidth), offsetof(csi_config_t, phy_rate),  offsetof(csi_config_t, rate_hz),
    offsetof(csi_config_t, peer_mac),  offsetof(csi_config_t, transport), offsetof(csi_config_t, baud),
    offsetof(csi_config_t, format),    offsetof(csi_config_t, gain_lock), offsetof(csi_config_t, gl_packets),
    offsetof(csi_config_t, ltf_mask),  offsetof(csi_config_t, country),   offsetof(csi_config_t, csi_scale),
    offsetof(csi_config_t, csi_shift),
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
    if (k->type == CSI_CFG_CC) {
        return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len, "%s must be a country code such as 01, DE, US", key);
    }
    if (!strcmp(key, "phy_rate") && csi_config_rate_is_11b(value)) {
        return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len,
                      "%s %lu is an 802.11b (DSSS) rate: it carries no L-LTF/HT-LTF, so the RX gets no CSI "
                      "(use 11g 8..15 or HT MCS 16..31)",
                      key, (unsigned long)value);
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

/* A country code ESP-IDF knows, any case ("de" -> "DE"). */
static csi_config_err_t s_set_country(csi_config_t *cfg, const char *value, char *msg, size_t msg_len)
{
    char cc[3] = {0};
    uint8_t first, last;
    if (value && strlen(value) == 2) {
        for (int i = 0; i < 2; i++) {
            cc[i] = (value[i] >= 'a' && value[i] <= 'z') ? (char)(value[i] - 'a' + 'A') : value[i];
        }
        if (csi_config_country_channels(cc, &first, &last)) {
            memcpy(cfg->country, cc, 3);
            return CSI_CFG_OK;
        }
    }
    return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len,
                  "country %.8s is not a code ESP-IDF knows (01 = world safe mode, DE, FR, GB, JP, US, ...)",
                  value ? value : "(none)");
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
    if (k->type == CSI_CFG_CC) {
        return s_set_country(cfg, value, msg, msg_len);
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

/* The channel, and for HT40 its 40 MHz partner, within the country's OFDM channels. */
static csi_config_err_t s_check_channel(const csi_config_t *c, char *msg, size_t msg_len)
{
    uint8_t first = 1, last = 11;
    if (!csi_config_country_channels(c->country, &first, &last)) {
        return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len, "country %.3s is not a code ESP-IDF knows", c->country);
    }
    if (c->channel == 14) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len,
                      "%s 14 allows only 802.11b (DSSS, Japan): no OFDM, so no CSI (use 1..%u)", "channel",
                      (unsigned)last);
    }
    if (c->channel < first || c->channel > last) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len, "%s %u is not allowed in country %s (channels %u..%u)",
                      "channel", (unsigned)c->channel, c->country, (unsigned)first, (unsigned)last);
    }
    if (c->secondary == 1 && c->channel + 4 > last) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len,
                      "%s: secondary above needs channel %u..%u in country %s (its 40 MHz pair is channel + 4; "
                      "got %u)",
                      "channel", (unsigned)first, (unsigned)(last - 4), c->country, (unsigned)c->channel);
    }
    if (c->secondary == 2 && c->channel < first + 4) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len,
                      "%s: secondary below needs channel %u..%u in country %s (its 40 MHz pair is channel - 4; "
                      "got %u)",
                      "channel", (unsigned)(first + 4), (unsigned)last, c->country, (unsigned)c->channel);
    }
    return CSI_CFG_OK;
}

csi_config_err_t csi_config_check(const csi_config_t *c, char *msg, size_t msg_len)
{
    /* every single-field bound again, so a struct filled by hand is checked as well */
    size_t n;
    const csi_config_key_t *keys = csi_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        if (CSI_CFG_IS_STRING(keys[i].type)) {
            continue;
        }
        uint32_t v = s_load(c, &keys[i]);
        if (v < keys[i].min || v > keys[i].max) {
            return s_fail(CSI_CFG_ERR_RANGE, msg, msg_len, "%s must be %lu..%lu (got %lu)",
                          keys[i].key, (unsigned long)keys[i].min, (unsigned long)keys[i].max, (unsigned long)v);
        }
    }
    if (!s_phy_rate_ok(c->phy_rate)) {
        return s_fail(CSI_CFG_ERR_VALUE, msg, msg_len, "%s %lu is not an OFDM wifi_phy_rate_t code",
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
    csi_config_err_t err = s_check_channel(c, msg, msg_len);
    if (err != CSI_CFG_OK) {
        return err;
    }
    if ((c->ltf_mask & (CSI_LTF_HTLTF | CSI_LTF_STBC)) && !s_is_ht_rate(c->phy_rate)) {
        return s_fail(CSI_CFG_ERR_RULE, msg, msg_len,
                      "%s %u asks for HT-LTF, but phy_rate %u is an 11g rate: only HT (MCS) packets carry it",
                      "ltf_mask", (unsigned)c->ltf_mask, (unsigned)c->phy_rate);
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
