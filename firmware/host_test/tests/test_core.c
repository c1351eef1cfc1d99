/* Host tests of csi_core: ring wrap/overflow accounting, seq gaps, TX payload, gain lock,
 * and config validation of every field's bounds. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "csi_config.h"
#include "csi_gainlock.h"
#include "csi_ring.h"
#include "csi_stats.h"
#include "csi_txpayload.h"

static void test_ring_wrap_and_overflow(void)
{
    uint32_t storage[8];
    csi_ring_t r;
    CHECK(!csi_ring_init(&r, storage, sizeof(uint32_t), 6)); /* not a power of two */
    CHECK(!csi_ring_init(&r, storage, sizeof(uint32_t), 1));
    CHECK(csi_ring_init(&r, storage, sizeof(uint32_t), 8));
    r.head = r.tail = 0xFFFFFFF0u; /* start just below u32 wrap-around */
    uint32_t next_in = 0, next_out = 0, refused = 0;
    for (int round = 0; round < 1000; round++) {
        int pushes = (round * 7) % 13; /* bursts of 0..12 into 8 slots */
        for (int i = 0; i < pushes; i++) {
            uint32_t *slot = csi_ring_reserve(&r);
            if (!slot) {
                refused++;
                continue;
            }
            *slot = next_in++;
            csi_ring_commit(&r);
        }
        CHECK(csi_ring_fill(&r) <= 8);
        int pops = (round * 5) % 9;
        for (int i = 0; i < pops; i++) {
            const uint32_t *item = csi_ring_peek(&r);
            if (!item) {
                break;
            }
            CHECK_EQ(*item, next_out); /* FIFO, nothing lost or duplicated */
            next_out++;
            csi_ring_release(&r);
        }
    }
    CHECK_EQ(csi_ring_dropped(&r), refused);
    CHECK(refused > 0);
    CHECK_EQ(r.pushed, next_in);
    CHECK_EQ(r.pushed, next_out + csi_ring_fill(&r)); /* accounted: in = out + queued */
    CHECK_EQ(csi_ring_high_water(&r), 8);
    CHECK(r.head < 0x1000); /* it really wrapped */
}

static void test_seq_gaps(void)
{
    csi_stats_t s;
    csi_stats_init(&s);
    CHECK_EQ(csi_stats_track_seq(&s, 10), 0); /* first */
    CHECK_EQ(csi_stats_track_seq(&s, 11), 0);
    CHECK_EQ(csi_stats_track_seq(&s, 15), 3);
    CHECK_EQ(csi_stats_track_seq(&s, 15), 0); /* duplicate */
    CHECK_EQ(csi_stats_track_seq(&s, 2), 0);  /* TX rebooted */
    CHECK_EQ(csi_stats_track_seq(&s, 4), 1);
    s.last_seq = 0xFFFFFFFEu;
    CHECK_EQ(csi_stats_track_seq(&s, 1), 2); /* across u32 wrap: ..FF, 0 missing */
    CHECK_EQ(s.seq_gaps, 6);
}

static void test_txpayload(void)
{
    uint8_t frame[80] = {0};
    CHECK_EQ(csi_txpayload_pack(frame + 27, 16, 0xA1B2C3D4u, 123456789u), CSI_TXPAYLOAD_SIZE);
    const uint8_t want[16] = {'C', 'S', 'I', 'e', 0xD4, 0xC3, 0xB2, 0xA1, 0x15, 0xCD, 0x5B, 0x07, 1, 0, 0, 0};
    CHECK_MEM(frame + 27, want, 16);
    uint32_t seq = 0, ts = 0;
    CHECK(csi_txpayload_find(frame, sizeof(frame), &seq, &ts));
    CHECK_EQ(seq, 0xA1B2C3D4u);
    CHECK_EQ(ts, 123456789u);
    CHECK(!csi_txpayload_find(frame, 30, &seq, &ts)); /* cut short */
    frame[27 + 12] = 2;                                /* wrong version */
    CHECK(!csi_txpayload_find(frame, sizeof(frame), &seq, &ts));
    CHECK_EQ(csi_txpayload_pack(frame, 15, 1, 1), 0);
}

