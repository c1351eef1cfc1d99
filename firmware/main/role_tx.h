/* role_tx: ESP-NOW packets to the peer at a fixed rate from a periodic esp_timer. */
#pragma once

#include "csi_config.h"
#include "csi_stats.h"
#include "esp_err.h"

esp_err_t role_tx_start(const csi_config_t *cfg);

/** The TX counters (tx_sent, tx_send_errors, tx_recoveries), for STATS and tests. */
const csi_stats_t *role_tx_stats(void);
