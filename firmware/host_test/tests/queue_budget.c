/*
 * Finding 12: the largest RX queue Kconfig allows (2^max of CSI_EDGE_QUEUE_LEN_LOG2's range)
 * must fit the 96 KiB budget its help text argues for. A slot is what role_rx.c stores per
 * packet: the CSI header struct, the source MAC and up to 612 CSI bytes (role_rx.c asserts
 * the same bound at compile time for the configured length).
 *   queue_budget main/Kconfig.projbuild
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csi_proto.h"

typedef struct {
    csi_proto_csi_t hdr;
    unsigned char mac[6];
    signed char csi[CSI_PROTO_MAX_CSI];
} s_slot_t;

static const unsigned long s_budget = 96ul * 1024ul;

int main(int argc, char **argv)
{
    FILE *f = argc == 2 ? fopen(argv[1], "r") : NULL;
    if (!f) {
        fprintf(stderr, "usage: queue_budget main/Kconfig.projbuild\n");
        return 2;
    }
    char line[256];
    int in_symbol = 0, lo = -1, hi = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "config CSI_EDGE_QUEUE_LEN_LOG2")) {
            in_symbol = 1;
        } else if (in_symbol && sscanf(line, " range %d %d", &lo, &hi) == 2) {
            break;
        }
    }
    fclose(f);
    if (hi < 0) {
        fprintf(stderr, "%s: no range for CSI_EDGE_QUEUE_LEN_LOG2\n", argv[1]);
        return 1;
    }
    unsigned long bytes = (1ul << hi) * (unsigned long)sizeof(s_slot_t);
    printf("CSI_EDGE_QUEUE_LEN_LOG2 %d..%d: slot %zu B, largest queue %lu B, budget %lu B\n", lo, hi,
           sizeof(s_slot_t), bytes, s_budget);
    if (bytes > s_budget) {
        fprintf(stderr, "Kconfig allows a %lu-byte RX queue in .bss (2^%d slots of %zu B): more than %lu\n", bytes,
                hi, sizeof(s_slot_t), s_budget);
        return 1;
    }
    return 0;
}
