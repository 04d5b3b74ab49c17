/* request_view.c: the readable output of the engine's replies (see
 * request.h): a record as "label: value" lines, a list as a table, money,
 * instants and enum values as people read them. -o json needs none of it. */
#include "request.h"
#include "values.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- output --------------------------------------------------------------- */

static const char *s_render(const json_t *obj, const req_col_t *col, int table, char *buf,
                            size_t len)
{
    const json_t *v = req_get(obj, col->key);
    int64_t n;
    if (col->view == REQ_V_FLAGS) {
        size_t at = 0;
        buf[0] = 0;
        for (const char *p = col->key; *p && at < len;) {
            size_t item = strcspn(p, ","), klen = strcspn(p, "=");
            char key[96];
            if (klen < item && klen < sizeof key) {
                snprintf(key, sizeof key, "%.*s", (int)klen, p);
                if (json_is_true(json_object_get(obj, key)))
                    at += (size_t)snprintf(buf + at, len - at, "%s%.*s", at ? ", " : "",
                                           (int)(item - klen - 1), p + klen + 1);
            }
            p += item;
            p += *p == ',';
        }
        return buf[0] ? buf : NULL;
    }
    if (col->view == REQ_V_COUNT) {
        snprintf(buf, len, "%zu", json_array_size(v));
        return buf;
    }
    if (!req_present(v))
        return NULL;
    buf[0] = 0;
    switch (col->view) {
    case REQ_V_TEXT:
        if (json_is_string(v))
            snprintf(buf, len, "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "");
        break;
    case REQ_V_FIRST:
        snprintf(buf, len, "%s", s_or_empty(json_string_value(json_array_get(v, 0))));
        break;
    case REQ_V_JOIN:
    case REQ_V_FIELDS:
    case REQ_V_STAGES:
        for (size_t i = 0, at = 0; i < json_array_size(v) && at < len; i++) {
            const json_t *e = json_array_get(v, i);
            const char *sep = i ? ", " : "";
            if (col->view == REQ_V_JOIN)
                at += (size_t)snprintf(buf + at, len - at, "%s%s", sep,
                                       s_or_empty(json_string_value(e)));
            else if (col->view == REQ_V_FIELDS)
                at += (size_t)snprintf(buf + at, len - at, "%s%s=%s", sep, req_str(e, "key"),
                                       req_str(e, "value"));
            else
                at += (size_t)snprintf(buf + at, len - at, "%s%s %d%%", sep, req_str(e, "name"),
                                       (int)json_integer_value(json_object_get(e, "probability")));
        }
        break;
    case REQ_V_ENUM:
        if (col->enum_desc && json_is_string(v))
            req_enum_word(col->enum_desc, json_string_value(v), buf, len);
        break;
    case REQ_V_ENUMS:
        for (size_t i = 0, at = 0; col->enum_desc && i < json_array_size(v) && at < len; i++) {
            char word[96];
            const char *name = json_string_value(json_array_get(v, i));
            at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "",
                                   name ? req_enum_word(col->enum_desc, name, word, sizeof word)
                                        : "");
        }
        break;
    case REQ_V_CLOCK:
        if (req_i64(v, &n) == 0 && n >= 0 && n <= 24 * 60)
            snprintf(buf, len, "%02d:%02d", (int)(n / 60), (int)(n % 60));
        break;
    case REQ_V_OFFSET:
        if (req_i64(v, &n) == 0 && n > -24 * 60 && n < 24 * 60)
            snprintf(buf, len, "%c%02d:%02d", n < 0 ? '-' : '+', (int)(llabs(n) / 60),
                     (int)(llabs(n) % 60));
        break;
    case REQ_V_MONEY:
    case REQ_V_DECIMAL:
        if (req_i64(v, &n) == 0) {
            /* The currency is the sibling "currency" of the amount; its minor
             * units say where the point goes (JPY none, KWD three). */
            char path[96];
            const char *dot = strrchr(col->key, '.');
            snprintf(path, sizeof path, "%.*s%scurrency", dot ? (int)(dot - col->key) : 0, col->key,
                     dot ? "." : "");
            const char *cur = req_str(obj, path);
            val_money_format_in(n, val_currency_digits(cur), buf, len);
            if (col->view == REQ_V_MONEY && *cur) {
                size_t at = strlen(buf);
                snprintf(buf + at, len - at, " %s", cur);
            }
        }
        break;
    case REQ_V_DATETIME:
        if (req_i64(v, &n) == 0)
            val_time_format(n, buf, len);
        break;
    case REQ_V_BOOL:
        snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "");
        break;
    case REQ_V_PERSON:
        /* A table shows the name; a record the name and the id to act on. */
        if (!req_name_of(json_string_value(v)))
            snprintf(buf, len, "%s", s_or_empty(json_string_value(v)));
        else if (table)
            snprintf(buf, len, "%s", req_name_of(json_string_value(v)));
        else
            snprintf(buf, len, "%s (%s)", req_name_of(json_string_value(v)), json_string_value(v));
        break;
    case REQ_V_COUNT:
    case REQ_V_FLAGS:
        break;
    }
    return buf[0] ? buf : NULL;
}

