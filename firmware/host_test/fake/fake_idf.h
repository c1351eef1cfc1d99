/*
 * fake_idf: host implementations of the ESP-IDF API in ../idf_stubs (the mock boundary) and
 * the controls a test uses to drive them.
 *
 * Time is virtual and deterministic. FreeRTOS tasks are real threads, but exactly one of
 * them (or the driver, i.e. the test's main thread) runs at a time: a task runs until it
 * blocks (vTaskDelay, a serial write waiting for the link), then control returns to the
 * driver. fake_advance_to() moves virtual time forward, firing esp_timer callbacks and
 * waking tasks in time order. The driver thread plays the Wi-Fi task and the esp_timer
 * task: CSI callbacks and timer callbacks run there. Results never depend on host speed.
 *
 * The serial port is a link of a fixed byte rate (USB-Serial-JTAG 1 MB/s, UART baud/10)
 * behind a driver TX buffer; a write blocks the writer task in virtual time until its bytes
 * fit, exactly like a driver that waits for ring-buffer room.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_now.h"
#include "esp_wifi_types.h"

/* ---- scheduler / time ---- */
uint64_t fake_now_us(void);
void fake_advance_to(uint64_t t_us);
/** Block the calling task until virtual time t_us (no-op from the driver thread); used by
 *  the fakes that model blocking driver calls. */
void fake_block_until(uint64_t t_us);
/** Stop every task thread (they exit at their next blocking point) and join them. */
void fake_shutdown(void);

/* ---- serial port (board -> host, host -> board) ---- */
#define FAKE_USB_BYTES_PER_S 1000000u
void fake_serial_set_stalled(bool stalled); /* USB host stops reading: writes time out */
const uint8_t *fake_serial_output(size_t *len);
void fake_serial_host_send(const void *data, size_t len);
uint32_t fake_serial_bytes_per_s(void);
void fake_serial_free(void);

/* ---- NVS ---- */
/** Load an NVS partition CSV as written by csi-edge flash (key,type,encoding,value). */
esp_err_t fake_nvs_load_csv(const char *path);
esp_err_t fake_nvs_set(const char *ns, const char *key, const char *encoding, const char *value);
void fake_nvs_clear(void);

/* ---- radio ---- */
void fake_wifi_set_mac(const uint8_t mac[6]);
/** Hand one CSI report to the registered callback (as the Wi-Fi task). False if CSI is off. */
bool fake_wifi_inject_csi(wifi_csi_info_t *info);
void fake_rx_ctrl_set_gain(wifi_pkt_rx_ctrl_t *rx, uint8_t agc, int8_t fft);

typedef struct {
    bool csi_enabled;
    wifi_csi_config_t csi_config;
    uint8_t channel;
    wifi_second_chan_t second;
    wifi_bandwidth_t bandwidth;
    wifi_ps_type_t ps;
    bool gain_forced;
    uint8_t forced_agc;
    int8_t forced_fft;
} fake_wifi_state_t;
const fake_wifi_state_t *fake_wifi_state(void);

typedef struct {
    uint32_t inits, deinits;
    uint32_t send_calls, send_ok, send_no_mem;
    bool wedged;
    uint8_t peer[6];
    esp_now_rate_config_t rate;
} fake_espnow_state_t;
const fake_espnow_state_t *fake_espnow_state(void);
/** After `after_sends` more successful sends, ESP-NOW wedges: every esp_now_send returns
 *  ESP_ERR_ESPNOW_NO_MEM until esp_now_deinit() + esp_now_init(). */
void fake_espnow_wedge_after(uint32_t after_sends);
/** Every k-th successful send reports ESP_NOW_SEND_FAIL in its callback (0 = never). */
void fake_espnow_ack_fail_every(uint32_t k);
