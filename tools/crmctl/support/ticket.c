/* ticket.c: `crmctl ticket open|show|list|assign|reply|note|pend|hold|
 * resolve|reopen|close|rate`, over support.ticket.*.
 *
 * The verbs are tables run by the request engine (request.h) with the
 * support service as their target: the same --json, --dry-run,
 * --idempotency-key, -o json and exit codes as every other verb. The
 * service checks the rules (the status machine, agents, ratings); crmctl
 * only converts the options, so a refused change prints the service's
 * error and changes nothing. */
#include "support.h"

#include <crm/pbjson.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TICKET_OPEN(X)                                                                             \
    X("customer", "ID", "the customer's id (or give --email)", 0, "ticket.customer_id", REQ_STR,   \
      0)                                                                                           \
    X("email", "EMAIL", "the requester's email: an unknown requester is registered", 0,            \
      "ticket.requester_email", REQ_STR, 0)                                                        \
    X("name", "NAME", "the requester's name", 0, "ticket.requester_name", REQ_STR, 0)              \
    X("subject", "TEXT", "what it is about (required)", 0, "ticket.subject", REQ_STR,              \
      REQ_REQUIRED)                                                                                \
    X("description", "TEXT", "the request in full", 0, "ticket.description", REQ_STR, 0)           \
    X("channel", "CHANNEL", "phone, email, web, chat or in-person", 0, "ticket.channel", REQ_ENUM, \
      0)                                                                                           \
    X("type", "TYPE", "question, problem, incident, feature-request or complaint", 0,              \
      "ticket.type", REQ_ENUM, 0)                                                                  \
    X("priority", "PRIORITY", "low, normal (the default), high or urgent", 0, "ticket.priority",   \
      REQ_ENUM, 0)                                                                                 \
    X("assignee", "AGENT", "the agent who handles it", 0, "ticket.assignee", REQ_STR, 0)           \
    X("team", "TEAM", "the team that handles it", 0, "ticket.team", REQ_STR, 0)                    \
    X("tag", "TAG", "product, topic or interest tag (product:billing)", 1, "ticket.tags",          \
      REQ_LIST, 0)                                                                                 \
    REQ_WRITE(X)
#define TICKET_SHOW(X) REQ_COMMON(X)
#define TICKET_LIST(X)                                                                             \
    X("status", "STATUS", "new, open, pending, on-hold, resolved or closed", 0, "status",          \
      REQ_ENUM, 0)                                                                                 \
    X("priority", "PRIORITY", "low, normal, high or urgent", 0, "priority", REQ_ENUM, 0)           \
    X("assignee", "AGENT", "only tickets of this agent", 0, "assignee", REQ_STR, 0)                \
    X("breached", NULL, "only tickets with a breached SLA target", 0, "breached", REQ_FLAG, 0)     \
    X("customer", "ID", "only tickets of this customer", 0, "customer_id", REQ_STR, 0)             \
    REQ_PAGING(X)
#define TICKET_ASSIGN(X)                                                                           \
    X("assignee", "AGENT", "the agent (or give it after the id)", 0, "assignee", REQ_STR,          \
      REQ_REQUIRED)                                                                                \
    X("team", "TEAM", "the team (unchanged when not given)", 0, "team", REQ_STR, 0)                \
    REQ_WRITE(X)
#define TICKET_MESSAGE(X)                                                                          \
    X("body", "TEXT", "the text (or give it after the id)", 0, "body", REQ_STR, REQ_REQUIRED)      \
    X("author", "NAME", "who wrote it (default: the caller)", 0, "author", REQ_STR, 0)             \
    REQ_WRITE(X)
#define TICKET_REPLY(X)                                                                            \
    X("from-customer", NULL,                                                                       \
      "the customer wrote it (a pending ticket reopens and its SLA clock resumes)", 0,             \
      "from_customer", REQ_FLAG, 0)                                                                \
    TICKET_MESSAGE(X)
#define TICKET_STATUS(X)                                                                           \
    X("reason", "TEXT", "why", 0, "reason", REQ_STR, 0)                                            \
    REQ_WRITE(X)
#define TICKET_RESOLVE(X)                                                                          \
    X("category", "CODE", "how it was solved: fixed, workaround, duplicate ... (required)", 0,     \
      "resolution.category", REQ_STR, REQ_REQUIRED)                                                \
    X("text", "TEXT", "the solution in words", 0, "resolution.text", REQ_STR, 0)                   \
    X("tag", "TAG", "feedback tag to add (interest:api)", 1, "tags", REQ_LIST, 0)                  \
    REQ_WRITE(X)
