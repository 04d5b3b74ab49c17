/* store.h: all of support's SQL, as statements run in a work's transaction.
 *
 * Each function issues one statement through crm_work_query (reads) or
 * crm_work_exec (writes) with its values as out-of-line parameters and
 * calls `cb` with the result; it returns 0 or a negative error (the work is
 * then already failed). Records come back as JSON text keyed by the field
 * names of their crm.v1 message (crm_work_record). Result layouts are
 * given per function as "col: meaning". */
#ifndef SUPPORT_STORE_H
#define SUPPORT_STORE_H

#include <crm/service.h>
#include <stdint.h>

#include "crm/v1/sales.pb-c.h"
#include "crm/v1/support.pb-c.h"

/* The calendar comes as four columns from a first one `c`: c: the
 * BusinessCalendar (JSON); c+1: the zone's offset before its first change
 * (minutes); c+2: the UTC instants of its changes (bigint[] text); c+3:
 * the offsets from then on (integer[] text). Both arrays are empty for a
 * fixed offset. */

/* What opening a ticket needs. 0: the person with id `customer_id`, else
 * the oldest with `email` (Person JSON or NULL; either key may be "");
 * 1: the SlaPolicy of `priority` (JSON); 2-5: the calendar. */
int support_store_open_context(crm_work_t *w, const char *customer_id, const char *email,
                               int priority, crm_work_cb cb);

/* Upserts a person another service registered or updated, by id: name and
 * emails are replaced when the event carries them. No result needed. */
int support_store_person_upsert(crm_work_t *w, const Crm__V1__Person *p, const char *source,
                                int64_t now_us, crm_work_cb cb);

/* Replaces the contact preferences of `customer_id` (channel names),
 * creating a bare person when support has not met the customer yet. No
 * result needed. */
int support_store_preferences(crm_work_t *w, const char *customer_id, char *const *opted_out,
                              size_t n, const char *preferred, int64_t now_us, crm_work_cb cb);

/* Inserts t (every field set by the caller), and first, when
 * `register_customer`, the person t->customer_id that support met first
 * (name t->requester_name, the email t->requester_email, registered_by
 * "support"; an id that exists is left alone). 0: the ticket's customer
 * id as stored (the crm_alias trigger names a merged person's survivor);
 * 1: the person's id when it was inserted, else NULL. The rows hold t's
 * values as sent otherwise (the rest of their columns their defaults). */
int support_store_ticket_insert(crm_work_t *w, const Crm__V1__Ticket *t, int register_customer,
                                crm_work_cb cb);

/* support.ticket.open's set-based form: what opening n tickets needs, as
 * support_store_open_context for each (customers[i] or emails[i] may be
 * ""). A row per ticket in order: 0 its ordinal from 1; 1, 2 the person's
 * id and name (NULL when none); 3, 4 the SLA targets of priorities[i] in
 * minutes (NULL when no policy); 5-8 the calendar, on row 0 only. */
int support_store_open_context_run(crm_work_t *w, char *const *customers, char *const *emails,
                                   const int64_t *priorities, size_t n, crm_work_cb cb);

/* Inserts n tickets (and registers the requesters of those with
 * register_customer[i]) in one statement, as support_store_ticket_insert
 * for each. A row per ticket in order: 0 its ordinal from 1; 1 and 2 as
 * support_store_ticket_insert's 0 and 1. */
int support_store_ticket_insert_run(crm_work_t *w, Crm__V1__Ticket *const *tickets,
                                    const int *register_customer, size_t n, crm_work_cb cb);

/* Locks ticket `id`. 0: Ticket JSON; 1-4: the calendar; 5: the SlaPolicy
 * of `priority` (JSON; NULL for 0); 6: whether `sender` (a normalised
 * email, or NULL) is the ticket's requester or one of its customer's
 * emails. No row when unknown. */
int support_store_ticket_lock(crm_work_t *w, const char *id, int priority, const char *sender,
                              crm_work_cb cb);

/* Writes the fields a command may change (status, priority, assignment,
 * tags, resolution, satisfaction, SLA targets and clock; never the raised
 * flags, which only the scan sets). 0: Ticket JSON. */
