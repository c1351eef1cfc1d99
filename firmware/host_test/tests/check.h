/* check.h: the few assertion macros the host tests need (fail = message + exit code 1). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_check_failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            s_check_failures++;                                                       \
        }                                                                             \
    } while (0)

#define CHECK_EQ(a, b)                                                                       \
    do {                                                                                     \
        long long s_a = (long long)(a), s_b = (long long)(b);                                \
        if (s_a != s_b) {                                                                    \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", __FILE__, \
                    __LINE__, #a, #b, s_a, s_b);                                             \
            s_check_failures++;                                                              \
        }                                                                                    \
    } while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#define RUN(test)                               \
    do {                                        \
        int s_before = s_check_failures;        \
        test();                                 \
        printf("%-40s %s\n", #test, s_check_failures == s_before ? "ok" : "FAILED"); \
    } while (0)

#define CHECK_DONE() (s_check_failures ? (fprintf(stderr, "%d check(s) failed\n", s_check_failures), 1) : 0)