#define TICKET_RATE(X)                                                                             \
    X("rating", "N", "satisfaction from 1 (very unhappy) to 5 (very happy) (required)", 0,         \
      "rating", REQ_CUSTOM, REQ_REQUIRED)                                                          \
    X("comment", "TEXT", "the customer's comment", 0, "comment", REQ_STR, 0)                       \
    REQ_WRITE(X)
#define TICKET_PRIORITY(X)                                                                         \
    X("priority", "PRIORITY", "low, normal, high or urgent (required)", 0, "priority", REQ_ENUM,   \
      REQ_REQUIRED)                                                                                \
    X("reason", "TEXT", "why", 0, "reason", REQ_STR, 0)                                            \
    REQ_WRITE(X)

REQ_OPTIONS(ticket_open, TICKET_OPEN);
REQ_OPTIONS(ticket_show, TICKET_SHOW);
REQ_OPTIONS(ticket_list, TICKET_LIST);
REQ_OPTIONS(ticket_assign, TICKET_ASSIGN);
REQ_OPTIONS(ticket_reply, TICKET_REPLY);
REQ_OPTIONS(ticket_note, TICKET_MESSAGE);
REQ_OPTIONS(ticket_pend, TICKET_STATUS);
REQ_OPTIONS(ticket_hold, TICKET_STATUS);
REQ_OPTIONS(ticket_reopen, TICKET_STATUS);
REQ_OPTIONS(ticket_close, TICKET_STATUS);
REQ_OPTIONS(ticket_resolve, TICKET_RESOLVE);
REQ_OPTIONS(ticket_rate, TICKET_RATE);
REQ_OPTIONS(ticket_priority, TICKET_PRIORITY);