static void test_gainlock_median_lock_and_skip(void)
{
    static csi_gainlock_t g;
    csi_gainlock_init(&g, false, 10);
    CHECK_EQ(csi_gainlock_wire_state(&g), CSI_GAINLOCK_OFF);
    CHECK(!csi_gainlock_add(&g, 40, 0));

    csi_gainlock_init(&g, true, 5);
    static const uint8_t agc[5] = {50, 20, 44, 90, 45};
    static const int8_t fft[5] = {-3, 8, -10, -1, -4};
    for (int i = 0; i < 4; i++) {
        CHECK(!csi_gainlock_add(&g, agc[i], fft[i]));
        CHECK_EQ(csi_gainlock_wire_state(&g), CSI_GAINLOCK_COLLECTING);
    }
    CHECK(csi_gainlock_add(&g, agc[4], fft[4]));
    CHECK_EQ(g.agc_median, 45); /* sorted 20 44 45 50 90 */
    CHECK_EQ(g.fft_median, -3); /* sorted -10 -4 -3 -1 8 */
    CHECK_EQ(g.state, CSI_GAINLOCK_READY);
    CHECK_EQ(csi_gainlock_wire_state(&g), CSI_GAINLOCK_COLLECTING);
    csi_gainlock_forced(&g, true);
    CHECK_EQ(csi_gainlock_wire_state(&g), CSI_GAINLOCK_LOCKED);
    CHECK(!csi_gainlock_add(&g, 1, 1)); /* locked: ignores new samples */

    csi_gainlock_init(&g, true, 4); /* very low AGC: skipped, never forced */
    for (int i = 0; i < 4; i++) {
        csi_gainlock_add(&g, (uint8_t)(20 + i), 0);
    }
    CHECK_EQ(g.agc_median, 21);
    CHECK_EQ(csi_gainlock_wire_state(&g), CSI_GAINLOCK_SKIPPED);
}

/* Every integer key: min and max accepted, min-1 and max+1 refused with the key named. */
static void test_config_every_bound(void)
{
    size_t n;
    const csi_config_key_t *keys = csi_config_keys(&n);
    CHECK_EQ(n, 16);
    int checked = 0;
    for (size_t i = 0; i < n; i++) {
        const csi_config_key_t *k = &keys[i];
        if (CSI_CFG_IS_STRING(k->type)) {
            continue;
        }
        csi_config_t c;
        char msg[160];
        csi_config_defaults(&c);
        uint32_t lo = k->min, hi = k->max;
        CHECK_EQ(csi_config_set_u32(&c, k->key, lo, msg, sizeof(msg)), CSI_CFG_OK);
        CHECK_EQ(csi_config_get_u32(&c, k->key), lo);
        CHECK_EQ(csi_config_set_u32(&c, k->key, hi, msg, sizeof(msg)), CSI_CFG_OK);
        CHECK_EQ(csi_config_get_u32(&c, k->key), hi);
        CHECK_EQ(csi_config_set_u32(&c, k->key, hi + 1, msg, sizeof(msg)), CSI_CFG_ERR_RANGE);
        CHECK(strstr(msg, k->key) == msg);
        CHECK_EQ(csi_config_get_u32(&c, k->key), hi); /* a refused value changes nothing */
        if (lo > 0 && strcmp(k->key, "phy_rate") != 0) {
            CHECK_EQ(csi_config_set_u32(&c, k->key, lo - 1, msg, sizeof(msg)), CSI_CFG_ERR_RANGE);
        }
        checked++;
    }
    CHECK_EQ(checked, 14);
    csi_config_t c;
    char msg[128];
    csi_config_defaults(&c);
    CHECK_EQ(csi_config_set_u32(&c, "rate_hz", 1001, msg, sizeof(msg)), CSI_CFG_ERR_RANGE);
    CHECK(strcmp(msg, "rate_hz must be 1..1000 (got 1001)") == 0);
    CHECK_EQ(csi_config_set_u32(&c, "baud", 2000001, msg, sizeof(msg)), CSI_CFG_ERR_RANGE);
    CHECK_EQ(csi_config_set_u32(&c, "nope", 1, msg, sizeof(msg)), CSI_CFG_ERR_KEY);
    CHECK_EQ(csi_config_set_str(&c, "channel", "6", msg, sizeof(msg)), CSI_CFG_OK);
    CHECK_EQ(c.channel, 6);
    CHECK_EQ(csi_config_set_str(&c, "channel", "6x", msg, sizeof(msg)), CSI_CFG_ERR_VALUE);
    CHECK_EQ(csi_config_set_str(&c, "baud", "99999999999", msg, sizeof(msg)), CSI_CFG_ERR_VALUE);
    CHECK_EQ(csi_config_set_str(&c, "peer_mac", "7C:DF:A1:00:00:01", msg, sizeof(msg)), CSI_CFG_OK);
    CHECK_EQ(c.peer_mac[0], 0x7c);
    CHECK_EQ(c.peer_mac[5], 0x01);
    CHECK_EQ(csi_config_set_str(&c, "peer_mac", "7c:df:a1:00:00", msg, sizeof(msg)), CSI_CFG_ERR_VALUE);
    CHECK_EQ(csi_config_set_str(&c, "peer_mac", "7c:df:a1:00:00:0g", msg, sizeof(msg)), CSI_CFG_ERR_VALUE);
    CHECK_EQ(csi_config_set_u32(&c, "peer_mac", 1, msg, sizeof(msg)), CSI_CFG_ERR_VALUE);
}

