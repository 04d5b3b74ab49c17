/* crmctl.h: the plumbing every crmctl verb shares.
 *
 * crmctl is a table of verbs (verbs.c, crmctl_verbs): each row names a verb
 * ("status", "deadletter list"), its handler, a synopsis, a help line and a
 * table of options. Adding a verb is adding a row and a handler file; the
 * shared code parses the options, prints --help, resolves service names,
 * calls services with a deadline and prints failures in one style.
 *
 * Conventions every verb follows:
 *   - `-o json` writes machine output: one JSON document, or one JSON object
 *     per line for streaming verbs; the default is a readable table;
 *   - errors go to stderr, worded like postgres messages ("crmctl: could not
 *     reach sales at tcp://...: timeout", then DETAIL and HINT lines);
 *   - exit codes are the CRMCTL_EXIT_* values below.
 *
 * This is a blocking command-line tool, not an event loop. */
#ifndef CRMCTL_H
#define CRMCTL_H

#include <crm/client.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

enum {
    CRMCTL_EXIT_OK = 0,
    CRMCTL_EXIT_FAILED = 1,      /* the service answered with an error */
    CRMCTL_EXIT_USAGE = 2,       /* bad command line or configuration */
    CRMCTL_EXIT_UNREACHABLE = 3, /* no reply before the deadline */
};

typedef enum { CRMCTL_OUT_TABLE, CRMCTL_OUT_JSON } crmctl_output_t;

/* One configured service (CRM_SERVICES / --services). */
typedef struct {
    char *name;           /* "sales" */
    char *endpoint;       /* "tcp://127.0.0.1:7410" */
    crm_client_t *client; /* connected on first use; owned by the context */
    int waited_ms;        /* how long the last call waited in all, for "no reply" errors */
} crmctl_service_t;

/* An option a verb accepts. `arg` NULL = a flag without a value. */
typedef struct {
    const char *name; /* long name without dashes: "type" for --type */
    char short_name;  /* 't' for -t, or 0 */
    const char *arg;  /* value placeholder for help ("PREFIX"), NULL = flag */
    const char *help;
    int repeat; /* may be given more than once; values are joined with ',' */
} crmctl_opt_t;

/* The parsed command line of one verb. */
typedef struct crmctl_args crmctl_args_t;

typedef struct crmctl crmctl_t;

/* A verb handler returns a CRMCTL_EXIT_* code. */
typedef int (*crmctl_verb_fn)(crmctl_t *ctl, const crmctl_args_t *args);

typedef struct {
    const char *name; /* one or more words: "deadletter list" */
    crmctl_verb_fn fn;
    const char *synopsis;     /* the arguments after the name, for usage lines */
    const char *help;         /* one line */
    const char *description;  /* more paragraphs for VERB --help; may be NULL */
    const crmctl_opt_t *opts; /* ends with name NULL; may be NULL */
    int max_positional;       /* positional arguments allowed; -1 = any number */
} crmctl_verb_t;

/* ---- the run context -------------------------------------------------- */

/* The services, in configuration order; owned by the context. */
size_t crmctl_n_services(const crmctl_t *ctl);
/* The service called `name`, or NULL. */
crmctl_service_t *crmctl_service_find(crmctl_t *ctl, const char *name);
/* As crmctl_service_find, but prints a usage error naming the configured
 * services when there is none of that name. */
crmctl_service_t *crmctl_service_require(crmctl_t *ctl, const char *name);
/* Resolves a comma-separated list of service names (NULL = every service,
 * in configuration order) into sel[], which has room for
 * crmctl_n_services() entries; names given twice count once. Prints a usage
 * error for an unknown name ("unknown source", with `what` = "source").
 * Returns the number selected, or -1. */
int crmctl_select_services(crmctl_t *ctl, const char *list, const char *what,
                           crmctl_service_t **sel);
/* The bus endpoint subscribers connect to (CRM_BUS_SUB_ENDPOINT / --bus). */
const char *crmctl_bus_endpoint(const crmctl_t *ctl);
crmctl_output_t crmctl_output(const crmctl_t *ctl);
/* The ZeroMQ context shared by every socket of this run. */
void *crmctl_zctx(crmctl_t *ctl);
/* This user's credentials (crm/creds.h), read on first use; NULL after
 * printing why they cannot be read. */
const crm_creds_t *crmctl_creds(crmctl_t *ctl);
/* Makes `sock` (may be NULL: just check the server is known) a CURVE client of the
 * service the directory calls `server`, with this user's key (CRM_KEY_FILE
 * or ~/.config/crm/key). Prints the error and returns -1 when impossible. */
