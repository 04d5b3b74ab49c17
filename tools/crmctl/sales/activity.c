/* activity.c: `crmctl activity log|schedule|complete|list`, over
 * sales.activity.*: the calls, meetings, emails, tasks, notes and letters
 * reps record.
 *
 * log records what happened now; schedule records what is due later (the
 * service emits an event when it falls due); complete closes a scheduled
 * one with its outcome. Any of them can name the next action. */
#include "sales.h"

/* What log and schedule share. */
#define ACTIVITY_BASE(X)                                                                           \
    X("kind", "KIND", "call, meeting, email, task, note, letter or social (required)", 0,          \
      "activity.kind", REQ_ENUM, REQ_REQUIRED)                                                     \
    X("person", "ID", "who it was with (required)", 0, "activity.person_id", REQ_STR,              \
      REQ_REQUIRED)                                                                                \
    X("deal", "ID", "the deal it is about", 0, "activity.deal_id", REQ_STR, 0)                     \
    X("subject", "TEXT", "one line (required)", 0, "activity.subject", REQ_STR, REQ_REQUIRED)      \
    X("body", "TEXT", "details", 0, "activity.body", REQ_STR, 0)                                   \
    X("outcome", "TEXT", "how it went", 0, "activity.outcome", REQ_STR, 0)                         \
    X("next-action", "TEXT", "what happens next", 0, "activity.next_action", REQ_STR, 0)           \
    X("next-due", "WHEN", "when the next action is due (RFC 3339 or +2h, +1d)", 0,                 \
      "activity.next_action_due_us", REQ_TIME_US, 0)                                               \
    X("owner", "OWNER", "staff member responsible", 0, "activity.owner", REQ_STR, 0)
#define ACTIVITY_LOG(X) ACTIVITY_BASE(X) REQ_WRITE(X)
#define ACTIVITY_SCHEDULE(X)                                                                       \
    ACTIVITY_BASE(X)                                                                               \
    X("due", "WHEN", "when it falls due: 2026-11-23T09:00:00Z or +2h, +30m, +1d (required)", 0,    \
      "activity.due_at_us", REQ_TIME_US, REQ_REQUIRED)                                             \
    X("override-reason", "TEXT",                                                                   \
      "why a person who opted out of this channel is contacted anyway (recorded)", 0,              \
      "override_reason", REQ_STR, 0)                                                               \
    REQ_WRITE(X)
#define ACTIVITY_COMPLETE(X)                                                                       \
    X("outcome", "TEXT", "how it went", 0, "outcome", REQ_STR, 0)                                  \
    X("next-action", "TEXT", "what happens next", 0, "next_action", REQ_STR, 0)                    \
    X("next-due", "WHEN", "when the next action is due (RFC 3339 or +2h, +1d)", 0,                 \
      "next_action_due_us", REQ_TIME_US, 0)                                                        \
    REQ_WRITE(X)
#define ACTIVITY_LIST(X)                                                                           \
    X("owner", "OWNER", "only activities of this owner", 0, "owner", REQ_STR, 0)                   \
    X("person", "ID", "only activities with this person", 0, "person_id", REQ_STR, 0)              \
    X("deal", "ID", "only activities about this deal", 0, "deal_id", REQ_STR, 0)                   \
    X("status", "STATUS", "scheduled or done", 0, "status", REQ_ENUM, 0)                           \
    X("due", "WHEN", "only scheduled ones due before WHEN (RFC 3339 or +1d)", 0, "due_before_us",  \
      REQ_TIME_US, 0)                                                                              \
    X("overdue", NULL, "only scheduled ones already past due", 0, "overdue", REQ_FLAG, 0)          \
    REQ_PAGING(X)

REQ_OPTIONS(activity_log, ACTIVITY_LOG);
REQ_OPTIONS(activity_schedule, ACTIVITY_SCHEDULE);
REQ_OPTIONS(activity_complete, ACTIVITY_COMPLETE);
REQ_OPTIONS(activity_list, ACTIVITY_LIST);

static const req_col_t s_activity_view[] = {
    {"ID", "id", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"KIND", "kind", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__activity_kind__descriptor},
    {"STATUS", "status", REQ_V_ENUM, REQ_IN_BOTH, &crm__v1__activity_status__descriptor},
    {"DUE", "due_at_us", REQ_V_DATETIME, REQ_IN_BOTH, NULL},
    {"SUBJECT", "subject", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"BODY", "body", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"PERSON", "person_id", REQ_V_PERSON, REQ_IN_BOTH, NULL},
    {"DEAL", "deal_id", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"OWNER", "owner", REQ_V_TEXT, REQ_IN_BOTH, NULL},
    {"COMPLETED", "completed_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"OUTCOME", "outcome", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"NEXT ACTION", "next_action", REQ_V_TEXT, REQ_IN_RECORD, NULL},
    {"NEXT DUE", "next_action_due_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {"DUE NOTIFIED", "due_notified", REQ_V_BOOL, REQ_IN_RECORD, NULL},
    {"CREATED", "created_at_us", REQ_V_DATETIME, REQ_IN_RECORD, NULL},
    {NULL, NULL, REQ_V_TEXT, 0, NULL},
};

const req_verb_t sales_activity_log = {
    .command = "sales.activity.log",
    .request = &crm__v1__log_activity_request__descriptor,
    .reply = &crm__v1__activity_reply__descriptor,
    .fields = s_activity_log_fields,
    .noun = "activity",
    .entity = "activity",
    .view = s_activity_view,
    .done = "logged",
    .names = 1,
};

const req_verb_t sales_activity_schedule = {
    .command = "sales.activity.schedule",
    .request = &crm__v1__log_activity_request__descriptor,
    .reply = &crm__v1__activity_reply__descriptor,
    .fields = s_activity_schedule_fields,
    .noun = "activity",
    .entity = "activity",
    .view = s_activity_view,
    .done = "scheduled",
    .names = 1,
};

const req_verb_t sales_activity_complete = {
    REQ_ON_ID("sales.activity.complete", &crm__v1__complete_activity_request__descriptor,
              &crm__v1__activity_reply__descriptor, s_activity_complete_fields, "activity",
              s_activity_view, "completed"),
};

const req_verb_t sales_activity_list = {
    .command = "sales.activity.list",
    .request = &crm__v1__list_activities_request__descriptor,
    .reply = &crm__v1__list_activities_reply__descriptor,
    .fields = s_activity_list_fields,
    .items = "activities",
    .noun = "activity",
    .view = s_activity_view,
    .names = 1,
};

SALES_VERB_HANDLER(activity_log)
SALES_VERB_HANDLER(activity_schedule)
SALES_VERB_HANDLER(activity_complete)
SALES_VERB_HANDLER(activity_list)
