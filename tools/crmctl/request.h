/* request.h: the engine every service's verbs run on (request.c,
 * request_view.c): the sales verbs (sales/), the marketing verbs
 * (marketing/), the support verbs (support/) and the demo loader (demo/).
 *
 * A verb is a table, not code: its options say which request field each
 * one fills and how the text converts (req_field_t), a view says how the
 * reply reads in a table (req_col_t), and crmctl_request_run does the rest:
 * --json as the starting request, options on top, the request checked by
 * converting it into the protobuf message through crm/pbjson.h, one call
 * (or a page loop for --all), then JSON or readable output.
 *
 * Requests are built as JSON and converted once, so a request given as
 * `--json '{...}'` and one given by options go through the same checks, and
 * no message mixes stack and heap members.
 *
 * The option rows and the field rows of a verb come from one X-macro list
 * (REQ_OPTIONS), so they cannot drift apart. */
#ifndef CRMCTL_REQUEST_H
#define CRMCTL_REQUEST_H

#include "crmctl.h"

#include <jansson.h>
#include <stdint.h>

/* The service and .proto file of a verb that names none: the engine was
 * written for the sales verbs first. */
#define REQ_DEFAULT_SERVICE "sales"
#define REQ_DEFAULT_PROTO "sales.proto"

/* How an option's text becomes a request value. */
typedef enum {
    REQ_NONE,      /* not part of the request (--all, --clear ...) */
    REQ_STR,       /* the text */
    REQ_LIST,      /* comma-separated (or repeated) -> array of strings */
    REQ_ENUM,      /* "service-provider" -> "PERSON_KIND_SERVICE_PROVIDER" */
    REQ_MONEY,     /* "1234.50" -> 123450 minor units */
    REQ_PERCENT,   /* integer 0-100 */
    REQ_PAGE_SIZE, /* integer 1-500 */
    REQ_DATE,      /* "YYYY-MM-DD", checked against the calendar */
    REQ_FROM_US,   /* a date (its first microsecond) or a datetime -> us */
    REQ_TO_US,     /* a date (its last microsecond) or a datetime -> us */
    REQ_TIME_US,   /* RFC 3339, "+2h" / "-1d" relative to now, or a date -> us */
    REQ_FLAG,      /* true */
    REQ_FIELDS,    /* key=value,... -> [{key, value}] */
    REQ_STAGES,    /* Name:probability,... -> [{name, probability}] */
    REQ_ITEMS,     /* CODE:name:qty:price,... -> [OrderItem] */
    REQ_ENUMS,     /* "email,sms" -> ["CHANNEL_EMAIL", "CHANNEL_SMS"] (a repeated enum) */
    REQ_CUSTOM,    /* converted by the verb's own `convert` */
    REQ_INT,       /* integer 0 or more (the service checks the range) */
} req_conv_t;

/* Field flags. */
#define REQ_REQUIRED 1 /* the request must have this field (from the option or --json) */

/* Which request field an option fills. */
typedef struct {
    const char *opt;  /* the option's long name */
    const char *path; /* dotted request field ("person.emails"), NULL for REQ_NONE */
    req_conv_t conv;
    int flags;
} req_field_t;

/* X-macro rows: X(opt, ARG, help, repeat, path, conv, flags). */
#define REQ_OPT_ROW(opt, arg, help, repeat, path, conv, flags) {opt, 0, arg, help, repeat},
#define REQ_FIELD_ROW(opt, arg, help, repeat, path, conv, flags) {opt, path, conv, flags},
/* Defines crmctl_NAME_opts (the verb's options, for verbs.c) and
 * s_NAME_fields (what they fill) from one X-macro list. */
#define REQ_OPTIONS(name, LIST)                                                                    \
    const crmctl_opt_t crmctl_##name##_opts[] = {LIST(REQ_OPT_ROW){NULL, 0, NULL, NULL, 0}};       \
    static const req_field_t s_##name##_fields[] = {LIST(REQ_FIELD_ROW){NULL, NULL, REQ_NONE, 0}}

/* Options of every verb on the engine, and of the ones that change state.
 * The --json help names the .proto file of the verb's service: each group's
 * header (sales.h, marketing.h, support.h) defines REQ_PROTO_FILE, which is
 * expanded where the verb's options are. */
#define REQ_COMMON(X)                                                                              \
    X("json", "JSON",                                                                              \
      "the request as JSON (as in " REQ_PROTO_FILE "); options given are applied on top", 0, NULL, \
      REQ_NONE, 0)                                                                                 \
    X("dry-run", NULL, "print the request as JSON instead of sending it", 0, NULL, REQ_NONE, 0)