static const req_col_t s_ticket_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"SUBJECT", "subject", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"STATUS", "status", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__ticket_status__descriptor},
    {"PRIORITY", "priority", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__ticket_priority__descriptor},
    {"TYPE", "type", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__ticket_type__descriptor},
    {"CHANNEL", "channel", REQ_V_ENUM, REQ_IN_RECORD, &crm__v1__ticket_channel__descriptor},
    {"CUSTOMER", "customer_id", REQ_V_PERSON, REQ_IN_RECORD, NULL},
    {"REQUESTER", "requester_email", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"NAME", "requester_name", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"ASSIGNEE", "assignee", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"TEAM", "team", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"TAGS", "tags", REQ_V_JOIN, REQ_IN_RECORD, NULL},
    {"DESCRIPTION", "description", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"RESOLUTION", "resolution.category", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"SOLUTION", "resolution.text", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"RATING", "satisfaction.rating", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"COMMENT", "satisfaction.comment", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"FIRST RESPONSE DUE", "first_response_due_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"FIRST RESPONDED", "first_responded_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"FIRST RESPONSE BREACHED", "first_response_breached", REQ_V_BOOL, REQ_IN_RECORD, NULL},
    {"DUE", "resolution_due_us", REQ_V_DATETIME, REQ_IN_TABLE, NULL},
    /* Either target: a ticket late only with its first response is breached too. */
    {"BREACHED", "first_response_breached=first response,resolution_breached=resolution",
     REQ_V_FLAGS, REQ_IN_TABLE, NULL},
    {"RESOLUTION DUE", "resolution_due_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"RESOLUTION BREACHED", "resolution_breached", REQ_V_BOOL, REQ_IN_RECORD, NULL},
    {"SLA PAUSED SINCE", "sla_paused_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"RESOLVED", "resolved_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* What `show` adds to the ticket: the customer's contact preferences. */
static const req_col_t s_contact_view[] = {
    {"DO NOT CONTACT", "do_not_contact", REQ_V_JOIN, REQ_IN_RECORD, NULL},
    {"PREFERRED CHANNEL", "preferred_channel", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

static const req_col_t s_message_view[] = {
    {"AT", "created_at_us", REQ_V_DATETIME, REQ_IN_TABLE, NULL},
    {"KIND", "kind", REQ_V_ENUM, REQ_IN_TABLE, &crm__v1__ticket_message_kind__descriptor},
    {"AUTHOR", "author", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {"TEXT", "body", REQ_V_TEXT, REQ_IN_TABLE, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

/* The ticket, what agents must respect when contacting the customer, then
 * the conversation. */
static int s_print_shown(const req_verb_t *verb, const json_t *reply)
{
    req_print_record(json_object_get(reply, verb->entity), verb->view);
    req_print_record(reply, s_contact_view);
    printf("\nconversation:\n");
    req_print_table(json_object_get(reply, "messages"), s_message_view);
    return CRMCTL_EXIT_OK;
}

static const char *const s_id_then_assignee[] = {"id", "assignee", NULL};
static const char *const s_id_then_body[] = {"id", "body", NULL};

#define TICKET_ON_ID(name, cmd, req, done_)                                                        \
    static const req_verb_t s_##name = {                                                           \
        .service = SUPPORT_SERVICE,                                                                \
        .proto = "support.proto",                                                                  \
        .convert = support_convert,                                                                \
        REQ_ON_ID(cmd, &crm__v1__##req##__descriptor, &crm__v1__ticket_reply__descriptor,          \
                  s_##name##_fields, "ticket", s_ticket_view, done_)}

static const req_verb_t s_ticket_open = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.ticket.open",
    .request = &crm__v1__open_ticket_request__descriptor,
    .reply = &crm__v1__ticket_reply__descriptor,
    .fields = s_ticket_open_fields,
    .noun = "ticket",
    .entity = "ticket",
    .view = s_ticket_view,
    .done = "opened",
    .names = 1,
};

static const req_verb_t s_ticket_show = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    REQ_ON_ID("support.ticket.show", &crm__v1__show_ticket_request__descriptor,
              &crm__v1__ticket_reply__descriptor, s_ticket_show_fields, "ticket", s_ticket_view,
              NULL),
    .print = s_print_shown,
    .names = 1,
};

static const req_verb_t s_ticket_list = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.ticket.list",
    .request = &crm__v1__list_tickets_request__descriptor,
    .reply = &crm__v1__list_tickets_reply__descriptor,
    .fields = s_ticket_list_fields,
    .items = "tickets",
    .noun = "ticket",
    .view = s_ticket_view,
};

static const req_verb_t s_ticket_assign = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.ticket.assign",
    .request = &crm__v1__assign_ticket_request__descriptor,
    .reply = &crm__v1__ticket_reply__descriptor,
    .fields = s_ticket_assign_fields,
    .positional = s_id_then_assignee,
    .min_positional = 1,
    .noun = "ticket",
    .entity = "ticket",
    .view = s_ticket_view,
    .done = "assigned",
    .names = 1,
};

static const req_verb_t s_ticket_reply = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.ticket.reply",
    .request = &crm__v1__add_ticket_message_request__descriptor,
    .reply = &crm__v1__ticket_reply__descriptor,
    .fields = s_ticket_reply_fields,
    .positional = s_id_then_body,
    .min_positional = 1,
    .noun = "ticket",
    .entity = "ticket",
    .view = s_ticket_view,
    .done = "replied to",
    .names = 1,
};

static const req_verb_t s_ticket_note = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    .command = "support.ticket.note",
    .request = &crm__v1__add_ticket_message_request__descriptor,
    .reply = &crm__v1__ticket_reply__descriptor,
    .fields = s_ticket_note_fields,
    .positional = s_id_then_body,
    .min_positional = 1,
    .noun = "ticket",
    .entity = "ticket",
    .view = s_ticket_view,
    .done = "noted",
    .names = 1,
};

static const req_verb_t s_ticket_priority = {
    .service = SUPPORT_SERVICE,
    .proto = "support.proto",
    .convert = support_convert,
    REQ_ON_ID("support.ticket.prioritize", &crm__v1__set_ticket_priority_request__descriptor,
              &crm__v1__ticket_reply__descriptor, s_ticket_priority_fields, "ticket", s_ticket_view,
              "re-prioritised"),
};

TICKET_ON_ID(ticket_pend, "support.ticket.pend", change_ticket_status_request, "pending");
TICKET_ON_ID(ticket_hold, "support.ticket.hold", change_ticket_status_request, "on hold");
TICKET_ON_ID(ticket_reopen, "support.ticket.reopen", change_ticket_status_request, "reopened");
TICKET_ON_ID(ticket_close, "support.ticket.close", change_ticket_status_request, "closed");
TICKET_ON_ID(ticket_resolve, "support.ticket.resolve", resolve_ticket_request, "resolved");
TICKET_ON_ID(ticket_rate, "support.ticket.rate", rate_ticket_request, "rated");

/* ---- ticket email: a mail as received ------------------------------------------ */

/* Larger than any command frame the service accepts by default (1 MiB). */
#define TICKET_MAIL_MAX (1024 * 1024)

const crmctl_opt_t crmctl_ticket_email_opts[] = {
    {"idempotency-key", 0, "KEY",
     "key that makes a retried delivery apply once (default: email:<Message-ID>)", 0},
    {NULL, 0, NULL, NULL, 0},
};

/* "email:<Message-ID>" from the header block of mail into key, or "" when
 * the mail has none (or one too long for a key). */
static void s_mail_key(const char *mail, size_t n, char *key, size_t cap)
{
    key[0] = 0;
    for (size_t i = 0; i < n;) {
        const char *line = mail + i, *nl = memchr(line, '\n', n - i);
        size_t len = nl ? (size_t)(nl - line) : n - i;
        if (len == 0 || (len == 1 && line[0] == '\r'))
            return; /* the end of the header block */
        if (len > 11 && !strncasecmp(line, "Message-ID:", 11)) {
            size_t a = 11;
            while (a < len && isspace((unsigned char)line[a]))
                a++;
            while (len > a && isspace((unsigned char)line[len - 1]))
                len--;
            if (len > a && len - a + 7 < cap)
                snprintf(key, cap, "email:%.*s", (int)(len - a), line + a);
            return;
        }
        i += len + 1;
    }
}

int crmctl_ticket_email(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *path = crmctl_n_positional(args) ? crmctl_positional(args, 0) : "-";
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        crmctl_error(NULL, NULL, "could not open \"%s\": %s", path, strerror(errno));
        return CRMCTL_EXIT_USAGE;
    }
    char *mail = malloc(TICKET_MAIL_MAX + 1);
    size_t n = mail ? fread(mail, 1, TICKET_MAIL_MAX + 1, f) : 0;
    int bad = !mail || ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad || n > TICKET_MAIL_MAX || n == 0) {
        crmctl_error(n > TICKET_MAIL_MAX ? "Mails over 1 MiB are refused." : NULL, NULL,
                     "could not read a mail from \"%s\"%s", path,
                     n == 0 && !bad ? ": it is empty" : "");
        free(mail);
        return CRMCTL_EXIT_USAGE;
    }
    crmctl_service_t *svc = crmctl_service_require(ctl, SUPPORT_SERVICE);
    if (!svc) {
        free(mail);
        return CRMCTL_EXIT_USAGE;
    }
    char key[200];
    const char *given = crmctl_arg(args, "idempotency-key");
    s_mail_key(mail, n, key, sizeof key);
    Crm__V1__ReceiveEmailRequest rq = CRM__V1__RECEIVE_EMAIL_REQUEST__INIT;
    rq.raw.data = (uint8_t *)mail;
    rq.raw.len = n;
    ProtobufCMessage *rep = NULL;
    int rc = crmctl_call(ctl, svc, "support.email.receive", &rq.base,
                         given    ? given
                         : key[0] ? key
                                  : NULL,
                         CRMCTL_TIMEOUT_MS, CRMCTL_ATTEMPTS, &crm__v1__ticket_reply__descriptor,
                         &rep, 0, NULL);
    free(mail);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    json_t *reply = crm_pbjson_from_message(rep);
    protobuf_c_message_free_unpacked(rep, NULL);
    if (!reply) {
        crmctl_error(NULL, NULL, "out of memory");
        return CRMCTL_EXIT_FAILED;
    }
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return crmctl_json_line(reply) < 0 ? CRMCTL_EXIT_FAILED : CRMCTL_EXIT_OK;
    /* A message added to a ticket, or a ticket opened. */
    const json_t *t = json_object_get(reply, "ticket");
    printf("ticket %s %s\n", req_str(t, "id"),
           json_array_size(json_object_get(reply, "messages")) ? "answered by the customer"
                                                               : "opened from the mail");
    req_print_record(t, s_ticket_view);
    json_decref(reply);
    return CRMCTL_EXIT_OK;
}

#define TICKET_HANDLER(name)                                                                       \
    int crmctl_##name(crmctl_t *ctl, const crmctl_args_t *args)                                    \
    {                                                                                              \
        return crmctl_request_run(ctl, args, &s_##name);                                           \
    }
CRMCTL_SUPPORT_TICKET_VERBS(TICKET_HANDLER)
