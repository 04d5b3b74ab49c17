/* sales.h: what the sales verbs (person.c, org.c, lead.c, pipeline.c,
 * deal.c, order.c, activity.c, demo.c) share.
 *
 * A sales verb is a table, not code: its options say which request field
 * each one fills and how the text converts (sales_field_t), a view says how
 * the reply reads in a table (sales_col_t), and sales_run does the rest:
 * --json as the starting request, options on top, the request checked by
 * converting it into the protobuf message through crm/pbjson.h, one call
 * (or a page loop for --all), then JSON or readable output.
 *
 * Requests are built as JSON and converted once, so a request given as
 * `--json '{...}'` and one given by options go through the same checks, and
 * no message mixes stack and heap members.
 *
 * The option rows and the field rows of a verb come from one X-macro list
 * (SALES_OPTIONS), so they cannot drift apart. */
#ifndef CRMCTL_SALES_H
#define CRMCTL_SALES_H

#include "crmctl.h"

#include "crm/v1/sales.pb-c.h"

#include <jansson.h>
#include <stdint.h>

/* The service the sales verbs talk to. */
#define SALES_SERVICE "sales"

/* How an option's text becomes a request value. */
typedef enum {
    SALES_NONE,      /* not part of the request (--all, --clear ...) */
    SALES_STR,       /* the text */
    SALES_LIST,      /* comma-separated (or repeated) -> array of strings */
    SALES_ENUM,      /* "service-provider" -> "PERSON_KIND_SERVICE_PROVIDER" */
    SALES_MONEY,     /* "1234.50" -> 123450 minor units */
    SALES_PERCENT,   /* integer 0-100 */
    SALES_PAGE_SIZE, /* integer 1-500 */
    SALES_DATE,      /* "YYYY-MM-DD", checked against the calendar */
    SALES_FROM_US,   /* a date (its first microsecond) or a datetime -> us */
    SALES_TO_US,     /* a date (its last microsecond) or a datetime -> us */
    SALES_TIME_US,   /* RFC 3339, "+2h" / "-1d" relative to now, or a date -> us */
    SALES_FLAG,      /* true */
    SALES_FIELDS,    /* key=value,... -> [{key, value}] */
    SALES_STAGES,    /* Name:probability,... -> [{name, probability}] */
    SALES_ITEMS,     /* CODE:name:qty:price,... -> [OrderItem] */
    SALES_ENUMS,     /* "email,sms" -> ["CHANNEL_EMAIL", "CHANNEL_SMS"] (a repeated enum) */
    SALES_CUSTOM,    /* converted by the verb's own `convert` */
} sales_conv_t;

/* Field flags. */
#define SALES_REQUIRED 1 /* the request must have this field (from the option or --json) */

/* Which request field an option fills. */
typedef struct {
    const char *opt;  /* the option's long name */
    const char *path; /* dotted request field ("person.emails"), NULL for SALES_NONE */
    sales_conv_t conv;
    int flags;
} sales_field_t;

/* X-macro rows: X(opt, ARG, help, repeat, path, conv, flags). */
#define SALES_OPT_ROW(opt, arg, help, repeat, path, conv, flags) {opt, 0, arg, help, repeat},
#define SALES_FIELD_ROW(opt, arg, help, repeat, path, conv, flags) {opt, path, conv, flags},
/* Defines crmctl_NAME_opts (the verb's options, for crmctl.c) and
 * s_NAME_fields (what they fill) from one X-macro list. */
#define SALES_OPTIONS(name, LIST)                                                                  \
    const crmctl_opt_t crmctl_##name##_opts[] = {LIST(SALES_OPT_ROW){NULL, 0, NULL, NULL, 0}};     \
    static const sales_field_t s_##name##_fields[] = {                                             \
        LIST(SALES_FIELD_ROW){NULL, NULL, SALES_NONE, 0}}

/* Options of every sales verb, and of the ones that change state. */
#define SALES_COMMON(X)                                                                            \
    X("json", "JSON", "the request as JSON (as in sales.proto); options given are applied on top", \
      0, NULL, SALES_NONE, 0)                                                                      \
    X("dry-run", NULL, "print the request as JSON instead of sending it", 0, NULL, SALES_NONE, 0)
#define SALES_WRITE(X)                                                                             \
    X("idempotency-key", "KEY",                                                                    \
      "key that makes retries of this change apply once (default: a new one)", 0, NULL,            \
      SALES_NONE, 0)                                                                               \
    SALES_COMMON(X)
