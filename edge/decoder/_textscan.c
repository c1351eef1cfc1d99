/*
 * The compiled kernel of the text decoder's fast path: one pass over a region of text lines.
 *
 * `csi_scan_region` classifies each line of a region (CR/CRLF already turned into LF) and
 * decodes the clean CSI rows straight into preallocated arrays; `text_fast.py` drives it
 * through ctypes and hands every line it does not decode to the numpy reference path
 * (`text.py`), so the results are identical (tests/unit/core/test_text_fast.py).
 *
 * The region is followed by PAD NUL bytes, so the array parser may look 3 bytes ahead.
 * Each line goes through these states; every byte is looked at once (a row's header columns
 * are re-read from the offsets recorded in HEAD, a few dozen bytes):
 *
 *   PREFIX  from the line start to `CSI_DATA` or LF, noting whether every byte was
 *           whitespace (space, 9..13) and whether `type,` occurred.
 *           LF first:  blank -> BLANK;  `type,` seen -> STOP;  else -> TEXT (a log line).
 *           `CSI_DATA` after `type,` -> STOP (maybe the CSI-Tool header line ending in CSI_DATA).
 *   HEAD    `CSI_DATA` must be followed by `,`; then up to `[`: every `,` ends a column
 *           (start/end recorded); a second `CSI_DATA` or LF -> FALLBACK. The text between
 *           the last `,` and `[` must be empty or one `"` (esp-csi's quote).
 *   LAYOUT  the column count selects the layout (`spec_of_width`, -1: none -> FALLBACK);
 *           each column is checked and converted by its kind:
 *             K_INT    -?[0-9]{1,18}, within its META field's range
 *             K_MAC    hh:hh:hh:hh:hh:hh (hex, either case)
 *             K_FLOAT  -?[0-9]+(.[0-9]+)?, at most 15 digits (exact; see parse_float)
 *             K_ROLE   printable, not starting with a digit (ESP32-CSI-Tool AP/STA)
 *             K_TEXT   printable (ignored)
 *           (printable: 0x21..0x7e except `"`, `[`, `]`; never empty)
 *   ARRAY   after `[`, up to `]`: separators (space, `,`, TAB, `;`) and tokens
 *           -?(0|[1-9][0-9]{0,2}) in -128..127, each followed by a separator or `]`;
 *           anything else (LF included: a torn row) -> FALLBACK. Values go to `values`.
 *   TAIL    after `]` to LF: anything but a second `CSI_DATA` (glued rows -> FALLBACK).
 *   CHECK   count even and not 0 (ARRAY stops at 612); esp-csi `len` equal to count -> ROW,
 *           else FALLBACK.
 *
 * STOP returns to Python at once (a header line changes the layout of the rows after it);
 * FALLBACK lines are handed to the reference path after the pass, TEXT lines are only counted.
 *
 * Plain C, no Python objects: the module init below exists only so that setuptools builds
 * this file as an extension and Python can find it; the kernel is called through ctypes.
 */
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { BLANK = 0, TEXT = 1, ROW = 2, FALLBACK = 3, STOP = 4 };
enum { K_TEXT = 0, K_INT = 1, K_MAC = 2, K_FLOAT = 3, K_ROLE = 4 };
enum { MAX_COLUMNS = 64, PAD = 4, MAX_INT_DIGITS = 18, MAX_FLOAT_DIGITS = 15, MAX_CSI_BYTES = 612 };

/* The constants Python checks before it trusts this build (text_kernel.py holds the same). */
const int64_t csi_scan_constants[] = {1, MAX_COLUMNS, PAD, MAX_INT_DIGITS, MAX_FLOAT_DIGITS, MAX_CSI_BYTES,
                                      BLANK, TEXT, ROW, FALLBACK, STOP, K_TEXT, K_INT, K_MAC, K_FLOAT, K_ROLE};