void req_print_record(const json_t *obj, const req_col_t *cols)
{
    int width = 0;
    for (const req_col_t *c = cols; c->label; c++)
        if ((c->where & REQ_IN_RECORD) && (int)strlen(c->label) > width)
            width = (int)strlen(c->label);
    for (const req_col_t *c = cols; c->label; c++) {
        char buf[2048], label[64];
        const char *v = s_render(obj, c, 0, buf, sizeof buf);
        if (!v || !(c->where & REQ_IN_RECORD))
            continue;
        size_t i = 0;
        for (; c->label[i] && i + 2 < sizeof label; i++)
            label[i] = (char)tolower((unsigned char)c->label[i]);
        label[i++] = ':';
        label[i] = 0;
        printf("%-*s %s\n", width + 1, label, v);
    }
}

void req_print_table(const json_t *arr, const req_col_t *cols)
{
    const char *headers[32];
    const req_col_t *brief[32];
    size_t n = 0;
    for (const req_col_t *c = cols; c->label && n + 1 < 32; c++)
        if (c->where & REQ_IN_TABLE) {
            brief[n] = c;
            headers[n++] = c->label;
        }
    headers[n] = NULL;
    if (json_array_size(arr) == 0) {
        printf("(none)\n");
        return;
    }
    crmctl_table_t *tab = crmctl_table_new(headers);
    if (!tab) {
        crmctl_error(NULL, NULL, "out of memory");
        return;
    }
    char bufs[32][512];
    for (size_t r = 0; r < json_array_size(arr); r++) {
        const char *cells[32];
        for (size_t i = 0; i < n; i++)
            cells[i] = s_render(json_array_get(arr, r), brief[i], 1, bufs[i], sizeof bufs[i]);
        crmctl_table_add(tab, cells);
    }
    crmctl_table_print(tab);
    crmctl_table_destroy(&tab);
}

int req_print_entity(const req_verb_t *verb, const json_t *reply)
{
    const json_t *e = json_object_get(reply, verb->entity);
    if (verb->done)
        printf("%s %s %s\n", verb->noun, req_str(e, "id"), verb->done);
    req_print_record(e, verb->view);
    if (verb->sub) {
        /* Rows of the entity (an order's items) carry no currency of their
         * own: their amounts are in the entity's, minor units and all. */
        json_t *rows = req_get(reply, verb->sub);
        const json_t *cur = json_object_get(e, "currency");
        for (size_t i = 0; json_is_string(cur) && i < json_array_size(rows); i++)
            if (json_is_object(json_array_get(rows, i)) &&
                !json_object_get(json_array_get(rows, i), "currency"))
                json_object_set(json_array_get(rows, i), "currency", (json_t *)cur);
        printf("\n%s:\n", verb->sub_title);
        req_print_table(rows, verb->sub_view);
    }
    return CRMCTL_EXIT_OK;
}

int req_print_list(const req_verb_t *verb, const json_t *reply)
{
    const json_t *items = json_object_get(reply, verb->items);
    size_t n = json_array_size(items);
    if (n)
        req_print_table(items, verb->view);
    printf("(%zu %s)\n", n, n == 1 ? verb->noun : verb->plural ? verb->plural : verb->items);
    const char *token = req_str(reply, "next_page_token");
    if (*token)
        printf("more: add --page-token %s (or --all for every page)\n", token);
    return CRMCTL_EXIT_OK;
}
