/*
 * fake_radio: Wi-Fi, CSI, ESP-NOW and gain control as the firmware sees them (fake_idf.h).
 *
 * As strict as the radio, where ESP-IDF documents a refusal (each rule names its source):
 *  - CSI is delivered only with promiscuous mode on and management frames in its filter: a
 *    station that is not connected receives nothing (wifi.rst, "Wi-Fi Channel State
 *    Information Configure"; esp-csi issue 17), and ESP-NOW frames are action (management)
 *    frames;
 *  - no CSI for 802.11b (DSSS) packets: the CSI table lists only non-HT OFDM and HT packets,
 *    and only from the channel the radio is on;
 *  - esp_wifi_set_channel refuses a primary channel, or the HT40 partner channel, outside the
 *    country's range; the default country is "01", channels 1..11 (esp_wifi.h);
 *  - ESP-NOW sends complete one at a time in virtual time (the send callback comes later, from
 *    the Wi-Fi task). A unicast frame nobody acknowledges is retried by the MAC
 *    (FAKE_UNICAST_RETRIES attempts of FAKE_ATTEMPT_US); when FAKE_ESPNOW_QUEUE_LEN sends are
 *    pending, esp_now_send returns ESP_ERR_ESPNOW_NO_MEM ("out of memory: delay a while",
 *    esp_now.h). A broadcast is sent once, never waits for an ACK, and always succeeds.
 * The queue length, attempt time and retry count are a model, not measurements.
 */
#include <string.h>

#include "esp_csi_gain_ctrl.h"
#include "esp_event.h"
#include "esp_mac.h"
#include "esp_netif.h"
#include "esp_now.h"
#include "esp_wifi.h"
#include "fake_idf.h"

#define FAKE_ESPNOW_QUEUE_LEN 16
#define FAKE_ATTEMPT_US 500         /* one transmission of a short frame + ACK wait, µs */
#define FAKE_UNICAST_RETRIES 10     /* attempts of an unacknowledged unicast frame */
#define FAKE_MAX_PEERS 4

static fake_wifi_state_t s_wifi;
static fake_espnow_state_t s_now;
static uint8_t s_mac[6] = {0x7c, 0xdf, 0xa1, 0x00, 0x00, 0x02};
static wifi_csi_cb_t s_csi_cb;
static void *s_csi_ctx;
static bool s_wifi_inited, s_wifi_started, s_espnow_up;
static uint8_t s_peers[FAKE_MAX_PEERS][6];
static int s_npeers;
static esp_now_send_cb_t s_send_cb;
static uint32_t s_wedge_after; /* 0 = never */
static bool s_wedge_silent;    /* wedged sends return ESP_OK but never complete */
static uint32_t s_ack_fail_every;
static bool s_peer_absent = false;
static uint64_t s_air_free_us; /* the radio is busy sending until then */
static uint32_t s_generation;  /* bumped by esp_now_deinit: pending completions are dropped */

/* ---- countries: the driver's table, as far as ESP-IDF documents it ---- */

static bool s_country_range(const char *cc, uint8_t *schan, uint8_t *nchan)
{
    static const char *const s_13[] = {"AT", "AU", "BE", "BG", "BR", "CH", "CN", "CY", "CZ", "DE", "DK", "EE",
                                       "ES", "FI", "FR", "GB", "GR", "HK", "HR", "HU", "IE", "IN", "IS", "IT",
                                       "KR", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "NZ", "PL", "PT", "RO",
                                       "SE", "SI", "SK"};
    *schan = 1;
    if (!strcmp(cc, "01") || !strcmp(cc, "US") || !strcmp(cc, "CA") || !strcmp(cc, "MX") || !strcmp(cc, "TW")) {
        *nchan = 11;
        return true;
    }
    if (!strcmp(cc, "JP")) {
        *nchan = 14;
        return true;
    }
    for (size_t i = 0; i < sizeof(s_13) / sizeof(s_13[0]); i++) {
        if (!strcmp(cc, s_13[i])) {
            *nchan = 13;
            return true;
        }
    }
    return false;
}

esp_err_t esp_netif_init(void) { return fake_injected("esp_netif_init"); }
esp_err_t esp_event_loop_create_default(void) { return fake_injected("esp_event_loop_create_default"); }

esp_err_t esp_wifi_init(const wifi_init_config_t *config)
{
    FAKE_RETURN_IF_INJECTED("esp_wifi_init");
    if (!config || config->magic != 0x1F2F3F4F) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!s_wifi_inited) {
        s_wifi_inited = true;
        memcpy(s_wifi.country, "01", 3); /* ESP-IDF's default country */
    }
    return ESP_OK;
}