/* Everything one call reads and writes (mirrored by a ctypes.Structure in text_kernel.py). */
typedef struct {
    const uint8_t *buf; /* the region, then PAD NUL bytes */
    int64_t n;          /* region length */
    /* layouts in force: spec_of_width[w] (w columns -> spec, -1 none), then per spec and column */
    const int64_t *spec_of_width;
    int64_t widths; /* entries in spec_of_width */
    const int64_t *kinds, *fields, *lows, *highs; /* [spec][MAX_COLUMNS] */
    const int64_t *len_cols;                      /* [spec]: the `len` column, or -1 */
    const uint8_t *template_;                     /* one META record of unknowns */
    int64_t record_size;
    const int64_t *layout; /* [field][2]: byte offset and size in the record; the last is `mac` */
    int64_t layout_rows;
    /* outputs */
    int8_t *status;      /* [line] */
    int64_t *line_starts; /* [line] */
    int8_t *values;      /* CSI values of all rows back to back */
    int64_t *counts;     /* [row] */
    uint8_t *meta;       /* [row][record_size] */
    double *hosts;       /* [row] real_timestamp, NaN when absent */
    int64_t *row_lines;  /* [row] */
    int64_t *row_specs;  /* [row] */
    int64_t *col_starts, *col_ends; /* [MAX_COLUMNS] scratch */
    /* state, in and out */
    int64_t pos, line, row, w, text_lines;
    int64_t finished;
} csi_scan_t;

static uint8_t s_head_stops[256], s_separators[256], s_token_ends[256];
static double s_pow10[23];

static void s_init_tables(void) {
    const uint8_t head[] = {0, 10, 44, 67, 91}, sep[] = {32, 44, 9, 59};
    for (size_t i = 0; i < sizeof head; i++) s_head_stops[head[i]] = 1;
    for (size_t i = 0; i < sizeof sep; i++) s_separators[sep[i]] = s_token_ends[sep[i]] = 1;
    s_token_ends[93] = 1;
    double p = 1.0;
    for (int k = 0; k < 23; k++, p *= 10.0) s_pow10[k] = p; /* 10**k, k <= 22, is exact */
}

static int s_mark_at(const uint8_t *b, int64_t i, int64_t n) {
    return i + 8 <= n && memcmp(b + i, "CSI_DATA", 8) == 0;
}

static int s_type_at(const uint8_t *b, int64_t i, int64_t n) {
    return i + 5 <= n && memcmp(b + i, "type,", 5) == 0;
}

static int64_t s_line_end(const uint8_t *b, int64_t i, int64_t n) {
    if (i >= n) return i;
    const uint8_t *lf = memchr(b + i, 10, (size_t)(n - i));
    return lf ? (int64_t)(lf - b) : n;
}

/* -?[0-9]{1,18} */
static int s_parse_int(const uint8_t *b, int64_t s, int64_t e, int64_t *out) {
    int neg = s < e && b[s] == 45;
    if (neg) s++;
    if (e - s < 1 || e - s > MAX_INT_DIGITS) return 0;
    int64_t v = 0;
    for (int64_t i = s; i < e; i++) {
        int d = (int)b[i] - 48;
        if (d < 0 || d > 9) return 0;
        v = v * 10 + d;
    }
    *out = neg ? -v : v;
    return 1;
}

/* -?[0-9]+(.[0-9]+)? with at most 15 digits: m < 2**53 and 10**k are exact doubles, so
 * m / 10**k is one correctly rounded division: the double Python's float() gives. */
static int s_parse_float(const uint8_t *b, int64_t s, int64_t e, double *out) {
    int neg = s < e && b[s] == 45;
    if (neg) s++;
    int64_t m = 0, digits = 0, frac = -1;
    for (int64_t i = s; i < e; i++) {
        int c = b[i];
        if (c == 46 && frac < 0 && digits > 0) {
            frac = 0;
            continue;
        }
        int d = c - 48;
        if (d < 0 || d > 9) return 0;
        m = m * 10 + d;
        digits++;
        if (frac >= 0) frac++;
    }
    if (digits == 0 || digits > MAX_FLOAT_DIGITS || frac == 0) return 0;
    double v = (double)m / s_pow10[frac > 0 ? frac : 0];
    *out = neg ? -v : v;
    return 1;
}

static int s_hex(int c) {
    if (c >= 48 && c <= 57) return c - 48;
    if (c >= 97 && c <= 102) return c - 87;
    if (c >= 65 && c <= 70) return c - 55;
    return -1;
}

