/* csi_ring: SPSC ring of fixed-size items (see csi_ring.h). */
#include "csi_ring.h"

#define S_LOAD(p, order) __atomic_load_n((p), (order))
#define S_STORE(p, v, order) __atomic_store_n((p), (v), (order))

bool csi_ring_init(csi_ring_t *r, void *storage, size_t item_size, uint32_t capacity)
{
    if (!r || !storage || item_size == 0 || capacity < 2 || capacity > 32768 ||
        (capacity & (capacity - 1)) != 0) {
        return false;
    }
    r->items = (uint8_t *)storage;
    r->item_size = item_size;
    r->capacity = capacity;
    r->head = r->tail = 0;
    r->pushed = r->dropped = r->high_water = 0;
    return true;
}

void *csi_ring_reserve(csi_ring_t *r)
{
    uint32_t head = S_LOAD(&r->head, __ATOMIC_RELAXED);
    uint32_t tail = S_LOAD(&r->tail, __ATOMIC_ACQUIRE);
    if (head - tail >= r->capacity) {
        S_STORE(&r->dropped, r->dropped + 1, __ATOMIC_RELAXED);
        return NULL;
    }
    return r->items + (size_t)(head & (r->capacity - 1)) * r->item_size;
}

void csi_ring_commit(csi_ring_t *r)
{
    uint32_t head = S_LOAD(&r->head, __ATOMIC_RELAXED) + 1;
    S_STORE(&r->head, head, __ATOMIC_RELEASE);
    S_STORE(&r->pushed, r->pushed + 1, __ATOMIC_RELAXED);
    uint32_t fill = head - S_LOAD(&r->tail, __ATOMIC_ACQUIRE);
    if (fill > r->high_water) {
        S_STORE(&r->high_water, fill, __ATOMIC_RELAXED);
    }
}

const void *csi_ring_peek(const csi_ring_t *r)
{
    uint32_t tail = S_LOAD(&r->tail, __ATOMIC_RELAXED);
    uint32_t head = S_LOAD(&r->head, __ATOMIC_ACQUIRE);
    if (head == tail) {
        return NULL;
    }
    return r->items + (size_t)(tail & (r->capacity - 1)) * r->item_size;
}

void csi_ring_release(csi_ring_t *r)
{
    S_STORE(&r->tail, S_LOAD(&r->tail, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

uint32_t csi_ring_fill(const csi_ring_t *r)
{
    return S_LOAD(&r->head, __ATOMIC_ACQUIRE) - S_LOAD(&r->tail, __ATOMIC_ACQUIRE);
}

uint32_t csi_ring_dropped(const csi_ring_t *r)
{
    return S_LOAD(&r->dropped, __ATOMIC_RELAXED);
}

uint32_t csi_ring_high_water(const csi_ring_t *r)
{
    return S_LOAD(&r->high_water, __ATOMIC_RELAXED);
}