/* Paging of list verbs; every List*Request names them page_size and page_token. */
#define SALES_PAGING(X)                                                                            \
    X("limit", "N", "at most N per page (1-500; the service's default is 50)", 0, "page_size",     \
      SALES_PAGE_SIZE, 0)                                                                          \
    X("page-token", "TOKEN", "the page after the one that printed this token", 0, "page_token",    \
      SALES_STR, 0)                                                                                \
    X("all", NULL, "follow the pages to the end", 0, NULL, SALES_NONE, 0)                          \
    SALES_COMMON(X)

/* ---- readable output ------------------------------------------------- */

typedef enum {
    SALES_V_TEXT,     /* a string or number as is */
    SALES_V_JOIN,     /* an array of strings, joined with ", " */
    SALES_V_FIRST,    /* the first element of an array of strings */
    SALES_V_ENUM,     /* an enum value name without its prefix: "service-provider" */
    SALES_V_MONEY,    /* minor units + the object's "currency": "1234.50 EUR" */
    SALES_V_DECIMAL,  /* minor units without currency: "1234.50" */
    SALES_V_DATETIME, /* microseconds -> "2026-11-23T09:00Z" */
    SALES_V_BOOL,     /* "yes" or "-" */
    SALES_V_COUNT,    /* number of elements of an array */
    SALES_V_FIELDS,   /* [{key, value}] -> "k=v, k=v" */
    SALES_V_STAGES,   /* [{name, probability}] -> "Lead 10%, Won 100%" */
} sales_view_t;

#define SALES_IN_TABLE 1
#define SALES_IN_RECORD 2
#define SALES_IN_BOTH 3

/* One column of a table, or one line of a record. */
typedef struct {
    const char *label; /* table header, upper case; lower-cased for records */
    const char *key;   /* JSON key in the object (dotted for nested objects) */
    sales_view_t view;
    int where;                                /* SALES_IN_TABLE, SALES_IN_RECORD or both */
    const ProtobufCEnumDescriptor *enum_desc; /* SALES_V_ENUM */
} sales_col_t;

/* Prints obj as "label: value" lines (the record columns that have a
 * value). */
void sales_print_record(const json_t *obj, const sales_col_t *cols);
/* Prints an array of objects as a table of the table columns; "(none)"
 * when it is empty. */
void sales_print_table(const json_t *arr, const sales_col_t *cols);

/* ---- verbs ------------------------------------------------------------ */

/* Readable output of a reply (as JSON) of `verb`; returns a CRMCTL_EXIT_*. */
typedef struct sales_verb sales_verb_t;
typedef int (*sales_print_fn)(const sales_verb_t *verb, const json_t *reply);
/* Extra checks of a built request before it is sent; returns 0 or prints a
 * usage error and returns CRMCTL_EXIT_USAGE. */
typedef int (*sales_check_fn)(const crmctl_t *ctl, json_t *request);
/* Converts the text of a SALES_CUSTOM option (`field` says which) into the
 * request; returns 0 or prints a usage error and returns CRMCTL_EXIT_USAGE. */
typedef int (*sales_convert_fn)(const crmctl_t *ctl, const sales_field_t *field, const char *text,
                                json_t *request);

struct sales_verb {
    const char *command; /* "sales.person.register" */
    const ProtobufCMessageDescriptor *request, *reply;
    const sales_field_t *fields;   /* ends with a row whose opt is NULL */
    const char *const *positional; /* request paths of positional arguments, NULL-ended */
    size_t min_positional;         /* how many of those are required */
    const char *update_mask;       /* "person": fields given under it form update_mask */
    const char *items;             /* list replies: the repeated field ("people") */
    const char *noun;              /* "person", for readable output */
    const char *plural;            /* "organisations" (default: the items field) */
    const char *entity;            /* the reply's entity field ("person"); NULL for lists */
    const sales_col_t *view;       /* columns of the entity or the items */
    const char *done;              /* "created": "person ID created" is printed first */
    const char *sub;               /* another list in the reply to print ("history", dotted) */
    const char *sub_title;         /* "stage history" */
    const sales_col_t *sub_view;   /* its columns */
    sales_print_fn print;          /* replaces the generic readable output */
    sales_check_fn check;
    sales_convert_fn convert; /* SALES_CUSTOM options */
    /* The service called (default SALES_SERVICE) and the .proto file its
     * requests are described in, for error hints (default "sales.proto").
     * A positional path naming a repeated field takes every remaining
     * argument. */
    const char *service, *proto;
};

