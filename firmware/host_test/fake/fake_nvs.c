/* fake_nvs: an in-memory NVS (typed entries per namespace), loadable from the flash tool's
 * CSV. Like real NVS, a get with the wrong type finds nothing (ESP_ERR_NVS_NOT_FOUND). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_idf.h"
#include "nvs.h"
#include "nvs_flash.h"

#define S_MAX 64

typedef struct {
    char ns[16];
    char key[16];
    char enc[8]; /* u8, u16, u32, string */
    char value[64];
} s_entry_t;

static s_entry_t s_entries[S_MAX];
static int s_n;
static char s_open_ns[4][16];
static int s_nopen;

void fake_nvs_clear(void)
{
    s_n = 0;
    s_nopen = 0;
}

esp_err_t fake_nvs_set(const char *ns, const char *key, const char *enc, const char *value)
{
    if (s_n >= S_MAX || strlen(ns) > 15 || strlen(key) > 15 || strlen(enc) > 7 || strlen(value) > 63) {
        return ESP_ERR_INVALID_ARG;
    }
    s_entry_t *e = NULL;
    for (int i = 0; i < s_n && !e; i++) { /* a key written again replaces the old entry */
        e = !strcmp(s_entries[i].ns, ns) && !strcmp(s_entries[i].key, key) ? &s_entries[i] : NULL;
    }
    e = e ? e : &s_entries[s_n++];
    strcpy(e->ns, ns);
    strcpy(e->key, key);
    strcpy(e->enc, enc);
    strcpy(e->value, value);
    return ESP_OK;
}

/* Split a CSV line into at most 4 fields in place (no quoting in our CSVs). */
static int s_split(char *line, char *f[4])
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    f[n++] = line;
    for (char *p = line; *p && n < 4; p++) {
        if (*p == ',') {
            *p = '\0';
            f[n++] = p + 1;
        }
    }
    return n;
}

esp_err_t fake_nvs_load_csv(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        return ESP_ERR_NOT_FOUND;
    }
    char line[256], ns[16] = "";
    esp_err_t err = ESP_OK;
    while (err == ESP_OK && fgets(line, sizeof(line), fp)) {
        char *f[4];
        int n = s_split(line, f);
        if (n < 2 || line[0] == '#' || !strcmp(f[0], "key")) {
            continue;
        }
        if (!strcmp(f[1], "namespace")) {
            snprintf(ns, sizeof(ns), "%s", f[0]);
        } else if (n == 4 && !strcmp(f[1], "data")) {
            err = fake_nvs_set(ns, f[0], f[2], f[3]);
        } else {
            err = ESP_ERR_INVALID_ARG;
        }
    }
    fclose(fp);
    return err;
}

esp_err_t nvs_flash_init(void)
{
    return ESP_OK;
}

esp_err_t nvs_open(const char *ns, nvs_open_mode_t mode, nvs_handle_t *out)
{
    (void)mode;
    for (int i = 0; i < s_n; i++) {
        if (!strcmp(s_entries[i].ns, ns) && s_nopen < 4) {
            snprintf(s_open_ns[s_nopen], sizeof(s_open_ns[0]), "%s", ns);
            *out = (nvs_handle_t)(++s_nopen);
            return ESP_OK;
        }
    }
    return ESP_ERR_NVS_NOT_FOUND;
}

void nvs_close(nvs_handle_t handle)
{
    (void)handle;
}

static const s_entry_t *s_find(nvs_handle_t h, const char *key, const char *enc)
{
    if (h == 0 || (int)h > s_nopen) {
        return NULL;
    }
    for (int i = 0; i < s_n; i++) {
        const s_entry_t *e = &s_entries[i];
        if (!strcmp(e->ns, s_open_ns[h - 1]) && !strcmp(e->key, key) && !strcmp(e->enc, enc)) {
            return e;
        }
    }
    return NULL;
}

esp_err_t nvs_find_key(nvs_handle_t h, const char *key, nvs_type_t *out_type)
{
    static const struct {
        const char *enc;
        nvs_type_t type;
    } types[] = {{"u8", NVS_TYPE_U8}, {"u16", NVS_TYPE_U16}, {"u32", NVS_TYPE_U32}, {"string", NVS_TYPE_STR},
                 {"i8", NVS_TYPE_I8}, {"i16", NVS_TYPE_I16}, {"i32", NVS_TYPE_I32}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (s_find(h, key, types[i].enc)) {
            if (out_type) {
                *out_type = types[i].type;
            }
            return ESP_OK;
        }
    }
    return ESP_ERR_NVS_NOT_FOUND;
}

static esp_err_t s_get_uint(nvs_handle_t h, const char *key, const char *enc, unsigned long max, unsigned long *v)
{
    const s_entry_t *e = s_find(h, key, enc);
    if (!e) {
        return ESP_ERR_NVS_NOT_FOUND;
    }
    char *end;
    *v = strtoul(e->value, &end, 0);
    return *end == '\0' && *v <= max ? ESP_OK : ESP_ERR_INVALID_ARG;
}

esp_err_t nvs_get_u8(nvs_handle_t h, const char *key, uint8_t *out)
{
    unsigned long v = 0;
    esp_err_t err = s_get_uint(h, key, "u8", 0xFF, &v);
    *out = (uint8_t)v;
    return err;
}

esp_err_t nvs_get_u16(nvs_handle_t h, const char *key, uint16_t *out)
{
    unsigned long v = 0;
    esp_err_t err = s_get_uint(h, key, "u16", 0xFFFF, &v);
    *out = (uint16_t)v;
    return err;
}

esp_err_t nvs_get_u32(nvs_handle_t h, const char *key, uint32_t *out)
{
    unsigned long v = 0;
    esp_err_t err = s_get_uint(h, key, "u32", 0xFFFFFFFFul, &v);
    *out = (uint32_t)v;
    return err;
}

esp_err_t nvs_get_str(nvs_handle_t h, const char *key, char *out, size_t *length)
{
    const s_entry_t *e = s_find(h, key, "string");
    if (!e) {
        return ESP_ERR_NVS_NOT_FOUND;
    }
    size_t need = strlen(e->value) + 1;
    if (out && *length < need) {
        return ESP_ERR_NVS_INVALID_LENGTH;
    }
    if (out) {
        memcpy(out, e->value, need);
    }
    *length = need;
    return ESP_OK;
}