static int s_parse_mac(const uint8_t *b, int64_t s, int64_t e, int64_t *out) {
    if (e - s != 17) return 0;
    int64_t v = 0;
    for (int k = 0; k < 6; k++) {
        if (k && b[s + 3 * k - 1] != 58) return 0;
        int hi = s_hex(b[s + 3 * k]), lo = s_hex(b[s + 3 * k + 1]);
        if (hi < 0 || lo < 0) return 0;
        v = v * 256 + hi * 16 + lo;
    }
    *out = v;
    return 1;
}

static int s_printable(const uint8_t *b, int64_t s, int64_t e) {
    if (e <= s) return 0;
    for (int64_t i = s; i < e; i++) {
        int c = b[i];
        if (c < 33 || c > 126 || c == 34 || c == 91 || c == 93) return 0;
    }
    return 1;
}

/* an integer of `size` bytes, little-endian two's complement, into a record */
static void s_put(uint8_t *rec, int64_t offset, int64_t size, int64_t value) {
    uint64_t u = (uint64_t)value;
    for (int64_t k = 0; k < size; k++) rec[offset + k] = (uint8_t)(u >> (8 * k));
}

/* LAYOUT: check and convert the header columns of one row; -> ok, and the claimed len */
static int s_columns(csi_scan_t *s, int64_t spec, int64_t ncol, int64_t row, int64_t *claimed) {
    const uint8_t *b = s->buf;
    uint8_t *rec = s->meta + row * s->record_size;
    int64_t len_col = s->len_cols[spec];
    *claimed = -1;
    for (int64_t k = 0; k < ncol; k++) {
        int64_t st = s->col_starts[k], en = s->col_ends[k], at = spec * MAX_COLUMNS + k;
        int64_t kind = s->kinds[at], v;
        if (kind == K_INT) {
            if (!s_parse_int(b, st, en, &v) || v < s->lows[at] || v > s->highs[at]) return 0;
            int64_t f = s->fields[at];
            if (f >= 0) s_put(rec, s->layout[2 * f], s->layout[2 * f + 1], v);
            if (k == len_col) *claimed = v;
        } else if (kind == K_MAC) {
            if (!s_parse_mac(b, st, en, &v)) return 0;
            s_put(rec, s->layout[2 * (s->layout_rows - 1)], 8, v);
        } else if (kind == K_FLOAT) {
            double x;
            if (!s_parse_float(b, st, en, &x)) return 0;
            s->hosts[row] = x;
        } else if (!s_printable(b, st, en) || (kind == K_ROLE && b[st] >= 48 && b[st] <= 57)) {
            return 0;
        }
    }
    return 1;
}

/* ARRAY from the byte after `[`: -> ok; *at: `]` or a byte where the row failed; *w: write pos.
 * A token is read without branching on its length (the three bytes after its first digit are
 * looked at together): random 1..3 digit tokens would make a digit loop mispredict. */
static int s_array(csi_scan_t *s, int64_t i, int64_t *at, int64_t *w_io) {
    const uint8_t *b = s->buf;
    int64_t n = s->n, w = *w_io, limit = w + MAX_CSI_BYTES;
    while (i < n) {
        int c = b[i];
        if (s_separators[c]) {
            i++;
            continue;
        }
        if (c == 93) {
            *at = i;
            *w_io = w;
            return 1;
        }
        int64_t start = i;
        int neg = c == 45;
        int64_t j = neg ? i + 1 : i;
        int d0 = (int)b[j] - 48, d1 = (int)b[j + 1] - 48, d2 = (int)b[j + 2] - 48, d3 = (int)b[j + 3] - 48;
        int two = d1 >= 0 && d1 <= 9;
        int three = two && d2 >= 0 && d2 <= 9;
        int four = three && d3 >= 0 && d3 <= 9;
        int v = two ? 10 * d0 + d1 : d0;
        v = three ? 10 * v + d2 : v;
        v = neg ? -v : v;
        i = j + 1 + two + three;
        int bad = d0 < 0 || d0 > 9 || four || (d0 == 0 && (two || neg)) || v > 127 || v < -128;
        if (bad || i >= n || !s_token_ends[b[i]] || w == limit) {
            *at = start;
            *w_io = w;
            return 0;
        }
        s->values[w++] = (int8_t)v;
    }
    *at = i;
    *w_io = w;
    return 0;
}

