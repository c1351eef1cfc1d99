/*
 * fake_serial: USB-Serial-JTAG, UART0 (console) and UART1, each a rate-limited link behind a
 * driver TX buffer (see fake_idf.h). Bytes a driver accepted are appended to the port's output
 * (what the host receives, in order).
 *
 * The link drains the buffer at its byte rate, except a USB link whose host does not read
 * (stalled) or is absent: then the buffer fills, and a write that does not fit waits its
 * timeout and takes nothing (ESP-IDF v5.4 usb_serial_jtag_write_bytes is all or nothing).
 */
#include <stdlib.h>
#include <string.h>

#include "driver/uart.h"
#include "driver/usb_serial_jtag.h"
#include "fake_idf.h"

typedef struct {
    bool installed;
    double bytes_per_s;
    double capacity; /* driver TX buffer, bytes */
    double buffered; /* bytes waiting in it */
    uint64_t updated_us;
    uint8_t *out;
    size_t len, cap;
    uint8_t in[256];
    size_t in_len;
} s_port_t;

static s_port_t s_ports[FAKE_PORT_COUNT];
static bool s_usb_stalled;
static bool s_usb_connected = true;
static uint64_t s_failed_block_us;

static void s_append(s_port_t *p, const void *data, size_t n)
{
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 65536;
        while (cap < p->len + n) {
            cap *= 2;
        }
        uint8_t *grown = realloc(p->out, cap);
        if (!grown) {
            abort();
        }
        p->out = grown;
        p->cap = cap;
    }
    memcpy(p->out + p->len, data, n);
    p->len += n;
}

static bool s_draining(fake_port_t port)
{
    return port != FAKE_PORT_USB || (!s_usb_stalled && s_usb_connected);
}

/* Drain the buffer up to now. */
static void s_update(fake_port_t port)
{
    s_port_t *p = &s_ports[port];
    uint64_t now = fake_now_us();
    if (s_draining(port)) {
        p->buffered -= (double)(now - p->updated_us) * p->bytes_per_s / 1e6;
        if (p->buffered < 0) {
            p->buffered = 0;
        }
    }
    p->updated_us = now;
}

/* Accept `size` bytes once they fit, waiting at most timeout_us; -1 if not installed. */
static int s_write(fake_port_t port, const void *src, size_t size, uint64_t timeout_us)
{
    s_port_t *p = &s_ports[port];
    if (!p->installed || !src) {
        return -1;
    }
    s_update(port);
    double excess = p->buffered + (double)size - p->capacity;
    if (excess > 0) {
        bool never = !s_draining(port);
        double wait_us = never ? 1e18 : excess * 1e6 / p->bytes_per_s;
        if (wait_us > (double)timeout_us) {
            uint64_t t0 = fake_now_us();
            fake_block_until(t0 + timeout_us);
            s_failed_block_us += fake_now_us() - t0;
            s_update(port);
            return 0;
        }
        fake_block_until(fake_now_us() + (uint64_t)(wait_us + 0.999));
        s_update(port);
    }
    p->buffered += (double)size;
    s_append(p, src, size);
    return (int)size;
}

static int s_read(fake_port_t port, void *buf, uint32_t length)
{
    s_port_t *p = &s_ports[port];
    if (!p->installed) {
        return -1;
    }
    size_t n = p->in_len < length ? p->in_len : length;
    memcpy(buf, p->in, n);
    memmove(p->in, p->in + n, p->in_len - n);
    p->in_len -= n;
    return (int)n;
}

static void s_install(fake_port_t port, double bytes_per_s, double capacity)
{
    s_port_t *p = &s_ports[port];
    p->installed = true;
    p->bytes_per_s = bytes_per_s;
    p->capacity = capacity;
    p->buffered = 0;
    p->updated_us = fake_now_us();
}

void fake_boot(void)
{
    static const char banner[] = "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\n"
                                 "rst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n"
                                 "SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x403c9880\r\n";
    if (!s_ports[FAKE_PORT_UART0].installed) {
        s_install(FAKE_PORT_UART0, 115200 / 10.0, 128); /* the console: the ROM's 115200 baud */
    }
    s_append(&s_ports[FAKE_PORT_UART0], banner, sizeof(banner) - 1);
}

/* The console (esp_log_write): UART0, whether or not a driver is installed on it. */
void fake_console_write(const char *text, size_t len)
{
    if (!s_ports[FAKE_PORT_UART0].installed) {
        s_install(FAKE_PORT_UART0, 115200 / 10.0, 128);
    }
    s_append(&s_ports[FAKE_PORT_UART0], text, len);
}