static csi_config_err_t s_check_with(const char *key, uint32_t value, const char *key2, uint32_t value2)
{
    csi_config_t c;
    char msg[128];
    csi_config_defaults(&c);
    csi_config_set_str(&c, "peer_mac", "7c:df:a1:00:00:01", NULL, 0);
    if (key) {
        csi_config_set_u32(&c, key, value, NULL, 0);
    }
    if (key2) {
        csi_config_set_u32(&c, key2, value2, NULL, 0);
    }
    return csi_config_check(&c, msg, sizeof(msg));
}

static void test_config_cross_field_rules(void)
{
    CHECK_EQ(s_check_with(NULL, 0, NULL, 0), CSI_CFG_OK);                  /* defaults: HT40 below */
    CHECK_EQ(s_check_with("secondary", 0, NULL, 0), CSI_CFG_ERR_RULE);     /* HT40, secondary none */
    CHECK_EQ(s_check_with("bandwidth", 0, NULL, 0), CSI_CFG_ERR_RULE);     /* HT20 with secondary */
    CHECK_EQ(s_check_with("bandwidth", 0, "secondary", 0), CSI_CFG_OK);    /* HT20 */
    CHECK_EQ(s_check_with("secondary", 1, NULL, 0), CSI_CFG_ERR_RULE);     /* ch 11 above: 15 */
    csi_config_t c;
    char msg[128];
    csi_config_defaults(&c);
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE); /* peer_mac unset */
    CHECK(strstr(msg, "peer_mac") == msg);
    csi_config_set_str(&c, "peer_mac", "ff:ff:ff:ff:ff:ff", NULL, 0);
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE); /* RX needs unicast */
    c.role = CSI_ROLE_TX;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_OK); /* TX may broadcast */
    c.rate_hz = 0; /* a struct filled by hand is bounds-checked too */
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RANGE);
    c.rate_hz = 100;
    c.channel = 3;
    c.bandwidth = 1;
    c.secondary = 2; /* below needs channel >= 5 */
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE);
}