/* HEAD .. CHECK for the row whose `CSI_DATA` is at buf[at] -> status; *end: its line end */
static int s_row(csi_scan_t *s, int64_t at, int64_t row, int64_t *end) {
    const uint8_t *b = s->buf;
    int64_t n = s->n, i = at + 8;
    if (i >= n || b[i] != 44) return *end = s_line_end(b, i, n), FALLBACK;
    i++;
    int64_t start = i, ncol = 0;
    for (;; i++) { /* HEAD */
        int c = b[i];
        if (!s_head_stops[c]) continue; /* one test per ordinary byte */
        if (i >= n || c == 10) return *end = i, FALLBACK;
        if (c == 91) break;
        if (c == 44) {
            if (ncol == MAX_COLUMNS) return *end = s_line_end(b, i, n), FALLBACK;
            s->col_starts[ncol] = start;
            s->col_ends[ncol] = i;
            ncol++;
            start = i + 1;
        } else if (c == 67 && s_mark_at(b, i, n)) {
            return *end = s_line_end(b, i, n), FALLBACK;
        }
    }
    if (!(i == start || (i == start + 1 && b[start] == 34)) || ncol >= s->widths)
        return *end = s_line_end(b, i, n), FALLBACK;
    int64_t spec = s->spec_of_width[ncol];
    if (spec < 0) return *end = s_line_end(b, i, n), FALLBACK;
    memcpy(s->meta + row * s->record_size, s->template_, (size_t)s->record_size);
    s->hosts[row] = Py_NAN;
    int64_t claimed, w = s->w;
    if (!s_columns(s, spec, ncol, row, &claimed)) return *end = s_line_end(b, i, n), FALLBACK;
    if (!s_array(s, i + 1, &i, &w)) return *end = s_line_end(b, i, n), FALLBACK;
    int64_t count = w - s->w;
    for (i++; i < n && b[i] != 10; i++) /* TAIL */
        if (b[i] == 67 && s_mark_at(b, i, n)) return *end = s_line_end(b, i, n), FALLBACK;
    *end = i;
    if (count == 0 || count % 2 == 1 || (s->len_cols[spec] >= 0 && claimed != count)) return FALLBACK; /* CHECK */
    s->counts[row] = count;
    s->row_specs[row] = spec;
    s->w = w;
    return ROW;
}

/* Classify the lines of the region from s->pos (line number s->line) on; decode clean rows from
 * slot s->row and value offset s->w on. Stops after the last line or at a STOP line (then
 * pos/line are the STOP line's and finished is 0). */
int csi_scan_region(csi_scan_t *s) {
    const uint8_t *b = s->buf;
    int64_t n = s->n, pos = s->pos, line = s->line;
    if (!s_head_stops[0]) s_init_tables();
    s->finished = 0;
    while (pos <= n) {
        s->line_starts[line] = pos;
        int64_t i = pos, at = -1;
        int blank = 1, typed = 0;
        for (; i < n; i++) { /* PREFIX */
            int c = b[i];
            if (c == 10) break;
            if (c == 67 && s_mark_at(b, i, n)) {
                at = i;
                break;
            }
            if (c == 116 && s_type_at(b, i, n)) typed = 1;
            if (blank && !(c == 32 || (c >= 9 && c <= 13))) blank = 0;
        }
        int code;
        if (typed) {
            code = STOP;
        } else if (at < 0) {
            code = blank ? BLANK : TEXT;
        } else {
            code = s_row(s, at, s->row, &i);
        }
        s->status[line] = (int8_t)code;
        if (code == STOP) {
            s->pos = pos;
            s->line = line;
            return 0;
        }
        if (code == ROW) s->row_lines[s->row++] = line;
        else if (code == TEXT) s->text_lines++;
        line++;
        pos = i + 1;
    }
    s->pos = pos;
    s->line = line;
    s->finished = 1;
    return 0;
}

static struct PyModuleDef s_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_textscan",
    .m_doc = "The text decoder's compiled kernel (called through ctypes).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__textscan(void) {
    s_init_tables();
    return PyModule_Create(&s_module);
}
