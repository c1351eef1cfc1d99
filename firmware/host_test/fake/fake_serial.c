/*
 * fake_serial: USB-Serial-JTAG and UART0 as a rate-limited link behind a driver TX buffer
 * (see fake_idf.h). Bytes that reach the "host" are appended to an output buffer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/uart.h"
#include "driver/usb_serial_jtag.h"
#include "fake_idf.h"

static struct {
    int installed; /* 0 none, 1 USB, 2 UART */
    double bytes_per_s;
    double buffer_bytes;
    double free_at_us; /* when the link has sent everything written so far */
    bool stalled;
    uint8_t *out;
    size_t len, cap;
    uint8_t in[256];
    size_t in_len;
} s_port;

static void s_append(const void *data, size_t n)
{
    if (s_port.len + n > s_port.cap) {
        size_t cap = s_port.cap ? s_port.cap : 65536;
        while (cap < s_port.len + n) {
            cap *= 2;
        }
        uint8_t *p = realloc(s_port.out, cap);
        if (!p) {
            abort();
        }
        s_port.out = p;
        s_port.cap = cap;
    }
    memcpy(s_port.out + s_port.len, data, n);
    s_port.len += n;
}

/* Block until `size` bytes fit in the TX buffer; false when that takes longer than timeout. */
static bool s_wait_room(size_t size, uint64_t timeout_us)
{
    double now = (double)fake_now_us();
    double size_us = (double)size * 1e6 / s_port.bytes_per_s;
    double cap_us = s_port.buffer_bytes * 1e6 / s_port.bytes_per_s;
    double backlog = s_port.free_at_us > now ? s_port.free_at_us - now : 0.0;
    if (backlog + size_us <= cap_us) {
        return true;
    }
    double wake = size_us >= cap_us ? s_port.free_at_us : s_port.free_at_us - (cap_us - size_us);
    if (wake - now > (double)timeout_us) {
        fake_block_until(fake_now_us() + timeout_us);
        return false;
    }
    fake_block_until((uint64_t)ceil(wake));
    return true;
}

static int s_write(const void *src, size_t size, uint64_t timeout_us)
{
    if (!s_port.installed || !src) {
        return -1;
    }
    if (s_port.stalled && s_port.installed == 1) {
        fake_block_until(fake_now_us() + timeout_us);
        return 0;
    }
    if (!s_wait_room(size, timeout_us)) {
        return 0;
    }
    double now = (double)fake_now_us();
    double start = s_port.free_at_us > now ? s_port.free_at_us : now;
    s_port.free_at_us = start + (double)size * 1e6 / s_port.bytes_per_s;
    s_append(src, size);
    return (int)size;
}

static int s_read(void *buf, uint32_t length)
{
    size_t n = s_port.in_len < length ? s_port.in_len : length;
    memcpy(buf, s_port.in, n);
    memmove(s_port.in, s_port.in + n, s_port.in_len - n);
    s_port.in_len -= n;
    return (int)n;
}

esp_err_t usb_serial_jtag_driver_install(usb_serial_jtag_driver_config_t *cfg)
{
    if (!cfg || cfg->tx_buffer_size == 0 || cfg->rx_buffer_size == 0 || s_port.installed) {
        return ESP_FAIL;
    }
    s_port.installed = 1;
    s_port.bytes_per_s = FAKE_USB_BYTES_PER_S;
    s_port.buffer_bytes = cfg->tx_buffer_size;
    return ESP_OK;
}

int usb_serial_jtag_write_bytes(const void *src, size_t size, uint32_t ticks_to_wait)
{
    return s_port.installed == 1 ? s_write(src, size, (uint64_t)ticks_to_wait * 1000u) : -1;
}

int usb_serial_jtag_read_bytes(void *buf, uint32_t length, uint32_t ticks_to_wait)
{
    (void)ticks_to_wait;
    return s_port.installed == 1 ? s_read(buf, length) : -1;
}

esp_err_t uart_driver_install(uart_port_t uart_num, int rx_buffer_size, int tx_buffer_size, int queue_size,
                              QueueHandle_t *uart_queue, int intr_alloc_flags)
{
    (void)queue_size;
    (void)uart_queue;
    (void)intr_alloc_flags;
    if (uart_num != UART_NUM_0 || rx_buffer_size <= 128 || tx_buffer_size < 0 || s_port.installed) {
        return ESP_ERR_INVALID_ARG;
    }
    s_port.installed = 2;
    s_port.buffer_bytes = tx_buffer_size ? tx_buffer_size : 128; /* 128: the hardware FIFO */
    s_port.bytes_per_s = 115200 / 10.0;
    return ESP_OK;
}

esp_err_t uart_param_config(uart_port_t uart_num, const uart_config_t *cfg)
{
    if (uart_num != UART_NUM_0 || !cfg || cfg->baud_rate <= 0 || cfg->baud_rate > 5000000) {
        return ESP_ERR_INVALID_ARG;
    }
    s_port.bytes_per_s = cfg->baud_rate / 10.0; /* 8N1: 10 bits per byte */
    return ESP_OK;
}

int uart_write_bytes(uart_port_t uart_num, const void *src, size_t size)
{
    /* blocks until the bytes are in the ring buffer: no timeout */
    return uart_num == UART_NUM_0 && s_port.installed == 2 ? s_write(src, size, UINT64_MAX / 4) : -1;
}

int uart_read_bytes(uart_port_t uart_num, void *buf, uint32_t length, TickType_t ticks_to_wait)
{
    (void)ticks_to_wait;
    return uart_num == UART_NUM_0 && s_port.installed == 2 ? s_read(buf, length) : -1;
}

void fake_serial_set_stalled(bool stalled)
{
    s_port.stalled = stalled;
}

const uint8_t *fake_serial_output(size_t *len)
{
    *len = s_port.len;
    return s_port.out;
}

void fake_serial_host_send(const void *data, size_t len)
{
    size_t room = sizeof(s_port.in) - s_port.in_len;
    size_t n = len < room ? len : room;
    memcpy(s_port.in + s_port.in_len, data, n);
    s_port.in_len += n;
}

uint32_t fake_serial_bytes_per_s(void)
{
    return (uint32_t)s_port.bytes_per_s;
}

void fake_serial_free(void)
{
    free(s_port.out);
    memset(&s_port, 0, sizeof(s_port));
}
