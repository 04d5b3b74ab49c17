/* request.c: the engine of the verbs (see request.h): options to a JSON
 * request, the request to protobuf through crm/input.h, the call and the
 * page loop of --all; request_view.c prints the replies.
 *
 * Everything a verb knows is in its req_verb_t; this file knows no verb. */
#include "request.h"
#include "values.h"

#include <crm/input.h>
#include <crm/pbjson.h>
#include <crm/util.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --all stops after this many pages (a service that hands out tokens
 * forever must not keep crmctl running forever). */
#define REQ_MAX_PAGES 100000
/* Page size of --all when --limit is not given. */
#define REQ_ALL_PAGE_SIZE 500

const char *const req_id_arg[] = {"id", NULL};

/* ---- JSON paths --------------------------------------------------------- */

/* The next key of dotted *path into key (advancing *path); -1 when it is
 * too long. */
static int s_next_key(const char **path, char key[64])
{
    size_t len = strcspn(*path, ".");
    if (len >= 64)
        return -1;
    memcpy(key, *path, len);
    key[len] = 0;
    *path += len + ((*path)[len] == '.');
    return 0;
}

/* The value at dotted `path` of obj, or NULL. */
json_t *req_get(const json_t *obj, const char *path)
{
    char key[64];
    while (obj && *path)
        obj = s_next_key(&path, key) < 0 ? NULL : json_object_get(obj, key);
    return (json_t *)obj;
}

const char *req_str(const json_t *obj, const char *path)
{
    const char *s = json_string_value(req_get(obj, path));
    return s ? s : "";
}

const char *req_str_at(const json_t *obj, const char *path, size_t i)
{
    const char *s = json_string_value(json_array_get(req_get(obj, path), i));
    return s ? s : "";
}

int req_set(json_t *obj, const char *path, json_t *value)
{
    char key[64];
    while (value && json_is_object(obj) && s_next_key(&path, key) == 0) {
        if (!*path)
            return json_object_set_new(obj, key, value);
        json_t *next = json_object_get(obj, key);
        if (!next && json_object_set_new(obj, key, next = json_object()) < 0)
            break;
        obj = next;
    }
    json_decref(value);
    return -1;
}

/* A 64-bit integer that pbjson writes as a string, or a JSON number. */
int req_i64(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    char *end;
    if (!s || !*s)
        return -1;
    long long n = strtoll(s, &end, 10);
    if (*end)
        return -1;
    *out = n;
    return 0;
}

/* 1 if a request value counts as given (not empty, zero or false). */
int req_present(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_TRUE:
        return 1;
    default:
        return 0;
    }
}

/* ---- enums -------------------------------------------------------------- */

/* The common prefix of an enum's value names: "PERSON_KIND_" (from
 * PERSON_KIND_UNSPECIFIED). */
static size_t s_enum_prefix(const ProtobufCEnumDescriptor *ed)
{
    for (unsigned i = 0; i < ed->n_values; i++) {
        const char *n = ed->values[i].name;
        size_t len = strlen(n);
        if (len > 11 && !strcmp(n + len - 11, "UNSPECIFIED"))
            return len - 11;
    }
    return 0;
}

/* "PERSON_KIND_SERVICE_PROVIDER" -> "service-provider". */
char *req_enum_word(const ProtobufCEnumDescriptor *ed, const char *name, char *buf, size_t len)
{
    size_t skip = s_enum_prefix(ed), i = 0;
    if (strncmp(name, ed->values[0].name, skip))
        skip = 0;
    for (const char *p = name + skip; *p && i + 1 < len; p++)
        buf[i++] = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
    buf[i] = 0;
    return buf;
}

/* The descriptor of the field at dotted `path` of messages of `desc`. */
static const ProtobufCFieldDescriptor *s_field_at(const ProtobufCMessageDescriptor *desc,
                                                  const char *path)
{
    char key[64];
    const ProtobufCFieldDescriptor *f = NULL;
    while (desc && *path) {
        if (s_next_key(&path, key) < 0 ||
            !(f = protobuf_c_message_descriptor_get_field_by_name(desc, key)))
            return NULL;
        desc = f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
    }
    return *path ? NULL : f;
}

