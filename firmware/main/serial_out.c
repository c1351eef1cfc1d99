/*
 * serial_out: USB-Serial-JTAG or UART0 as a plain byte pipe. The USB driver gets a 4 KiB TX
 * buffer and writes wait at most SERIAL_OUT_TIMEOUT_MS (a host that stopped reading makes
 * writes fail, which the caller counts as dropped_write); UART writes block until the bytes
 * are in the driver's ring buffer, so the baud rate paces the writer.
 */
#include "serial_out.h"

#include <string.h>

#include "csi_proto.h"
#include "driver/uart.h"
#include "driver/usb_serial_jtag.h"
#include "esp_check.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"

#define SERIAL_OUT_TIMEOUT_MS 100
#define SERIAL_OUT_USB_TX_BUF 4096
#define SERIAL_OUT_UART_TX_BUF 8192
#define SERIAL_OUT_RX_BUF 256

static const char *TAG = "serial_out";
static uint8_t s_transport = CSI_TRANSPORT_USB;

esp_err_t serial_out_init(const csi_config_t *cfg)
{
    s_transport = cfg->transport;
    if (s_transport == CSI_TRANSPORT_USB) {
        usb_serial_jtag_driver_config_t usb = {
            .tx_buffer_size = SERIAL_OUT_USB_TX_BUF,
            .rx_buffer_size = SERIAL_OUT_RX_BUF,
        };
        ESP_RETURN_ON_ERROR(usb_serial_jtag_driver_install(&usb), TAG, "usb_serial_jtag_driver_install");
        return ESP_OK;
    }
    uart_config_t uart = {
        .baud_rate = (int)cfg->baud,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    /* UART0 is also the log console: keep logs off the data stream. */
    esp_log_level_set("*", ESP_LOG_NONE);
    ESP_RETURN_ON_ERROR(uart_driver_install(UART_NUM_0, SERIAL_OUT_RX_BUF * 2, SERIAL_OUT_UART_TX_BUF, 0, NULL, 0),
                        TAG, "uart_driver_install");
    ESP_RETURN_ON_ERROR(uart_param_config(UART_NUM_0, &uart), TAG, "uart_param_config");
    return ESP_OK;
}

bool serial_out_write(const void *data, size_t len)
{
    int n;
    if (s_transport == CSI_TRANSPORT_USB) {
        n = usb_serial_jtag_write_bytes(data, len, pdMS_TO_TICKS(SERIAL_OUT_TIMEOUT_MS));
    } else {
        n = uart_write_bytes(UART_NUM_0, data, len);
    }
    return n == (int)len;
}

bool serial_out_hello_requested(void)
{
    uint8_t buf[16];
    int n = s_transport == CSI_TRANSPORT_USB ? usb_serial_jtag_read_bytes(buf, sizeof(buf), 0)
                                             : uart_read_bytes(UART_NUM_0, buf, sizeof(buf), 0);
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