/* Finding 3 and 4 in the core: channels by country, the HT40 partner, channel 14, 11b rates. */
static void test_config_country_channels_and_rates(void)
{
    csi_config_t c;
    char msg[160];
    csi_config_defaults(&c);
    csi_config_set_str(&c, "peer_mac", "7c:df:a1:00:00:01", NULL, 0);
    CHECK(strcmp(c.country, "01") == 0);
    c.channel = 12;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE);
    CHECK(strcmp(msg, "channel 12 is not allowed in country 01 (channels 1..11)") == 0);
    CHECK_EQ(csi_config_set_str(&c, "country", "de", msg, sizeof(msg)), CSI_CFG_OK); /* any case */
    CHECK(strcmp(c.country, "DE") == 0);
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_OK);
    c.channel = 13;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_OK); /* below: 13 + 9 */
    c.secondary = 1;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE); /* above: 17 */
    CHECK(strstr(msg, "secondary above needs channel 1..9 in country DE") != NULL);
    c.channel = 9;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_OK);
    csi_config_set_str(&c, "country", "US", NULL, 0);
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE); /* above 9 needs 13 */
    c.channel = 7;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_OK);
    c.secondary = 2;
    c.channel = 4;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE); /* below: 0 */
    CHECK(strstr(msg, "secondary below needs channel 5..11 in country US") != NULL);
    csi_config_set_str(&c, "country", "JP", NULL, 0);
    c.channel = 14;
    c.bandwidth = 0;
    c.secondary = 0;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE);
    CHECK(strstr(msg, "channel 14 allows only 802.11b") == msg);
    CHECK_EQ(csi_config_set_str(&c, "country", "XX", msg, sizeof(msg)), CSI_CFG_ERR_VALUE);
    CHECK(strstr(msg, "country XX is not a code ESP-IDF knows") == msg);
    CHECK_EQ(csi_config_set_str(&c, "country", "DEU", msg, sizeof(msg)), CSI_CFG_ERR_VALUE);
    uint8_t first, last;
    CHECK(csi_config_country_channels("JP", &first, &last) && first == 1 && last == 13);
    for (uint32_t code = 0; code <= 7; code++) { /* 11b: no LTF, no CSI */
        CHECK_EQ(csi_config_set_u32(&c, "phy_rate", code, msg, sizeof(msg)), CSI_CFG_ERR_VALUE);
        CHECK(strstr(msg, "is an 802.11b (DSSS) rate") != NULL);
    }
    csi_config_defaults(&c);
    csi_config_set_str(&c, "peer_mac", "7c:df:a1:00:00:01", NULL, 0);
    c.phy_rate = 11; /* 6 Mb/s, 11g: L-LTF only */
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_OK);
    c.ltf_mask = 3;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RULE);
    CHECK(strstr(msg, "ltf_mask 3 asks for HT-LTF") == msg);
    c.phy_rate = 2; /* a hand-filled struct is checked too */
    c.ltf_mask = 1;
    CHECK_EQ(csi_config_check(&c, msg, sizeof(msg)), CSI_CFG_ERR_RANGE);
}

/* Finding 6 in the core: a repeat of the last seq is a MAC retry, dropped and counted. */
static void test_seq_duplicates(void)
{
    csi_stats_t s;
    csi_stats_init(&s);
    CHECK(csi_stats_accept_seq(&s, 7));
    CHECK(!csi_stats_accept_seq(&s, 7));
    CHECK(!csi_stats_accept_seq(&s, 7));
    CHECK(csi_stats_accept_seq(&s, 9));
    CHECK_EQ(s.duplicates, 2);
    CHECK_EQ(s.seq_gaps, 1);
    csi_proto_stats_t out;
    csi_stats_snapshot(&s, NULL, 0, &out);
    CHECK_EQ(out.duplicates, 2);
}

int main(void)
{
    RUN(test_ring_wrap_and_overflow);
    RUN(test_seq_gaps);
    RUN(test_txpayload);
    RUN(test_gainlock_median_lock_and_skip);
    RUN(test_config_every_bound);
    RUN(test_config_cross_field_rules);
    RUN(test_config_country_channels_and_rates);
    RUN(test_seq_duplicates);
    return CHECK_DONE();
}