/* ---- option values ------------------------------------------------------ */

typedef struct {
    const crmctl_t *ctl;
    const req_verb_t *verb;
    const req_field_t *field;
    int64_t now_us;
    int digits; /* minor digits of the request's currency (2 when it names none) */
} s_conv_ctx_t;

static json_t *s_bad(const s_conv_ctx_t *c, const char *text, const char *why)
{
    crmctl_usage_error(c->ctl, "invalid value \"%s\" for --%s: %s", text, c->field->opt, why);
    return NULL;
}

static json_t *s_int_value(const s_conv_ctx_t *c, const char *text, int64_t min, int64_t max)
{
    char what[64];
    int64_t v;
    snprintf(what, sizeof what, "--%s", c->field->opt);
    if (crmctl_parse_int(c->ctl, what, text, min, max, &v) < 0)
        return NULL;
    return json_integer(v);
}

static json_t *s_enum_value(const s_conv_ctx_t *c, const char *text)
{
    const ProtobufCFieldDescriptor *f = s_field_at(c->verb->request, c->field->path);
    if (!f || f->type != PROTOBUF_C_TYPE_ENUM)
        return s_bad(c, text, "internal error: not an enum field");
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    size_t skip = s_enum_prefix(ed);
    char name[128], word[64];
    size_t n = (size_t)snprintf(name, sizeof name, "%.*s", (int)skip, ed->values[0].name);
    for (const char *p = text; *p && n + 1 < sizeof name; p++)
        name[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    name[n] = 0;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
    if (v && v->value != 0)
        return json_string(v->name);
    char choices[512] = "";
    for (unsigned i = 0; i < ed->n_values; i++) {
        if (ed->values[i].value == 0)
            continue;
        size_t len = strlen(choices);
        snprintf(choices + len, sizeof choices - len, "%s%s", len ? ", " : "expected one of ",
                 req_enum_word(ed, ed->values[i].name, word, sizeof word));
    }
    return s_bad(c, text, choices);
}

static json_t *s_money_value(const s_conv_ctx_t *c, const char *text)
{
    int64_t minor;
    const char *why;
    if (val_money_parse_in(text, c->digits, &minor, &why) < 0)
        return s_bad(c, text, why);
    return json_integer(minor);
}

static json_t *s_time_value(const s_conv_ctx_t *c, const char *text, int end_of_day)
{
    int64_t us;
    const char *why;
    if (val_time_parse(text, c->now_us, end_of_day, &us, &why) < 0)
        return s_bad(c, text, why);
    return json_integer(us);
}

/* One element of a comma-separated option value, trimmed, as a new string;
 * NULL for an empty element. */
static char *s_trim(const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return len ? strndup(s, len) : NULL;
}

/* "key=value" */
static json_t *s_kv_elem(const s_conv_ctx_t *c, char *item)
{
    char *eq = strchr(item, '=');
    if (!eq || eq == item)
        return s_bad(c, item, "expected key=value");
    *eq = 0;
    return json_pack("{s:s, s:s}", "key", item, "value", eq + 1);
}

/* "Name:probability" or "Name" */
static json_t *s_stage_elem(const s_conv_ctx_t *c, char *item)
{
    char *colon = strrchr(item, ':');
    json_t *st = json_object();
    if (colon) {
        *colon = 0;
        json_t *p = s_int_value(c, colon + 1, 0, 100);
        if (!p) {
            json_decref(st);
            return NULL;
        }
        json_object_set_new(st, "probability", p);
    }
    if (!*item) {
        json_decref(st);
        return s_bad(c, item, "expected Name:probability (probability 0-100)");
    }
    json_object_set_new(st, "name", json_string(item));
    return st;
}

/* "CODE:name:quantity:unit price"; the name may hold colons. */
static json_t *s_item_elem(const s_conv_ctx_t *c, char *item)
{
    static const char *const form =
        "expected CODE:name:quantity:price, e.g. SKU-1:Desk lamp:2:49.90";
    char *c1 = strchr(item, ':'), *c3 = strrchr(item, ':');
    if (!c1 || c3 == c1 || c1 == item)
        return s_bad(c, item, form);
    *c3 = 0;
    char *c2 = strrchr(c1 + 1, ':');
    if (!c2) {
        *c3 = ':';
        return s_bad(c, item, form);
    }
    *c1 = *c2 = 0;
    int64_t price;
    const char *why;
    char *end;
    long qty = strtol(c2 + 1, &end, 10);
    json_t *out = NULL;
    if (!isdigit((unsigned char)c2[1]) || *end || qty < 1 || qty > 1000000)
        why = "the quantity must be an integer from 1 to 1000000";
    else if (val_money_parse_in(c3 + 1, c->digits, &price, &why) == 0)
        out = json_pack("{s:s, s:s, s:i, s:I}", "product_code", item, "name", c1 + 1, "quantity",
                        (int)qty, "unit_price_minor", (json_int_t)price);
    if (!out) {
        *c1 = *c2 = *c3 = ':';
        return s_bad(c, item, why);
    }
    return out;
}

/* One word of a repeated enum ("email"). */
static json_t *s_enum_elem(const s_conv_ctx_t *c, char *item)
{
    return s_enum_value(c, item);
}

/* A comma-separated value as an array of elements made by elem (or of
 * strings when elem is NULL). */
static json_t *s_list_value(const s_conv_ctx_t *c, const char *text,
                            json_t *(*elem)(const s_conv_ctx_t *, char *))
{
    json_t *arr = json_array();
    for (const char *p = text; arr;) {
        size_t len = strcspn(p, ",");
        char *item = s_trim(p, len);
        if (item) {
            json_t *v = elem ? elem(c, item) : json_string(item);
            if (!v && !elem)
                s_bad(c, item, "not valid UTF-8");
            free(item);
            if (!v) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, v);
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    return arr;
}

/* The request value of option text `text`, or NULL after a usage error. */
static json_t *s_convert(const s_conv_ctx_t *c, const char *text)
{
    int64_t days;
    const char *why;
    switch (c->field->conv) {
    case REQ_STR: {
        json_t *s = json_string(text);
        return s ? s : s_bad(c, text, "not valid UTF-8");
    }
    case REQ_LIST:
        return s_list_value(c, text, NULL);
    case REQ_ENUM:
        return s_enum_value(c, text);
    case REQ_MONEY:
        return s_money_value(c, text);
    case REQ_PERCENT:
        return s_int_value(c, text, 0, 100);
    case REQ_PAGE_SIZE:
        return s_int_value(c, text, 1, 500);
    case REQ_INT:
        return s_int_value(c, text, 0, INT32_MAX);
    case REQ_DATE:
        if (val_date_parse(text, &days, &why) < 0)
            return s_bad(c, text, why);
        return json_string(text);
    case REQ_FROM_US:
    case REQ_TIME_US:
        return s_time_value(c, text, 0);
    case REQ_TO_US:
        return s_time_value(c, text, 1);
    case REQ_FLAG:
        return json_true();
    case REQ_FIELDS:
        return s_list_value(c, text, s_kv_elem);
    case REQ_STAGES:
        return s_list_value(c, text, s_stage_elem);
    case REQ_ITEMS:
        return s_list_value(c, text, s_item_elem);
    case REQ_ENUMS:
        return s_list_value(c, text, s_enum_elem);
    case REQ_CUSTOM:
    case REQ_NONE:
        break;
    }
    return NULL;
}

/* The protobuf message of a JSON request, or NULL after a usage error. */
static ProtobufCMessage *s_message(const req_verb_t *verb, const json_t *request)
{
    char err[256];
    ProtobufCMessage *m = crm_input_message(verb->request, request, 0, NULL, err, sizeof err);
    if (!m) {
        char hint[96];
        snprintf(hint, sizeof hint, "Field names and values are those of %s.",
                 verb->proto ? verb->proto : REQ_DEFAULT_PROTO);
        crmctl_error(NULL, hint, "invalid %s request: %s", verb->command, err);
    }
    return m;
}

/* ---- building the request ----------------------------------------------- */

/* update_mask: the entity fields that options set, plus --clear FIELD. */
static int s_update_mask(const crmctl_t *ctl, const crmctl_args_t *args, const req_verb_t *verb,
                         json_t *req)
{
    size_t plen = strlen(verb->update_mask);
    json_t *mask = json_array();
    const ProtobufCFieldDescriptor *ef = s_field_at(verb->request, verb->update_mask);
    const ProtobufCMessageDescriptor *ed = ef ? ef->descriptor : NULL;
    for (const req_field_t *f = verb->fields; f->opt; f++)
        if (f->path && crmctl_arg(args, f->opt) && !strncmp(f->path, verb->update_mask, plen) &&
            f->path[plen] == '.')
            json_array_append_new(mask, json_string(f->path + plen + 1));
    const char *clear = crmctl_arg(args, "clear");
    for (const char *p = clear; p && ed;) {
        size_t len = strcspn(p, ",");
        char *name = s_trim(p, len);
        const char *field = name;
        /* An option name (--clear org) or a field name (--clear organization_id). */
        for (const req_field_t *f = verb->fields; name && f->opt; f++)
            if (f->path && !strcmp(f->opt, name) && !strncmp(f->path, verb->update_mask, plen))
                field = f->path + plen + 1;
        if (field &&
            (!protobuf_c_message_descriptor_get_field_by_name(ed, field) || !strcmp(field, "id"))) {
            crmctl_usage_error(ctl, "invalid value \"%s\" for --clear: no such %s field", name,
                               verb->noun);
            free(name);
            json_decref(mask);
            return CRMCTL_EXIT_USAGE;
        }
        for (size_t i = 0; field && i < json_array_size(mask); i++)
            if (!strcmp(json_string_value(json_array_get(mask, i)), field)) {
                crmctl_usage_error(ctl, "%s is both set and cleared", field);
                free(name);
                json_decref(mask);
                return CRMCTL_EXIT_USAGE;
            }
        if (field)
            json_array_append_new(mask, json_string(field));
        free(name);
        if (!p[len])
            break;
        p += len + 1;
    }
    if (json_array_size(mask) == 0 && !req_present(json_object_get(req, "update_mask"))) {
        json_decref(mask);
        return crmctl_usage_error(ctl, "nothing to update: give the fields to change or --clear");
    }
    if (json_array_size(mask) == 0) {
        json_decref(mask);
        return CRMCTL_EXIT_OK;
    }
    return req_set(req, "update_mask", mask) < 0 ? CRMCTL_EXIT_FAILED : CRMCTL_EXIT_OK;
}

/* The request of `verb` from --json, the positional arguments and the
 * options; NULL after a usage error. */
static json_t *s_build(const crmctl_t *ctl, const crmctl_args_t *args, const req_verb_t *verb)
{
    const char *text = crmctl_arg(args, "json");
    json_t *req = text ? NULL : json_object();
    if (text) {
        json_error_t jerr;
        req = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(req)) {
            crmctl_usage_error(ctl, "invalid value for --json: %s",
                               req ? "expected a JSON object" : jerr.text);
            goto fail;
        }
    }
    size_t n_pos = crmctl_n_positional(args);
    if (n_pos < verb->min_positional) {
        crmctl_usage_error(ctl, "missing argument: the %s", verb->positional[n_pos]);
        goto fail;
    }
    for (size_t i = 0, k = 0; i < n_pos && verb->positional && verb->positional[k]; i++) {
        const char *path = verb->positional[k];
        const ProtobufCFieldDescriptor *pf = s_field_at(verb->request, path);
        json_t *v = json_string(crmctl_positional(args, i));
        if (pf && pf->label == PROTOBUF_C_LABEL_REPEATED) {
            /* A repeated field takes this argument and all that follow. */
            json_t *arr = req_get(req, path);
            if (!json_is_array(arr) && req_set(req, path, arr = json_array()) < 0)
                arr = NULL;
            if (!arr || json_array_append_new(arr, v) < 0) {
                crmctl_usage_error(ctl, "invalid argument \"%s\"", crmctl_positional(args, i));
                goto fail;
            }
            continue;
        }
        k++;
        if (req_set(req, path, v) < 0) {
            crmctl_usage_error(ctl, "invalid argument \"%s\"", crmctl_positional(args, i));
            goto fail;
        }
    }
    s_conv_ctx_t c = {ctl, verb, NULL, crm_now_us(), 2};
    /* Amounts are read in the minor units of the request's currency (1500
     * JPY is 1500, not 150000), whichever option or --json names it. */
    for (const req_field_t *f = verb->fields; f->opt; f++) {
        const char *dot = f->path ? strrchr(f->path, '.') : NULL;
        if (f->path && !strcmp(dot ? dot + 1 : f->path, "currency")) {
            const char *cur = crmctl_arg(args, f->opt);
            c.digits = val_currency_digits(cur ? cur : req_str(req, f->path));
        }
    }
    for (const req_field_t *f = verb->fields; f->opt; f++) {
        const char *v = crmctl_arg(args, f->opt);
        if (v && f->conv == REQ_CUSTOM) {
            if (!verb->convert || verb->convert(ctl, f, v, req) != CRMCTL_EXIT_OK)
                goto fail;
            continue;
        }
        if (!v || !f->path)
            continue;
        c.field = f;
        json_t *value = s_convert(&c, v);
        if (!value)
            goto fail;
        if (req_set(req, f->path, value) < 0) {
            /* --json holds a non-object on the way to the field. */
            crmctl_usage_error(ctl, "invalid value for --json: --%s cannot set \"%s\" in it",
                               f->opt, f->path);
            goto fail;
        }
    }
    if (verb->update_mask && s_update_mask(ctl, args, verb, req) != CRMCTL_EXIT_OK)
        goto fail;
    /* Unknown fields and wrong types (from --json) first: they explain a
     * "required" that follows. */
    ProtobufCMessage *m = s_message(verb, req);
    if (!m)
        goto fail;
    protobuf_c_message_free_unpacked(m, NULL);
    for (const req_field_t *f = verb->fields; f->opt; f++)
        if ((f->flags & REQ_REQUIRED) && !req_present(req_get(req, f->path))) {
            crmctl_usage_error(ctl, "--%s is required", f->opt);
            goto fail;
        }
    if (verb->check && verb->check(ctl, req) != CRMCTL_EXIT_OK)
        goto fail;
    return req;
fail:
    json_decref(req);
    return NULL;
}

/* ---- calling ------------------------------------------------------------ */

int req_send(crmctl_t *ctl, crmctl_service_t *svc, const req_verb_t *verb, const json_t *request,
             const char *key, json_t **reply_p)
{
    *reply_p = NULL;
    ProtobufCMessage *m = s_message(verb, request);
    if (!m)
        return CRMCTL_EXIT_USAGE;
    ProtobufCMessage *rep = NULL;
    int rc = crmctl_call(ctl, svc, verb->command, m, key, CRMCTL_TIMEOUT_MS, CRMCTL_ATTEMPTS,
                         verb->reply, &rep, 0, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    *reply_p = crm_pbjson_from_message(rep);
    protobuf_c_message_free_unpacked(rep, NULL);
    if (!*reply_p) {
        crmctl_error(NULL, NULL, "out of memory");
        return CRMCTL_EXIT_FAILED;
    }
    return CRMCTL_EXIT_OK;
}

/* Calls a list verb page after page, appending the items to the first
 * reply, until next_page_token is empty. */
static int s_send_all(crmctl_t *ctl, crmctl_service_t *svc, const req_verb_t *verb, json_t *request,
                      json_t **reply_p)
{
    if (!json_object_get(request, "page_size"))
        json_object_set_new(request, "page_size", json_integer(REQ_ALL_PAGE_SIZE));
    json_t *all = NULL;
    int rc = CRMCTL_EXIT_OK;
    for (int page = 0; rc == CRMCTL_EXIT_OK; page++) {
        json_t *rep;
        rc = req_send(ctl, svc, verb, request, NULL, &rep);
        if (rc != CRMCTL_EXIT_OK)
            break;
        char *token = strdup(req_str(rep, "next_page_token"));
        if (!all) {
            all = rep;
        } else {
            json_t *items = json_object_get(rep, verb->items);
            json_t *into = json_object_get(all, verb->items);
            if (!into)
                json_object_set(all, verb->items, items ? items : json_array());
            else if (items)
                json_array_extend(into, items);
            json_decref(rep);
        }
        if (!token || !*token) {
            free(token);
            break;
        }
        if (!strcmp(token, req_str(request, "page_token")) || page + 1 >= REQ_MAX_PAGES) {
            crmctl_error("The service handed out the same page token again, or too many pages.",
                         NULL, "%s did not come to an end", verb->command);
            free(token);
            rc = CRMCTL_EXIT_FAILED;
            break;
        }
        json_object_set_new(request, "page_token", json_string(token));
        free(token);
    }
    if (rc == CRMCTL_EXIT_OK && all)
        json_object_del(all, "next_page_token");
    if (rc != CRMCTL_EXIT_OK)
        json_decref(all);
    else
        *reply_p = all;
    return rc;
}

/* ---- the verb ------------------------------------------------------------- */

/* Whether cols show a customer by name (so the reply's ids are looked up). */
static int s_shows_person(const req_col_t *cols)
{
    for (const req_col_t *c = cols; c && c->label; c++)
        if (c->view == REQ_V_PERSON)
            return 1;
    return 0;
}

int crmctl_request_run(crmctl_t *ctl, const crmctl_args_t *args, const req_verb_t *verb)
{
    json_t *req = s_build(ctl, args, verb);
    if (!req)
        return CRMCTL_EXIT_USAGE;
    int rc;
    json_t *reply = NULL;
    if (crmctl_arg(args, "dry-run")) {
        ProtobufCMessage *m = s_message(verb, req);
        rc = m ? CRMCTL_EXIT_OK : CRMCTL_EXIT_USAGE;
        if (m) {
            json_t *doc = json_pack("{s:s, s:o}", "command", verb->command, "request",
                                    crm_pbjson_from_message(m));
            const char *key = crmctl_arg(args, "idempotency-key");
            if (doc && key)
                json_object_set_new(doc, "idempotency_key", json_string(key));
            if (crmctl_json_line(doc) < 0)
                rc = CRMCTL_EXIT_FAILED;
            protobuf_c_message_free_unpacked(m, NULL);
        }
        json_decref(req);
        return rc;
    }
    crmctl_service_t *svc =
        crmctl_service_require(ctl, verb->service ? verb->service : REQ_DEFAULT_SERVICE);
    if (!svc) {
        json_decref(req);
        return CRMCTL_EXIT_USAGE;
    }
    if (verb->items && crmctl_arg(args, "all"))
        rc = s_send_all(ctl, svc, verb, req, &reply);
    else
        rc = req_send(ctl, svc, verb, req, crmctl_arg(args, "idempotency-key"), &reply);
    json_decref(req);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    /* An empty list is [] rather than absent (pbjson leaves out empty
     * repeated fields), so that `jq '.people[]'` works on any page. */
    if (verb->items && !json_object_get(reply, verb->items))
        json_object_set_new(reply, verb->items, json_array());
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return crmctl_json_line(reply) < 0 ? CRMCTL_EXIT_FAILED : CRMCTL_EXIT_OK;
    if (verb->names || s_shows_person(verb->view) || s_shows_person(verb->sub_view))
        req_names_resolve(ctl, reply);
    if (verb->print)
        rc = verb->print(verb, reply);
    else if (verb->items)
        rc = req_print_list(verb, reply);
    else
        rc = req_print_entity(verb, reply);
    fflush(stdout);
    json_decref(reply);
    return rc;
}