esp_err_t usb_serial_jtag_driver_install(usb_serial_jtag_driver_config_t *cfg)
{
    FAKE_RETURN_IF_INJECTED("usb_serial_jtag_driver_install");
    if (!cfg || cfg->tx_buffer_size == 0 || cfg->rx_buffer_size == 0 || s_ports[FAKE_PORT_USB].installed) {
        return ESP_FAIL;
    }
    s_install(FAKE_PORT_USB, FAKE_USB_BYTES_PER_S, cfg->tx_buffer_size);
    return ESP_OK;
}

int usb_serial_jtag_write_bytes(const void *src, size_t size, uint32_t ticks_to_wait)
{
    return s_write(FAKE_PORT_USB, src, size, (uint64_t)ticks_to_wait * 1000u);
}

int usb_serial_jtag_read_bytes(void *buf, uint32_t length, uint32_t ticks_to_wait)
{
    (void)ticks_to_wait;
    return s_read(FAKE_PORT_USB, buf, length);
}

bool usb_serial_jtag_is_connected(void)
{
    return s_usb_connected;
}

static fake_port_t s_uart_port(uart_port_t uart_num)
{
    return uart_num == UART_NUM_0 ? FAKE_PORT_UART0 : uart_num == UART_NUM_1 ? FAKE_PORT_UART1 : FAKE_PORT_COUNT;
}

esp_err_t uart_driver_install(uart_port_t uart_num, int rx_buffer_size, int tx_buffer_size, int queue_size,
                              QueueHandle_t *uart_queue, int intr_alloc_flags)
{
    (void)queue_size;
    (void)uart_queue;
    (void)intr_alloc_flags;
    fake_port_t port = s_uart_port(uart_num);
    if (port == FAKE_PORT_COUNT || rx_buffer_size <= 128 || tx_buffer_size < 0) {
        return ESP_ERR_INVALID_ARG;
    }
    /* UART0 carries the console already; installing a driver there is allowed (and mixes) */
    s_install(port, 115200 / 10.0, tx_buffer_size ? tx_buffer_size : 128); /* 128: the hardware FIFO */
    return ESP_OK;
}

esp_err_t uart_param_config(uart_port_t uart_num, const uart_config_t *cfg)
{
    fake_port_t port = s_uart_port(uart_num);
    if (port == FAKE_PORT_COUNT || !cfg || cfg->baud_rate <= 0 || cfg->baud_rate > 5000000) {
        return ESP_ERR_INVALID_ARG;
    }
    s_ports[port].bytes_per_s = cfg->baud_rate / 10.0; /* 8N1: 10 bits per byte */
    return ESP_OK;
}

esp_err_t uart_set_pin(uart_port_t uart_num, int tx_io_num, int rx_io_num, int rts_io_num, int cts_io_num)
{
    (void)rts_io_num;
    (void)cts_io_num;
    bool ok = s_uart_port(uart_num) != FAKE_PORT_COUNT && tx_io_num >= -1 && tx_io_num <= 48 && rx_io_num >= -1 &&
              rx_io_num <= 48;
    return ok ? ESP_OK : ESP_ERR_INVALID_ARG;
}

int uart_write_bytes(uart_port_t uart_num, const void *src, size_t size)
{
    /* blocks until the bytes are in the ring buffer: no timeout */
    fake_port_t port = s_uart_port(uart_num);
    return port == FAKE_PORT_COUNT ? -1 : s_write(port, src, size, UINT64_MAX / 4);
}

int uart_read_bytes(uart_port_t uart_num, void *buf, uint32_t length, TickType_t ticks_to_wait)
{
    (void)ticks_to_wait;
    fake_port_t port = s_uart_port(uart_num);
    return port == FAKE_PORT_COUNT ? -1 : s_read(port, buf, length);
}

void fake_serial_set_stalled(bool stalled)
{
    s_update(FAKE_PORT_USB);
    s_usb_stalled = stalled;
}

void fake_serial_set_usb_connected(bool on)
{
    s_update(FAKE_PORT_USB);
    s_usb_connected = on;
}

const uint8_t *fake_serial_output(fake_port_t port, size_t *len)
{
    *len = s_ports[port].len;
    return s_ports[port].out;
}

void fake_serial_host_send(fake_port_t port, const void *data, size_t len)
{
    s_port_t *p = &s_ports[port];
    size_t room = sizeof(p->in) - p->in_len;
    size_t n = len < room ? len : room;
    memcpy(p->in + p->in_len, data, n);
    p->in_len += n;
}

uint32_t fake_serial_bytes_per_s(fake_port_t port)
{
    return (uint32_t)s_ports[port].bytes_per_s;
}

uint64_t fake_serial_failed_block_us(void)
{
    return s_failed_block_us;
}

void fake_serial_free(void)
{
    for (int i = 0; i < FAKE_PORT_COUNT; i++) {
        free(s_ports[i].out);
    }
    memset(s_ports, 0, sizeof(s_ports));
    s_usb_stalled = false;
    s_usb_connected = true;
    s_failed_block_us = 0;
}