/* The members of a verb that acts on one record by its id (`crmctl lead
 * qualify ID`) and replies with it under the field named like `noun`. */
#define SALES_ON_ID(cmd, request_desc, reply_desc, fields_, noun_, view_, done_)                   \
    .command = cmd, .request = request_desc, .reply = reply_desc, .fields = fields_,               \
    .positional = sales_id_arg, .min_positional = 1, .noun = noun_, .entity = noun_,               \
    .view = view_, .done = done_

/* Runs `verb` with the parsed command line: builds the request, calls the
 * sales service, prints the reply. Returns a CRMCTL_EXIT_* code. */
int sales_run(crmctl_t *ctl, const crmctl_args_t *args, const sales_verb_t *verb);

/* Generic readable output of a reply with an entity (as sales_run prints
 * it); custom printers call it for the parts they do not change. */
int sales_print_entity(const sales_verb_t *verb, const json_t *reply);

/* The verb specs, one per sales verb (sales_person_register, ...); the
 * handler crmctl_person_register of crmctl.h runs it. */
#define SALES_DECLARE_VERB(name) extern const sales_verb_t sales_##name;
CRMCTL_SALES_VERBS(SALES_DECLARE_VERB)
#define SALES_VERB_HANDLER(name)                                                                   \
    int crmctl_##name(crmctl_t *ctl, const crmctl_args_t *args)                                    \
    {                                                                                              \
        return sales_run(ctl, args, &sales_##name);                                                \
    }

/* The positional argument of most verbs: the entity's id. */
extern const char *const sales_id_arg[];

/* Views shared between files: a person (person.c), an organisation
 * (org.c), a deal (deal.c). */
extern const sales_col_t sales_person_view[];
extern const sales_col_t sales_org_view[];
extern const sales_col_t sales_deal_view[];

/* Sends `request` (JSON of `verb->request`) as `verb->command` on `svc`
 * with idempotency key `key` (NULL = a fresh one) and stores the reply as
 * JSON in *reply_p (caller owns it). Prints failures. Returns a
 * CRMCTL_EXIT_* code. */
int sales_send(crmctl_t *ctl, crmctl_service_t *svc, const sales_verb_t *verb,
               const json_t *request, const char *key, json_t **reply_p);

/* The string at dotted `path` of obj, or "" when absent. */
const char *sales_str(const json_t *obj, const char *path);
/* The i-th string of the array at dotted `path` of obj, or "". */
const char *sales_str_at(const json_t *obj, const char *path, size_t i);
/* Sets value (stolen) at dotted `path` of obj, creating objects on the
 * way. Returns 0 or -1. */
int sales_set(json_t *obj, const char *path, json_t *value);

/* ---- values (values.c) -------------------------------------------------- */

/* "1234.50", "1234", "0.5" -> minor units (cents), exactly. Returns 0, or -1
 * with the problem in why (negative, more than 2 decimals, not a number, too
 * large). */
int sales_money_parse(const char *text, int64_t *minor, const char **why);
/* Minor units as "1234.50" (or "-12.05") into buf. */
char *sales_money_format(int64_t minor, char *buf, size_t len);
/* "YYYY-MM-DD" -> days since 1970-01-01; -1 (why set) when not a real date. */
int sales_date_parse(const char *text, int64_t *days, const char **why);
/* RFC 3339 ("2026-11-23T09:00:00Z", "...T09:00+02:00", fractions allowed),
 * a date (midnight UTC), or "+2h" / "-30m" / "+1d" / "+1w" / "+45s"
 * relative to now_us -> microseconds UTC. `end_of_day`: a bare date means
 * its last microsecond. Returns 0 or -1 with why set. */
int sales_time_parse(const char *text, int64_t now_us, int end_of_day, int64_t *us,
                     const char **why);
/* Microseconds as "2026-11-23T09:00Z" (seconds shown when not zero). */
char *sales_time_format(int64_t us, char *buf, size_t len);
/* Days since 1970-01-01 as "YYYY-MM-DD". */
char *sales_date_format(int64_t days, char *buf, size_t len);

#endif
