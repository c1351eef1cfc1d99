/*
 * csi_text: esp-csi compatible CSI_DATA lines (layout in csi_text.h). Hand-rolled integer
 * formatting keeps this allocation-free and fast enough for 1 kHz on the writer task.
 */
#include "csi_text.h"

#include <string.h>

typedef struct {
    char *p;
    char *end;
    int overflow;
} s_out_t;

static void s_str(s_out_t *o, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(o->end - o->p) < n) {
        o->overflow = 1;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

static void s_int(s_out_t *o, long long v)
{
    char tmp[24];
    int i = (int)sizeof(tmp);
    unsigned long long u = v < 0 ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;
    tmp[--i] = '\0';
    do {
        tmp[--i] = (char)('0' + (u % 10));
        u /= 10;
    } while (u);
    if (v < 0) {
        tmp[--i] = '-';
    }
    s_str(o, tmp + i);
}

/* ",<v>" */
static void s_field(s_out_t *o, long long v)
{
    s_str(o, ",");
    s_int(o, v);
}

static void s_mac(s_out_t *o, const uint8_t mac[6])
{
    static const char hex[] = "0123456789abcdef";
    char tmp[18];
    for (int i = 0; i < 6; i++) {
        tmp[3 * i] = hex[mac[i] >> 4];
        tmp[3 * i + 1] = hex[mac[i] & 0x0F];
        tmp[3 * i + 2] = i == 5 ? '\0' : ':';
    }
    s_str(o, tmp);
}

size_t csi_text_encode(char *out, size_t cap, const csi_proto_csi_t *h, const uint8_t mac[6],
                       const int8_t *csi)
{
    if (cap == 0) {
        return 0;
    }
    s_out_t o = {out, out + cap - 1, 0}; /* keep room for the NUL */
    unsigned f = h->flags;
    s_str(&o, "CSI_DATA");
    s_field(&o, h->seq);
    s_str(&o, ",");
    s_mac(&o, mac);
    s_field(&o, h->rssi);
    s_field(&o, h->rate);
    s_field(&o, h->sig_mode);
    s_field(&o, h->mcs);
    s_field(&o, h->bandwidth);
    s_field(&o, (f & CSI_FLAG_SMOOTHING) != 0);
    s_field(&o, (f & CSI_FLAG_NOT_SOUNDING) != 0);
    s_field(&o, (f & CSI_FLAG_AGGREGATION) != 0);
    s_field(&o, (f >> CSI_FLAG_STBC_SHIFT) & 3);
    s_field(&o, (f & CSI_FLAG_FEC_CODING) != 0);
    s_field(&o, (f & CSI_FLAG_SGI) != 0);
    s_field(&o, h->noise_floor);
    s_field(&o, 0); /* ampdu_cnt */
    s_field(&o, h->channel);
    s_field(&o, h->secondary_channel);
    s_field(&o, (uint32_t)h->timestamp_us);
    s_field(&o, h->ant);
    s_field(&o, h->sig_len);
    s_field(&o, h->rx_state);
    s_field(&o, h->csi_len);
    s_field(&o, (f & CSI_FLAG_FIRST_WORD_INVALID) != 0);
    s_str(&o, ",\"[");
    for (unsigned i = 0; i < h->csi_len; i++) {
        if (i) {
            s_str(&o, ",");
        }
        s_int(&o, csi[i]);
    }
    s_str(&o, "]\"\n");
    if (o.overflow) {
        out[0] = '\0';
        return 0;
    }
    *o.p = '\0';
    return (size_t)(o.p - out);
}
