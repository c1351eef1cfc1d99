/*
 * csi_gainlock: decide the AGC/FFT gain to force after the first N packets. Plain C99.
 *
 * States (also CSI flags bits 8-9 and the STATS gain_lock byte): OFF, COLLECTING, LOCKED,
 * SKIPPED. While COLLECTING, each packet's (agc, fft) goes into two 256-bin histograms
 * (no sample storage, O(1) per packet). After `packets` samples the medians are taken;
 * a median AGC at or below CSI_GAINLOCK_MIN_AGC is "very low" (forcing it stops the radio
 * from receiving well), so the lock is SKIPPED; otherwise the state becomes READY and the
 * firmware forces the gains (outside the Wi-Fi callback) and calls csi_gainlock_forced().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSI_GAINLOCK_MIN_AGC 25

typedef enum {
    CSI_GAINLOCK_OFF = 0,
    CSI_GAINLOCK_COLLECTING = 1,
    CSI_GAINLOCK_LOCKED = 2,
    CSI_GAINLOCK_SKIPPED = 3,
    CSI_GAINLOCK_READY = 4, /* internal: medians known, force pending (reported as COLLECTING) */
} csi_gainlock_state_t;

typedef struct {
    uint8_t state;
    uint16_t target;
    uint16_t count;
    uint8_t agc_median;
    int8_t fft_median;
    uint16_t agc_hist[256];
    uint16_t fft_hist[256]; /* index = (uint8_t)fft */
} csi_gainlock_t;

void csi_gainlock_init(csi_gainlock_t *g, bool enabled, uint16_t packets);

/** Add one packet's gains (producer). Returns true when this sample completed the median. */
bool csi_gainlock_add(csi_gainlock_t *g, uint8_t agc, int8_t fft);

/** The state as reported on the wire (READY reads as COLLECTING). */
uint8_t csi_gainlock_wire_state(const csi_gainlock_t *g);

/** Called after forcing: ok -> LOCKED, failed -> SKIPPED. */
void csi_gainlock_forced(csi_gainlock_t *g, bool ok);

#ifdef __cplusplus
}
#endif