int crmctl_secure(crmctl_t *ctl, void *sock, const char *server);

/* ---- arguments -------------------------------------------------------- */

/* The value of option `name` (long name), "" for a flag that was given, or
 * NULL when absent. Repeated options come joined with ','. */
const char *crmctl_arg(const crmctl_args_t *args, const char *name);
size_t crmctl_n_positional(const crmctl_args_t *args);
const char *crmctl_positional(const crmctl_args_t *args, size_t i);

/* Parses a decimal integer in [min, max] given for `what` (an option name
 * such as "--limit"). Prints a usage error and returns -1 when it does not
 * parse. */
int crmctl_parse_int(const crmctl_t *ctl, const char *what, const char *text, int64_t min,
                     int64_t max, int64_t *out);
int crmctl_parse_u64(const crmctl_t *ctl, const char *what, const char *text, uint64_t min,
                     uint64_t *out);

/* ---- messages --------------------------------------------------------- */

/* "crmctl: <message>" on stderr, then the DETAIL and HINT lines that are
 * given (NULL or "" = none), as postgres prints them. */
void crmctl_error(const char *detail, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A usage error: the message plus a pointer to the verb's --help; returns
 * CRMCTL_EXIT_USAGE. */
int crmctl_usage_error(const crmctl_t *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "crmctl: warning: ..." on stderr. */
void crmctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- calling services ------------------------------------------------- */

/* Deadline per attempt and attempts of ordinary commands; verbs that need
 * another budget (status: 2 s, one attempt) pass their own. */
#define CRMCTL_TIMEOUT_MS 5000
#define CRMCTL_ATTEMPTS 3

/* Call flags. */
#define CRMCTL_CALL_QUIET 1      /* print no failure (the caller reports them) */
#define CRMCTL_CALL_QUIET_DOWN 2 /* print failures, but not "could not reach" */

/* Calls `command` on `svc` with `body` (may be NULL), waiting `timeout_ms`
 * per attempt. `idempotency_key` NULL = a fresh key per call (retries of
 * this call share it). On an OK reply whose body parses as `reply_desc`
 * stores the decoded reply in *reply_p (caller frees with
 * protobuf_c_message_free_unpacked(m, NULL)) and returns CRMCTL_EXIT_OK.
 * Otherwise prints what went wrong (unless CRMCTL_CALL_QUIET) and returns
 * CRMCTL_EXIT_UNREACHABLE (no reply), CRMCTL_EXIT_FAILED (an error reply, or
 * a body that does not parse) or CRMCTL_EXIT_USAGE (an endpoint ZeroMQ
 * refuses). When `status_p` is not NULL and the
 * service answered with an error, *status_p receives the reply (caller
 * frees with crm__v1__command_reply__free_unpacked). */
int crmctl_call(crmctl_t *ctl, crmctl_service_t *svc, const char *command,
                const ProtobufCMessage *body, const char *idempotency_key, int timeout_ms,
                int attempts, const ProtobufCMessageDescriptor *reply_desc,
                ProtobufCMessage **reply_p, int flags, Crm__V1__CommandReply **status_p);

/* The outcome of one call of crmctl_call_all. */
typedef struct {
    int rc;                       /* CRMCTL_EXIT_* as crmctl_call returns */
    ProtobufCMessage *reply;      /* the decoded reply when rc is CRMCTL_EXIT_OK */
    Crm__V1__CommandReply *error; /* the error reply, when the service sent one */
} crmctl_result_t;

/* Calls `command` with `body` on each of svcs[0..n) (all different) at the
 * same time, one thread per service, each thread using only its service's
 * socket until it is joined; quietly; fills results[i]. So n services that are down cost one
 * deadline, not n. Free each result with crmctl_result_clear. */
void crmctl_call_all(crmctl_t *ctl, crmctl_service_t *const *svcs, size_t n, const char *command,
                     const ProtobufCMessage *body, int timeout_ms, int attempts,
                     const ProtobufCMessageDescriptor *reply_desc, crmctl_result_t *results);
void crmctl_result_clear(crmctl_result_t *r);
/* Prints why a result of crmctl_call_all failed, as crmctl_call would. */
void crmctl_print_result(const crmctl_service_t *svc, const char *command,
                         const crmctl_result_t *r);

/* Prints an error reply: "crmctl: COMMAND on SERVICE failed: CODE: message",
 * then FIELD, DETAIL and HINT lines when the reply has them. */
void crmctl_print_status(const crmctl_service_t *svc, const char *command,
                         const Crm__V1__Status *status);
/* Prints "crmctl: could not reach SERVICE at ENDPOINT: timeout". */
void crmctl_print_unreachable(const crmctl_service_t *svc, const char *command, int err);

/* ---- output ----------------------------------------------------------- */

/* Writes `doc` as one compact line on stdout and flushes; steals the
 * reference. Returns 0, or -1 when stdout is gone (EPIPE). */
int crmctl_json_line(json_t *doc);
/* json_integer of an unsigned 64-bit value (sequences). */
json_t *crmctl_json_u64(uint64_t v);

/* A readable table: columns from a NULL-terminated header list, then rows of
 * cells; printed with aligned columns. */
typedef struct crmctl_table crmctl_table_t;
crmctl_table_t *crmctl_table_new(const char *const *headers);
/* Adds a row with one cell per column (copied; NULL prints as "-").
 * Returns 0 or -1 on ENOMEM. */
int crmctl_table_add(crmctl_table_t *self, const char *const *cells);
size_t crmctl_table_rows(const crmctl_table_t *self);
/* Prints the table, columns padded to the display width of their widest
 * cell (crmctl_text_width); no header line with --no-headers. */
void crmctl_table_print(const crmctl_table_t *self);
/* Columns a UTF-8 string takes on a terminal (wcwidth of each character:
 * Persian letters 1, CJK and most emoji 2, combining marks 0). Needs the
 * UTF-8 LC_CTYPE that main sets. */
size_t crmctl_text_width(const char *s);
void crmctl_table_destroy(crmctl_table_t **self_p);

/* ---- verb handlers (one file per group) ------------------------------- */

int crmctl_status(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_status_opts[];

int crmctl_tail(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_tail_opts[];

int crmctl_deadletter_list(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_deadletter_list_opts[];
int crmctl_deadletter_retry(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_deadletter_retry_opts[];

int crmctl_stream_rotate_epoch(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_stream_rotate_epoch_opts[];

/* This user's identity (ops/keys.c). */
int crmctl_keys_new(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_keys_new_opts[];
int crmctl_whoami(crmctl_t *ctl, const crmctl_args_t *args);
/* sales/export.c: person export, gathered from every service */
int crmctl_person_export(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_person_export_opts[];
extern const crmctl_opt_t crmctl_whoami_opts[];

/* API tokens of the HTTP API (ops/token.c). */
int crmctl_token_create(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_token_create_opts[];
int crmctl_token_revoke(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_token_revoke_opts[];
int crmctl_token_list(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_token_list_opts[];
/* The dashboard login password of a staff principal (ops/staff.c). */
int crmctl_staff_password(crmctl_t *ctl, const crmctl_args_t *args);
extern const crmctl_opt_t crmctl_staff_password_opts[];

/* The sales verbs ("person register" is crmctl_person_register with
 * crmctl_person_register_opts); each is a table for the request engine
 * (request.h) in sales/: person.c, org.c, lead.c, pipeline.c, deal.c,
 * order.c and activity.c. */
#define CRMCTL_SALES_VERBS(X)                                                                      \
    X(person_register)                                                                             \
    X(person_show)                                                                                 \
    X(person_update)                                                                               \
    X(person_list)                                                                                 \
    X(person_erase)                                                                                \
    X(org_create)                                                                                  \
    X(org_show)                                                                                    \
    X(org_list)                                                                                    \
    X(lead_create)                                                                                 \
    X(lead_qualify)                                                                                \
    X(lead_convert)                                                                                \
    X(lead_disqualify)                                                                             \
    X(lead_list)                                                                                   \
    X(pipeline_create)                                                                             \
    X(pipeline_list)                                                                               \
    X(pipeline_rename_stage)                                                                       \
    X(deal_create)                                                                                 \
    X(deal_stage)                                                                                  \
    X(deal_win)                                                                                    \
    X(deal_lose)                                                                                   \
    X(deal_show)                                                                                   \
    X(deal_list)                                                                                   \
    X(order_create)                                                                                \
    X(order_list)                                                                                  \
    X(order_refund)                                                                                \
    X(order_cancel)                                                                                \
    X(activity_log)                                                                                \
    X(activity_schedule)                                                                           \
    X(activity_complete)                                                                           \
    X(activity_list)
#define CRMCTL_DECLARE_VERB(name)                                                                  \
    int crmctl_##name(crmctl_t *ctl, const crmctl_args_t *args);                                   \
    extern const crmctl_opt_t crmctl_##name##_opts[];
CRMCTL_SALES_VERBS(CRMCTL_DECLARE_VERB)

/* The marketing verbs (marketing/marketing.h): campaign.c, segment.c and
 * preference.c, on the request engine. */
#define CRMCTL_MARKETING_VERBS(X)                                                                  \
    X(campaign_create)                                                                             \
    X(campaign_show)                                                                               \
    X(campaign_list)                                                                               \
    X(campaign_offer)                                                                              \
    X(campaign_budget)                                                                             \
    X(campaign_expense)                                                                            \
    X(campaign_target)                                                                             \
    X(campaign_exclude)                                                                            \
    X(campaign_message)                                                                            \
    X(campaign_preview)                                                                            \
    X(campaign_schedule)                                                                           \
    X(campaign_launch)                                                                             \
    X(campaign_pause)                                                                              \
    X(campaign_resume)                                                                             \
    X(campaign_cancel)                                                                             \
    X(campaign_complete)                                                                           \
    X(campaign_results)                                                                            \
    X(campaign_compare)                                                                            \
    X(segment_create)                                                                              \
    X(segment_preview)                                                                             \
    X(segment_members)                                                                             \
    X(segment_list)                                                                                \
    X(preference_set)                                                                              \
    X(preference_show)                                                                             \
    X(response_record)                                                                             \
    X(consent_grant)                                                                               \
    X(consent_withdraw)                                                                            \
    X(consent_history)                                                                             \
    X(campaign_expense_void)                                                                       \
    X(campaign_delivery_confirm)
CRMCTL_MARKETING_VERBS(CRMCTL_DECLARE_VERB)
/* The analytics verbs (analytics.h): customer.c, audit.c, report.c (every
 * report takes crmctl_report_opts) and analytics.c. */
CRMCTL_DECLARE_VERB(customer_show)
CRMCTL_DECLARE_VERB(customer_timeline)
CRMCTL_DECLARE_VERB(audit)
CRMCTL_DECLARE_VERB(analytics_rebuild)
CRMCTL_DECLARE_VERB(analytics_status)
CRMCTL_DECLARE_VERB(analytics_scan)
extern const crmctl_opt_t crmctl_report_opts[];
int crmctl_report_kpis(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_health(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_potential(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_pipeline(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_forecast(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_weekly_activity(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_campaigns(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_data_quality(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_trends(crmctl_t *ctl, const crmctl_args_t *args);
int crmctl_report_channels(crmctl_t *ctl, const crmctl_args_t *args);

/* context.c: the named contexts of the config file; completion.c: shell
 * completion scripts from the table of verbs. Neither needs a service. */
CRMCTL_DECLARE_VERB(context_list)
CRMCTL_DECLARE_VERB(context_use)
CRMCTL_DECLARE_VERB(completion)

/* demo.c: a demo data set through the sales verbs. */
CRMCTL_DECLARE_VERB(demo_load)

/* The support verbs, tables for the same engine (request.h) aimed at the
 * support service: support/ticket.c and support/sla.c. */
#define CRMCTL_SUPPORT_TICKET_VERBS(X)                                                             \
    X(ticket_open)                                                                                 \
    X(ticket_show)                                                                                 \
    X(ticket_list)                                                                                 \
    X(ticket_assign)                                                                               \
    X(ticket_reply)                                                                                \
    X(ticket_note)                                                                                 \
    X(ticket_pend)                                                                                 \
    X(ticket_hold)                                                                                 \
    X(ticket_resolve)                                                                              \
    X(ticket_reopen)                                                                               \
    X(ticket_close)                                                                                \
    X(ticket_rate)                                                                                 \
    X(ticket_priority)
#define CRMCTL_SUPPORT_SLA_VERBS(X)                                                                \
    X(sla_policy_set)                                                                              \
    X(sla_policy_list)                                                                             \
    X(sla_calendar_set)                                                                            \
    X(sla_calendar_show)                                                                           \
    X(sla_figures)
CRMCTL_SUPPORT_TICKET_VERBS(CRMCTL_DECLARE_VERB)
CRMCTL_DECLARE_VERB(ticket_email)
CRMCTL_SUPPORT_SLA_VERBS(CRMCTL_DECLARE_VERB)

/* The webhook verbs (webhooks/webhook.c), aimed at crm-webhooks. */
#define CRMCTL_WEBHOOK_VERBS(X)                                                                    \
    X(webhook_create)                                                                              \
    X(webhook_list)                                                                                \
    X(webhook_show)                                                                                \
    X(webhook_update)                                                                              \
    X(webhook_enable)                                                                              \
    X(webhook_disable)                                                                             \
    X(webhook_delete)                                                                              \
    X(webhook_deliveries)                                                                          \
    X(webhook_retry)
CRMCTL_WEBHOOK_VERBS(CRMCTL_DECLARE_VERB)

#endif
