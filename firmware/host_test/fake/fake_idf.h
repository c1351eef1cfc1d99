/*
 * fake_idf: host implementations of the ESP-IDF API in ../idf_stubs (the mock boundary) and
 * the controls a test uses to drive them.
 *
 * Time is virtual and deterministic. FreeRTOS tasks are real threads, but exactly one of
 * them (or the driver, i.e. the test's main thread) runs at a time: a task runs until it
 * blocks (vTaskDelay, a serial write waiting for the link), then control returns to the
 * driver. fake_advance_to() moves virtual time forward, firing esp_timer callbacks, radio
 * events (fake_call_at) and waking tasks in time order. The driver thread plays the Wi-Fi task
 * and the esp_timer task: CSI callbacks, ESP-NOW send callbacks and timer callbacks run there.
 * Results never depend on host speed.
 *
 * Serial ports: USB-Serial-JTAG, UART0 (the console: the ROM banner and every log line go
 * there) and UART1, each a link of a fixed byte rate (USB 1 MB/s, an assumption; UART baud/10)
 * behind the driver's TX buffer. A write blocks the writer task in virtual time until its
 * bytes fit; while the USB host does not read, the buffer fills and then writes wait their
 * whole timeout and fail, as the real driver (v5.4: all or nothing) does.
 *
 * The radio refuses what the real one refuses (fake_radio.c lists the rules and sources).
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
/** Run fn(arg) on the driver thread (the Wi-Fi task) at virtual time t_us. */
void fake_call_at(uint64_t t_us, void (*fn)(void *), void *arg);
/** True while an esp_timer callback runs (the esp_timer task). */
bool fake_in_timer_callback(void);
/** Stop every task thread (they exit at their next blocking point) and join them. */
void fake_shutdown(void);

/* ---- failure injection: the next `times` calls of `api` return `err` ---- */
void fake_fail(const char *api, esp_err_t err, uint32_t times);
esp_err_t fake_injected(const char *api);
#define FAKE_RETURN_IF_INJECTED(api)            \
    do {                                        \
        esp_err_t fake_err_ = fake_injected(api); \
        if (fake_err_ != ESP_OK) {              \
            return fake_err_;                   \
        }                                       \
    } while (0)

/* ---- serial ports (board -> host, host -> board) ---- */
typedef enum { FAKE_PORT_USB, FAKE_PORT_UART0, FAKE_PORT_UART1, FAKE_PORT_COUNT } fake_port_t;
#define FAKE_USB_BYTES_PER_S 1000000u
/** The ROM's boot banner on UART0, as a real ESP32-S3 prints it at reset. */
void fake_boot(void);
/** The console: esp_log_write prints here (UART0). */
void fake_console_write(const char *text, size_t len);
void fake_serial_set_stalled(bool stalled);     /* USB host stops reading */
void fake_serial_set_usb_connected(bool on);    /* USB host present (SOF packets) */
const uint8_t *fake_serial_output(fake_port_t port, size_t *len);
void fake_serial_host_send(fake_port_t port, const void *data, size_t len);
uint32_t fake_serial_bytes_per_s(fake_port_t port);
/** Virtual µs tasks spent blocked in serial writes that then failed (took nothing). */
uint64_t fake_serial_failed_block_us(void);
void fake_serial_free(void);

/* ---- NVS ---- */
/** Load an NVS partition CSV as written by csi-edge flash (key,type,encoding,value). */
esp_err_t fake_nvs_load_csv(const char *path);
esp_err_t fake_nvs_set(const char *ns, const char *key, const char *encoding, const char *value);
void fake_nvs_clear(void);

/* ---- radio ---- */
void fake_wifi_set_mac(const uint8_t mac[6]);
/** Hand one CSI report to the registered callback (as the Wi-Fi task). False if the radio
 *  would not deliver it (CSI off, not promiscuous, 11b packet, another channel). */
bool fake_wifi_inject_csi(wifi_csi_info_t *info);
void fake_rx_ctrl_set_gain(wifi_pkt_rx_ctrl_t *rx, uint8_t agc, int8_t fft);

typedef struct {
    bool csi_enabled;
    wifi_csi_config_t csi_config;
    bool promiscuous;
    bool promiscuous_filter_set;
    uint32_t promiscuous_filter;
    char country[3];
    uint8_t channel;
    wifi_second_chan_t second;
    wifi_bandwidth_t bandwidth;
    wifi_ps_type_t ps;
    uint32_t channel_refusals;
    uint32_t csi_not_delivered;
    bool gain_forced;
    uint8_t forced_agc;
    int8_t forced_fft;
} fake_wifi_state_t;
const fake_wifi_state_t *fake_wifi_state(void);

typedef enum { FAKE_RATE_NONE, FAKE_RATE_INTERFACE, FAKE_RATE_PER_PEER } fake_rate_api_t;

typedef struct {
    uint32_t inits, deinits;
    uint32_t inits_in_timer, deinits_in_timer, send_calls_in_timer;
    uint32_t send_calls, send_ok, send_no_mem;
    uint32_t broadcasts, unicast_sends, completed;
    uint32_t in_flight, max_in_flight;
    bool wedged;
    uint8_t peer[6];
    fake_rate_api_t rate_api;
    uint32_t rate; /* wifi_phy_rate_t */
} fake_espnow_state_t;
const fake_espnow_state_t *fake_espnow_state(void);
/** After `after_sends` more accepted sends, ESP-NOW wedges until esp_now_deinit() +
 *  esp_now_init(): every send returns ESP_ERR_ESPNOW_NO_MEM, or (silent) is accepted and
 *  never completes. */
void fake_espnow_wedge_after(uint32_t after_sends, bool silent);
/** Every k-th unicast frame goes unacknowledged (0 = never). */
void fake_espnow_ack_fail_every(uint32_t k);
/** The RX is away: no unicast frame is acknowledged (broadcasts do not care). */
void fake_espnow_peer_absent(bool absent);
