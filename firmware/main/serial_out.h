/* serial_out: the byte pipe to the host, USB-Serial-JTAG or UART1 (exactly one task writes to
 * it at a time: the supervisor until the role's task starts, then that task). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csi_config.h"
#include "esp_err.h"

/** Install the transport's driver (again after a failure; a no-op once installed). */
esp_err_t serial_out_init(const csi_config_t *cfg);

/** Write all of data; false when the transport did not take it (no USB host, or a host that
 *  does not read: after one timeout, writes fail at once until the host reads again). */
bool serial_out_write(const void *data, size_t len);

/** Non-blocking: did the host ask for a HELLO (it sent a byte 'h' or 'H')? */
bool serial_out_hello_requested(void);

/** Send a protocol-v1 LOG frame (level 1 error .. 4 debug). */
bool serial_out_log(uint8_t level, const char *text);