#define REQ_WRITE(X)                                                                               \
    X("idempotency-key", "KEY",                                                                    \
      "key that makes retries of this change apply once (default: a new one)", 0, NULL, REQ_NONE,  \
      0)                                                                                           \
    REQ_COMMON(X)
/* Paging of list verbs; every List*Request names them page_size and page_token. */
#define REQ_PAGING(X)                                                                              \
    X("limit", "N", "at most N per page (1-500; the service's default is 50)", 0, "page_size",     \
      REQ_PAGE_SIZE, 0)                                                                            \
    X("page-token", "TOKEN", "the page after the one that printed this token", 0, "page_token",    \
      REQ_STR, 0)                                                                                  \
    X("all", NULL, "follow the pages to the end", 0, NULL, REQ_NONE, 0)                            \
    REQ_COMMON(X)

/* ---- readable output ------------------------------------------------- */

typedef enum {
    REQ_V_TEXT,     /* a string or number as is */
    REQ_V_JOIN,     /* an array of strings, joined with ", " */
    REQ_V_FIRST,    /* the first element of an array of strings */
    REQ_V_ENUM,     /* an enum value name without its prefix: "service-provider" */
    REQ_V_MONEY,    /* minor units + the object's "currency": "1234.50 EUR" */
    REQ_V_DECIMAL,  /* minor units without currency: "1234.50" */
    REQ_V_DATETIME, /* microseconds -> "2026-11-23T09:00Z" */
    REQ_V_BOOL,     /* "yes" or "-" */
    REQ_V_COUNT,    /* number of elements of an array */
    REQ_V_FIELDS,   /* [{key, value}] -> "k=v, k=v" */
    REQ_V_STAGES,   /* [{name, probability}] -> "Lead 10%, Won 100%" */
    REQ_V_FLAGS,    /* key "a=label a,b=label b": the labels of the true ones, joined */
    REQ_V_ENUMS,    /* a repeated enum: ["CHANNEL_EMAIL", "CHANNEL_SMS"] -> "email, sms" */
    REQ_V_CLOCK,    /* minutes after midnight -> "09:00" */
    REQ_V_OFFSET,   /* minutes east of UTC -> "+01:00" */
    REQ_V_PERSON,   /* a customer id -> its name (names.c), the id when unknown */
} req_view_t;

#define REQ_IN_TABLE 1
#define REQ_IN_RECORD 2
#define REQ_IN_BOTH 3

/* One column of a table, or one line of a record. */
typedef struct {
    const char *label; /* table header, upper case; lower-cased for records */
    const char *key;   /* JSON key in the object (dotted for nested objects) */
    req_view_t view;
    int where;                                /* REQ_IN_TABLE, REQ_IN_RECORD or both */
    const ProtobufCEnumDescriptor *enum_desc; /* REQ_V_ENUM, REQ_V_ENUMS */
} req_col_t;

/* Prints obj as "label: value" lines (the record columns that have a
 * value). */
void req_print_record(const json_t *obj, const req_col_t *cols);
/* Prints an array of objects as a table of the table columns; "(none)"
 * when it is empty. */
void req_print_table(const json_t *arr, const req_col_t *cols);

/* ---- customers' names (names.c) ---------------------------------------- */

/* Looks up, with sales.person.show, the names of the customers whose ids
 * `reply` holds (under person_id, customer_id or customer_ids, at any
 * depth), for the printers; best effort, nothing printed on failure, and
 * nothing done for -o json or without a configured sales service. */
void req_names_resolve(crmctl_t *ctl, const json_t *reply);
/* The name of customer `id` looked up before, or NULL. */
const char *req_name_of(const char *id);
void req_names_clear(void);
/* In report rows of {pipeline_id, pipeline}, a pipeline analytics could
 * not name (its name is its id) is named from sales.pipeline.list. */
void req_pipeline_names(crmctl_t *ctl, json_t *rows);

/* ---- verbs ------------------------------------------------------------ */

/* Readable output of a reply (as JSON) of `verb`; returns a CRMCTL_EXIT_*. */
typedef struct req_verb req_verb_t;
typedef int (*req_print_fn)(const req_verb_t *verb, const json_t *reply);
/* Extra checks of a built request before it is sent; returns 0 or prints a
 * usage error and returns CRMCTL_EXIT_USAGE. */
