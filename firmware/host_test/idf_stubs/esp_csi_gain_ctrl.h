/* esp_csi_gain_ctrl.h (registry component espressif/esp_csi_gain_ctrl, from esp-csi). */
#pragma once
#include <stdint.h>
#include "esp_err.h"

/** Read the AGC and FFT gain of a received packet from its wifi_pkt_rx_ctrl_t. */
void esp_csi_gain_ctrl_get_rx_gain(const void *rx_ctrl, uint8_t *agc_gain, int8_t *fft_gain);
/** Force the RX gains (0, 0 releases); refuses agc_gain <= 25 with ESP_ERR_INVALID_STATE. */
esp_err_t esp_csi_gain_ctrl_set_rx_force_gain(uint8_t agc_gain, int8_t fft_gain);
