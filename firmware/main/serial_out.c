/*
 * serial_out: USB-Serial-JTAG or UART1 as a plain byte pipe.
 *
 * USB-Serial-JTAG: the driver gets a 4 KiB TX buffer. A host that does not read (port closed,
 * capture stopped) lets the buffer fill, and then every write would wait its whole timeout:
 * 100 ms per frame made STATS and HELLO seconds late and starved the writer. So a write waits
 * at most SERIAL_OUT_TIMEOUT_MS, and after one write timed out the following ones do not wait
 * at all until one succeeds again (the host reads again). With no USB host at all (no SOF
 * packets: unplugged, or a power bank) nothing is attempted (usb_serial_jtag_is_connected(),
 * ESP-IDF v5.4 and later). The caller counts what was not written (dropped_write).
 *
 * UART: UART1 on CONFIG_CSI_EDGE_UART_TX_GPIO / RX_GPIO, never UART0: UART0 is the console,
 * where the ROM, the bootloader and a panic print whatever the log level, so data there would
 * be mixed with text. Writes block until the bytes are in the driver's ring buffer, so the
 * baud rate paces the writer.
 */
#include "serial_out.h"

#include <string.h>

#include "csi_proto.h"
#include "driver/uart.h"
#include "driver/usb_serial_jtag.h"
#include "esp_check.h"
#include "esp_idf_version.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "sdkconfig.h"

#define SERIAL_OUT_TIMEOUT_MS 20
#define SERIAL_OUT_USB_TX_BUF 4096
#define SERIAL_OUT_UART_TX_BUF 8192
#define SERIAL_OUT_RX_BUF 256
#define SERIAL_OUT_UART UART_NUM_1

static const char *TAG = "serial_out";
static uint8_t s_transport = CSI_TRANSPORT_USB;
static bool s_installed;
static bool s_stalled; /* the last USB write timed out: do not wait again until one succeeds */

static esp_err_t s_install_uart(const csi_config_t *cfg)
{
    uart_config_t uart = {
        .baud_rate = (int)cfg->baud,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    ESP_RETURN_ON_ERROR(uart_driver_install(SERIAL_OUT_UART, SERIAL_OUT_RX_BUF * 2, SERIAL_OUT_UART_TX_BUF, 0, NULL, 0),
                        TAG, "uart_driver_install");
    ESP_RETURN_ON_ERROR(uart_param_config(SERIAL_OUT_UART, &uart), TAG, "uart_param_config");
    ESP_RETURN_ON_ERROR(uart_set_pin(SERIAL_OUT_UART, CONFIG_CSI_EDGE_UART_TX_GPIO, CONFIG_CSI_EDGE_UART_RX_GPIO,
                                     UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE),
                        TAG, "uart_set_pin");
    return ESP_OK;
}

esp_err_t serial_out_init(const csi_config_t *cfg)
{
    if (s_installed) {
        return ESP_OK;
    }
    s_transport = cfg->transport;
    if (s_transport == CSI_TRANSPORT_USB) {
        usb_serial_jtag_driver_config_t usb = {
            .tx_buffer_size = SERIAL_OUT_USB_TX_BUF,
            .rx_buffer_size = SERIAL_OUT_RX_BUF,
        };
        ESP_RETURN_ON_ERROR(usb_serial_jtag_driver_install(&usb), TAG, "usb_serial_jtag_driver_install");
    } else {
        ESP_RETURN_ON_ERROR(s_install_uart(cfg), TAG, "UART%d", (int)SERIAL_OUT_UART);
    }
    s_installed = true;
    return ESP_OK;
}

static bool s_write_usb(const void *data, size_t len)
{
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 4, 0)
    if (!usb_serial_jtag_is_connected()) {
        s_stalled = true;
        return false;
    }
#endif
    TickType_t wait = s_stalled ? 0 : pdMS_TO_TICKS(SERIAL_OUT_TIMEOUT_MS);
    int n = usb_serial_jtag_write_bytes(data, len, wait);
    s_stalled = n != (int)len;
    return !s_stalled;
}

bool serial_out_write(const void *data, size_t len)
{
    if (!s_installed || len == 0) {
        return false;
    }
    if (s_transport == CSI_TRANSPORT_USB) {
        return s_write_usb(data, len);
    }
    return uart_write_bytes(SERIAL_OUT_UART, data, len) == (int)len;
}

bool serial_out_hello_requested(void)
{
    uint8_t buf[16];
    if (!s_installed) {
        return false;
    }
    int n = s_transport == CSI_TRANSPORT_USB ? usb_serial_jtag_read_bytes(buf, sizeof(buf), 0)
                                             : uart_read_bytes(SERIAL_OUT_UART, buf, sizeof(buf), 0);
    for (int i = 0; i < n; i++) {
        if (buf[i] == 'h' || buf[i] == 'H') {
            return true;
        }
    }
    return false;
}

bool serial_out_log(uint8_t level, const char *text)
{
    static uint8_t s_frame[CSI_PROTO_OVERHEAD + 1 + 200];
    size_t len = strlen(text);
    if (len > 200) {
        len = 200;
    }
    size_t n = csi_proto_encode_log(s_frame, sizeof(s_frame), level, text, len);
    return n && serial_out_write(s_frame, n);
}