typedef int (*req_check_fn)(const crmctl_t *ctl, json_t *request);
/* Converts the text of a REQ_CUSTOM option (`field` says which) into the
 * request; returns 0 or prints a usage error and returns CRMCTL_EXIT_USAGE. */
typedef int (*req_convert_fn)(const crmctl_t *ctl, const req_field_t *field, const char *text,
                              json_t *request);

struct req_verb {
    const char *command; /* "sales.person.register" */
    const ProtobufCMessageDescriptor *request, *reply;
    const req_field_t *fields;     /* ends with a row whose opt is NULL */
    const char *const *positional; /* request paths of positional arguments, NULL-ended */
    size_t min_positional;         /* how many of those are required */
    const char *update_mask;       /* "person": fields given under it form update_mask */
    const char *items;             /* list replies: the repeated field ("people") */
    const char *noun;              /* "person", for readable output */
    const char *plural;            /* "organisations" (default: the items field) */
    const char *entity;            /* the reply's entity field ("person"); NULL for lists */
    const req_col_t *view;         /* columns of the entity or the items */
    const char *done;              /* "created": "person ID created" is printed first */
    const char *sub;               /* another list in the reply to print ("history", dotted) */
    const char *sub_title;         /* "stage history" */
    const req_col_t *sub_view;     /* its columns */
    req_print_fn print;            /* replaces the generic readable output */
    req_check_fn check;
    req_convert_fn convert; /* REQ_CUSTOM options */
    /* The service called (default REQ_DEFAULT_SERVICE) and the .proto file its
     * requests are described in, for error hints (default REQ_DEFAULT_PROTO).
     * A positional path naming a repeated field takes every remaining
     * argument. */
    const char *service, *proto;
    /* 1: the reply names customers by id; their names are looked up for
     * the readable output (names.c). Implied when the view or sub_view
     * has a REQ_V_PERSON column; custom printers set it. */
    int names;
};

/* The members of a verb that acts on one record by its id (`crmctl lead
 * qualify ID`) and replies with it under the field named like `noun`. */
#define REQ_ON_ID(cmd, request_desc, reply_desc, fields_, noun_, view_, done_)                     \
    .command = cmd, .request = request_desc, .reply = reply_desc, .fields = fields_,               \
    .positional = req_id_arg, .min_positional = 1, .noun = noun_, .entity = noun_, .view = view_,  \
    .done = done_

/* Runs `verb` with the parsed command line: builds the request, calls the
 * verb's service, prints the reply. Returns a CRMCTL_EXIT_* code. */
int crmctl_request_run(crmctl_t *ctl, const crmctl_args_t *args, const req_verb_t *verb);

/* Generic readable output of a reply with an entity (as crmctl_request_run prints
 * it); custom printers call it for the parts they do not change. */
int req_print_entity(const req_verb_t *verb, const json_t *reply);

/* The positional argument of most verbs: the entity's id. */
extern const char *const req_id_arg[];

/* Prints a list reply: the table of its items, their number and the
 * token of the next page. Returns a CRMCTL_EXIT_* code. */
int req_print_list(const req_verb_t *verb, const json_t *reply);

/* The helpers request.c and request_view.c share. */
/* The value at dotted `path` of obj, or NULL. */
json_t *req_get(const json_t *obj, const char *path);
/* A 64-bit integer that pbjson writes as a string, or a JSON number, into
 * *out. Returns 0 or -1. */
int req_i64(const json_t *v, int64_t *out);
/* 1 if a request value counts as given (not empty, zero or false). */
int req_present(const json_t *v);
/* "PERSON_KIND_SERVICE_PROVIDER" -> "service-provider" into buf. */
char *req_enum_word(const ProtobufCEnumDescriptor *ed, const char *name, char *buf, size_t len);

/* Sends `request` (JSON of `verb->request`) as `verb->command` on `svc`
 * with idempotency key `key` (NULL = a fresh one) and stores the reply as
 * JSON in *reply_p (caller owns it). Prints failures. Returns a
 * CRMCTL_EXIT_* code. */
int req_send(crmctl_t *ctl, crmctl_service_t *svc, const req_verb_t *verb, const json_t *request,
             const char *key, json_t **reply_p);

/* The string at dotted `path` of obj, or "" when absent. */
const char *req_str(const json_t *obj, const char *path);
/* The i-th string of the array at dotted `path` of obj, or "". */
const char *req_str_at(const json_t *obj, const char *path, size_t i);
/* Sets value (stolen) at dotted `path` of obj, creating objects on the
 * way. Returns 0 or -1. */
int req_set(json_t *obj, const char *path, json_t *value);

#endif