esp_err_t esp_wifi_set_storage(wifi_storage_t storage) { return storage <= WIFI_STORAGE_RAM ? ESP_OK : ESP_ERR_INVALID_ARG; }
esp_err_t esp_wifi_set_mode(wifi_mode_t mode) { return mode == WIFI_MODE_STA ? ESP_OK : ESP_ERR_INVALID_ARG; }

esp_err_t esp_wifi_set_protocol(wifi_interface_t ifx, uint8_t bitmap)
{
    return ifx == WIFI_IF_STA && (bitmap & WIFI_PROTOCOL_11N) ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t esp_wifi_set_country_code(const char *country, bool ieee80211d_enabled)
{
    (void)ieee80211d_enabled;
    FAKE_RETURN_IF_INJECTED("esp_wifi_set_country_code");
    uint8_t schan, nchan;
    if (!s_wifi_inited) {
        return ESP_ERR_WIFI_NOT_INIT;
    }
    if (!country || strlen(country) != 2 || !s_country_range(country, &schan, &nchan)) {
        return ESP_ERR_INVALID_ARG;
    }
    memcpy(s_wifi.country, country, 3);
    return ESP_OK;
}

esp_err_t esp_wifi_get_country(wifi_country_t *country)
{
    if (!s_wifi_inited) {
        return ESP_ERR_WIFI_NOT_INIT;
    }
    memset(country, 0, sizeof(*country));
    memcpy(country->cc, s_wifi.country, 2);
    s_country_range(s_wifi.country, &country->schan, &country->nchan);
    country->policy = WIFI_COUNTRY_POLICY_MANUAL;
    return ESP_OK;
}

esp_err_t esp_wifi_start(void)
{
    FAKE_RETURN_IF_INJECTED("esp_wifi_start");
    if (!s_wifi_inited) {
        return ESP_ERR_WIFI_NOT_INIT;
    }
    s_wifi_started = true;
    return ESP_OK;
}

esp_err_t esp_wifi_set_ps(wifi_ps_type_t type)
{
    s_wifi.ps = type;
    return ESP_OK;
}

esp_err_t esp_wifi_set_bandwidth(wifi_interface_t ifx, wifi_bandwidth_t bw)
{
    if (!s_wifi_started || ifx != WIFI_IF_STA || (bw != WIFI_BW_HT20 && bw != WIFI_BW_HT40)) {
        return ESP_ERR_INVALID_ARG;
    }
    s_wifi.bandwidth = bw;
    return ESP_OK;
}

esp_err_t esp_wifi_set_channel(uint8_t primary, wifi_second_chan_t second)
{
    FAKE_RETURN_IF_INJECTED("esp_wifi_set_channel");
    uint8_t schan = 1, nchan = 11;
    s_country_range(s_wifi.country, &schan, &nchan);
    unsigned last = schan + nchan - 1u;
    unsigned pair = second == WIFI_SECOND_CHAN_ABOVE ? primary + 4u
                    : second == WIFI_SECOND_CHAN_BELOW ? primary - 4u : primary;
    if (!s_wifi_started || second > WIFI_SECOND_CHAN_BELOW || primary < schan || primary > last || pair < schan ||
        pair > last) {
        s_wifi.channel_refusals++;
        return ESP_ERR_INVALID_ARG;
    }
    s_wifi.channel = primary;
    s_wifi.second = second;
    return ESP_OK;
}

esp_err_t esp_read_mac(uint8_t *mac, esp_mac_type_t type)
{
    if (!mac || type != ESP_MAC_WIFI_STA) {
        return ESP_ERR_INVALID_ARG;
    }
    memcpy(mac, s_mac, 6);
    return ESP_OK;
}

esp_err_t esp_wifi_get_mac(wifi_interface_t ifx, uint8_t mac[6])
{
    if (ifx != WIFI_IF_STA) {
        return ESP_ERR_INVALID_ARG;
    }
    memcpy(mac, s_mac, 6);
    return ESP_OK;
}

esp_err_t esp_wifi_set_promiscuous(bool en)
{
    FAKE_RETURN_IF_INJECTED("esp_wifi_set_promiscuous");
    if (!s_wifi_inited) {
        return ESP_ERR_WIFI_NOT_INIT;
    }
    s_wifi.promiscuous = en;
    return ESP_OK;
}

esp_err_t esp_wifi_set_promiscuous_filter(const wifi_promiscuous_filter_t *filter)
{
    if (!s_wifi_inited) {
        return ESP_ERR_WIFI_NOT_INIT;
    }
    s_wifi.promiscuous_filter = filter ? filter->filter_mask : 0;
    s_wifi.promiscuous_filter_set = true;
    return ESP_OK;
}

esp_err_t esp_wifi_set_csi_rx_cb(wifi_csi_cb_t cb, void *ctx)
{
    s_csi_cb = cb;
    s_csi_ctx = ctx;
    return ESP_OK;
}

esp_err_t esp_wifi_set_csi_config(const wifi_csi_config_t *config)
{
    if (!config || config->shift > 15) {
        return ESP_ERR_INVALID_ARG;
    }
    s_wifi.csi_config = *config;
    return ESP_OK;
}

esp_err_t esp_wifi_set_csi(bool en)
{
    FAKE_RETURN_IF_INJECTED("esp_wifi_set_csi");
    s_wifi.csi_enabled = en;
    return ESP_OK;
}

void fake_wifi_set_mac(const uint8_t mac[6])
{
    memcpy(s_mac, mac, 6);
}

bool fake_wifi_inject_csi(wifi_csi_info_t *info)
{
    /* management frames reach a disconnected station only in promiscuous mode */
    bool mgmt = !s_wifi.promiscuous_filter_set || (s_wifi.promiscuous_filter & WIFI_PROMIS_FILTER_MASK_MGMT);
    bool dsss = info->rx_ctrl.sig_mode == 0 && info->rx_ctrl.rate < 8; /* 11b: no LTF */
    if (!s_csi_cb || !s_wifi.csi_enabled || !s_wifi.promiscuous || !mgmt || dsss ||
        info->rx_ctrl.channel != s_wifi.channel) {
        s_wifi.csi_not_delivered++;
        return false;
    }
    s_csi_cb(s_csi_ctx, info);
    return true;
}

void fake_rx_ctrl_set_gain(wifi_pkt_rx_ctrl_t *rx, uint8_t agc, int8_t fft)
{
    ((uint8_t *)rx)[22] = (uint8_t)fft;
    ((uint8_t *)rx)[23] = agc;
}

const fake_wifi_state_t *fake_wifi_state(void)
{
    return &s_wifi;
}

/* ---- esp_csi_gain_ctrl (0.1.5: no restriction on the gain values) ---- */

void esp_csi_gain_ctrl_get_rx_gain(const void *rx_ctrl, uint8_t *agc_gain, int8_t *fft_gain)
{
    *fft_gain = (int8_t)((const uint8_t *)rx_ctrl)[22];
    *agc_gain = ((const uint8_t *)rx_ctrl)[23];
}

esp_err_t esp_csi_gain_ctrl_set_rx_force_gain(uint8_t agc_gain, int8_t fft_gain)
{
    s_wifi.gain_forced = agc_gain != 0 || fft_gain != 0;
    s_wifi.forced_agc = agc_gain;
    s_wifi.forced_fft = fft_gain;
    return ESP_OK;
}

/* ---- ESP-NOW ---- */

esp_err_t esp_now_init(void)
{
    FAKE_RETURN_IF_INJECTED("esp_now_init");
    if (!s_wifi_started) {
        return ESP_ERR_ESPNOW_INTERNAL;
    }
    s_espnow_up = true;
    s_now.wedged = false;
    s_now.inits++;
    s_now.inits_in_timer += fake_in_timer_callback();
    return ESP_OK;
}

esp_err_t esp_now_deinit(void)
{
    s_espnow_up = false;
    s_npeers = 0;
    s_send_cb = NULL;
    s_now.deinits++;
    s_now.deinits_in_timer += fake_in_timer_callback();
    s_now.in_flight = 0;
    s_generation++;
    return ESP_OK;
}

esp_err_t esp_now_register_send_cb(esp_now_send_cb_t cb)
{
    if (!s_espnow_up) {
        return ESP_ERR_ESPNOW_NOT_INIT;
    }
    s_send_cb = cb;
    return ESP_OK;
}

static int s_peer_index(const uint8_t *addr)
{
    for (int i = 0; addr && i < s_npeers; i++) {
        if (!memcmp(s_peers[i], addr, 6)) {
            return i;
        }
    }
    return -1;
}

bool esp_now_is_peer_exist(const uint8_t *peer_addr)
{
    return s_espnow_up && s_peer_index(peer_addr) >= 0;
}

esp_err_t esp_now_add_peer(const esp_now_peer_info_t *peer)
{
    if (!s_espnow_up) {
        return ESP_ERR_ESPNOW_NOT_INIT;
    }
    if (!peer || peer->ifidx != WIFI_IF_STA || (peer->channel != 0 && peer->channel != s_wifi.channel)) {
        return ESP_ERR_ESPNOW_ARG;
    }
    if (s_peer_index(peer->peer_addr) >= 0) {
        return ESP_ERR_ESPNOW_EXIST;
    }
    if (s_npeers >= FAKE_MAX_PEERS) {
        return ESP_ERR_ESPNOW_FULL;
    }
    memcpy(s_peers[s_npeers++], peer->peer_addr, 6);
    memcpy(s_now.peer, peer->peer_addr, 6);
    return ESP_OK;
}

esp_err_t esp_now_set_peer_rate_config(const uint8_t *peer_addr, esp_now_rate_config_t *config)
{
    FAKE_RETURN_IF_INJECTED("esp_now_set_peer_rate_config");
    if (!s_espnow_up) {
        return ESP_ERR_ESPNOW_NOT_INIT;
    }
    if (!config || s_peer_index(peer_addr) < 0) {
        return ESP_ERR_ESPNOW_ARG;
    }
    s_now.rate = config->rate;
    s_now.rate_api = FAKE_RATE_PER_PEER;
    return ESP_OK;
}

esp_err_t esp_wifi_config_espnow_rate(wifi_interface_t ifx, wifi_phy_rate_t rate)
{
    FAKE_RETURN_IF_INJECTED("esp_wifi_config_espnow_rate");
    if (!s_wifi_started) { /* "should be called after esp_wifi_start()" */
        return ESP_ERR_WIFI_NOT_STARTED;
    }
    if (ifx != WIFI_IF_STA || rate >= WIFI_PHY_RATE_MAX) {
        return ESP_ERR_INVALID_ARG;
    }
    s_now.rate = rate;
    s_now.rate_api = FAKE_RATE_INTERFACE;
    return ESP_OK;
}

typedef struct {
    uint32_t generation;
    bool ok;
    uint8_t dest[6];
} s_pending_t;

static s_pending_t s_pending[FAKE_ESPNOW_QUEUE_LEN * 4];
static uint32_t s_pending_next;

/* The Wi-Fi task, when a send has left the radio (or given up). */
static void s_complete(void *arg)
{
    s_pending_t *p = arg;
    if (p->generation != s_generation) {
        return; /* ESP-NOW was de-initialised meanwhile */
    }
    s_now.in_flight--;
    s_now.completed++;
    if (s_send_cb) {
        s_send_cb(p->dest, p->ok ? ESP_NOW_SEND_SUCCESS : ESP_NOW_SEND_FAIL);
    }
}

static bool s_acked(bool broadcast)
{
    if (broadcast) {
        return true; /* nothing to acknowledge */
    }
    uint32_t n = s_now.unicast_sends;
    return !s_peer_absent && !(s_ack_fail_every && n % s_ack_fail_every == 0);
}

esp_err_t esp_now_send(const uint8_t *peer_addr, const uint8_t *data, size_t len)
{
    s_now.send_calls++;
    s_now.send_calls_in_timer += fake_in_timer_callback();
    if (!s_espnow_up) {
        return ESP_ERR_ESPNOW_NOT_INIT;
    }
    if (!data || len == 0 || len > 250) {
        return ESP_ERR_ESPNOW_ARG;
    }
    if (s_peer_index(peer_addr) < 0) {
        return ESP_ERR_ESPNOW_NOT_FOUND;
    }
    if ((s_now.wedged && !s_wedge_silent) || s_now.in_flight >= FAKE_ESPNOW_QUEUE_LEN) {
        s_now.send_no_mem++;
        return ESP_ERR_ESPNOW_NO_MEM;
    }
    bool broadcast = !memcmp(peer_addr, "\xff\xff\xff\xff\xff\xff", 6);
    s_now.send_ok++;
    s_now.broadcasts += broadcast;
    s_now.unicast_sends += !broadcast;
    if (s_now.wedged) {
        return ESP_OK; /* silent wedge: accepted, never completes */
    }
    if (s_wedge_after && --s_wedge_after == 0) {
        s_now.wedged = true;
    }
    bool ok = s_acked(broadcast);
    uint64_t air = ok ? FAKE_ATTEMPT_US : (uint64_t)FAKE_ATTEMPT_US * FAKE_UNICAST_RETRIES;
    uint64_t start = s_air_free_us > fake_now_us() ? s_air_free_us : fake_now_us();
    s_air_free_us = start + air;
    s_pending_t *p = &s_pending[s_pending_next++ % (sizeof(s_pending) / sizeof(s_pending[0]))];
    *p = (s_pending_t){.generation = s_generation, .ok = ok};
    memcpy(p->dest, peer_addr, 6);
    s_now.in_flight++;
    if (s_now.in_flight > s_now.max_in_flight) {
        s_now.max_in_flight = s_now.in_flight;
    }
    fake_call_at(s_air_free_us, s_complete, p);
    return ESP_OK;
}

const fake_espnow_state_t *fake_espnow_state(void)
{
    return &s_now;
}

void fake_espnow_wedge_after(uint32_t after_sends, bool silent)
{
    s_wedge_after = after_sends;
    s_wedge_silent = silent;
}

void fake_espnow_ack_fail_every(uint32_t k)
{
    s_ack_fail_every = k;
}

void fake_espnow_peer_absent(bool absent)
{
    s_peer_absent = absent;
}