int support_store_ticket_save(crm_work_t *w, const Crm__V1__Ticket *t, crm_work_cb cb);

/* Inserts m (id, created_at_us set by the caller). 0: TicketMessage JSON. */
int support_store_message_insert(crm_work_t *w, const Crm__V1__TicketMessage *m, crm_work_cb cb);

/* 0: a TicketReply (JSON): the ticket and its messages, oldest first. No
 * row when unknown. */
int support_store_ticket_show(crm_work_t *w, const char *id, crm_work_cb cb);

/* Tickets matching rq after the keyset position (after_us, after_id; us 0
 * = from the start), oldest first, at most `limit`. One row each, 0: JSON;
 * 1: created_us; 2: id. */
int support_store_ticket_list(crm_work_t *w, const Crm__V1__ListTicketsRequest *rq,
                              int64_t after_us, const char *after_id, int limit, crm_work_cb cb);

/* Replaces the policy of p->priority. 0: SlaPolicy JSON. */
int support_store_policy_set(crm_work_t *w, const Crm__V1__SlaPolicy *p, crm_work_cb cb);
/* Every policy by priority, one row each, 0: JSON. */
int support_store_policy_list(crm_work_t *w, crm_work_cb cb);
/* The management figures of [from_us, to_us), the backlog at at_us
 * (sql/0004_figures.sql). 0: the JSON document. */
int support_store_figures(crm_work_t *w, int64_t from_us, int64_t to_us, int64_t at_us,
                          crm_work_cb cb);
/* 0: whether PostgreSQL knows time zone `zone` (pg_timezone_names). */
int support_store_zone_known(crm_work_t *w, const char *zone, crm_work_cb cb);
/* Locks the calendar row. 0-3: the calendar (as before a change). */
int support_store_calendar_lock(crm_work_t *w, crm_work_cb cb);
/* Replaces the calendar with `json` (a BusinessCalendar object) and its
 * zone table: read from PostgreSQL's tz database for `zone` (which must
 * exist), emptied for "" (a fixed offset). 0-3: the new calendar. */
int support_store_calendar_set(crm_work_t *w, const char *json, const char *zone, crm_work_cb cb);
/* Locks the tickets whose SLA clock runs (new or open, not paused) with a
 * target not met whose due instant is after `now_us`. One row each, 0:
 * Ticket JSON. */
int support_store_running(crm_work_t *w, int64_t now_us, crm_work_cb cb);
/* Sets the four SLA instants of tickets ids[i] (decimal texts). */
int support_store_rearm(crm_work_t *w, char *const *ids, char *const *fr_due, char *const *fr_risk,
                        char *const *res_due, char *const *res_risk, size_t n, crm_work_cb cb);
/* 0: the calendar (JSON). */
int support_store_calendar_show(crm_work_t *w, crm_work_cb cb);

/* Marks, on up to `limit` tickets, the SLA instants that passed by `now_us`
 * while their clock ran and that were not raised yet. One row per ticket:
 * 0: Ticket JSON (after); 1: first response newly at risk; 2: first
 * response newly breached; 3: resolution newly at risk; 4: resolution
 * newly breached (booleans). */
int support_store_sla_scan(crm_work_t *w, int64_t now_us, int limit, crm_work_cb cb);

/* ---- agents' replies by mail (reply_mail.c) ---------------------------------- */
/* 0: the Message-IDs of the replies mailed on ticket_id so far, oldest
 * first. */
int support_store_reply_mail_thread(crm_work_t *w, const char *ticket_id, crm_work_cb cb);
/* Queues one message (raw: headers and text) for `to`. */
int support_store_reply_mail_put(crm_work_t *w, const char *id, const char *ticket_id,
                                 const char *message_id, const char *to, const char *raw,
                                 int64_t now_us, crm_work_cb cb);
/* 0-2: id, address, raw of at most `limit` messages due to be sent. */
int support_store_reply_mail_due(crm_work_t *w, int limit, int64_t now_us, crm_work_cb cb);
/* Records the outcomes, a JSON array of {id, ok, error}. */
int support_store_reply_mail_outcome(crm_work_t *w, const char *outcomes, int64_t now_us,
                                     crm_work_cb cb);

#endif
