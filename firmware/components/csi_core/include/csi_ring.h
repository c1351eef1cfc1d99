/*
 * csi_ring: lock-free single-producer / single-consumer ring of fixed-size items in caller
 * provided (preallocated) storage. The producer (Wi-Fi task, CSI callback) reserves a slot,
 * fills it in place and commits; the consumer (writer task) peeks and releases. Nothing
 * blocks, nothing allocates. A push into a full ring fails and is counted in `dropped`.
 *
 * Indices are free-running u32 counters (capacity must be a power of two, 2..32768), so
 * fill = head - tail even across wrap-around. Plain C99 plus GCC __atomic builtins
 * (acquire/release between the two cores).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint8_t *items;
    size_t item_size;
    uint32_t capacity;
    uint32_t head;       /* written by the producer: next slot to fill */
    uint32_t tail;       /* written by the consumer: next slot to read */
    uint32_t pushed;     /* producer: items committed */
    uint32_t dropped;    /* producer: pushes refused because the ring was full */
    uint32_t high_water; /* producer: highest fill seen after a commit */
} csi_ring_t;

/** storage must hold capacity * item_size bytes. Returns false for a bad capacity. */
bool csi_ring_init(csi_ring_t *r, void *storage, size_t item_size, uint32_t capacity);

/* Producer side. */
void *csi_ring_reserve(csi_ring_t *r); /* NULL (and dropped++) when full */
void csi_ring_commit(csi_ring_t *r);

/* Consumer side. */
const void *csi_ring_peek(const csi_ring_t *r); /* NULL when empty */
void csi_ring_release(csi_ring_t *r);

/* Either side (a consistent-enough snapshot for statistics). */
uint32_t csi_ring_fill(const csi_ring_t *r);
uint32_t csi_ring_dropped(const csi_ring_t *r);
uint32_t csi_ring_high_water(const csi_ring_t *r);

#ifdef __cplusplus
}
#endif
