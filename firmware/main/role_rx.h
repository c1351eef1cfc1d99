/* role_rx: capture the peer's CSI into a preallocated queue; a writer task streams it. */
#pragma once

#include "csi_config.h"
#include "csi_ring.h"
#include "csi_stats.h"
#include "esp_err.h"

esp_err_t role_rx_start(const csi_config_t *cfg);

/** The RX counters and queue, for tests (STATS frames carry the same numbers). */
const csi_stats_t *role_rx_stats(void);
const csi_ring_t *role_rx_ring(void);
