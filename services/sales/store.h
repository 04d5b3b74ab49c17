/* store.h: all of sales' SQL, as statements run in a work's transaction.
 *
 * The statements live in store/, one file per aggregate with the same
 * names as handlers/ (store/person.c, store/deal.c, ...); this is their one
 * header, so a handler includes nothing else to reach the database. The
 * jsonb expressions that turn rows into records are shared by those files
 * only (store/records.h).
 *
 * Each function issues one statement through crm_work_query (reads) or
 * crm_work_exec (writes) with its values as out-of-line parameters (arrays
 * as PostgreSQL array literals, structured values as JSON built with
 * jansson), and calls `cb` with the result; it returns 0 or a negative
 * error (the work is then already failed). Input messages are the handler's
 * normalised values (validated by rules.c first); empty strings mean "not
 * given".
 *
 * Records come back as JSON text whose keys are the field names of their
 * crm.v1 message, for crm_work_record (events.h). Result layouts are
 * given per function as "col: meaning". List statements return one row per
 * record, (json, created_us, id), ordered by (created_at, id), at most
 * page_size + 1 rows so the caller knows whether there is a next page. */
#ifndef SALES_STORE_H
#define SALES_STORE_H

#include <crm/service.h>
#include <jansson.h>
#include <stdint.h>

#include "crm/v1/sales.pb-c.h"

/* Keyset position of a list: the page token, parsed (us 0 = first page). */
typedef struct {
    int64_t after_us;
    const char *after_id;
    int limit; /* page_size + 1 */
} sales_page_t;

/* ---- people (store/person.c) ----------------------------------------------- */

/* Registers p (id set by the caller) in one statement: when no person has
 * any of its emails and its organisation exists (or is ""), inserts it as
 * sales_store_person_insert does. 0: the oldest person having any of its
 * emails (JSON) or NULL; 1: whether the organisation exists; 2: the person
 * inserted, or the one that had its id already (JSON), NULL when nothing
 * was inserted; 3: true if it was inserted. */
int sales_store_person_register(crm_work_t *w, const Crm__V1__Person *p, unsigned changed,
                                int64_t version_us, const char *source, crm_work_cb cb);

/* The same for people[0..n) (changed[i] and version_us[i] each one's) in
 * one statement through w (sql/0022): row i for people[i], column 0 its
 * ordinal (i + 1), 1 to 5 the columns above. */
int sales_store_person_register_run(crm_work_t *w, const Crm__V1__Person *const *people,
                                    const unsigned *changed, const int64_t *version_us, size_t n,
                                    const char *source, crm_work_cb cb);

/* Inserts p (id set by the caller), stamping the fields `changed` with
 * (version_us, source); registered_by = source. When the id exists the row
 * is left as it is. 0: the person (JSON); 1: true if it was inserted. */
int sales_store_person_insert(crm_work_t *w, const Crm__V1__Person *p, unsigned changed,
                              int64_t version_us, const char *source, crm_work_cb cb);

/* The person by id, else by email (either may be ""). 0: JSON; no row when
 * unknown. */
int sales_store_person_get(crm_work_t *w, const char *id, const char *email, crm_work_cb cb);

/* Locks person `id` for an update. 0: the person (JSON); 1: the id of
 * another person having one of `emails`, or NULL; 2: whether `org_id`
 * exists (true when ""); 3: whether the person was erased. No row when the
 * person is unknown. */
int sales_store_person_lock(crm_work_t *w, const char *id, char *const *emails, size_t n_emails,
                            const char *org_id, crm_work_cb cb);

/* Applies the fields `changed` of p to person p->id, each only where
 * (version_us, source) is newer than the field's version (last writer
 * wins per field). 0: the person after the change (JSON). */
int sales_store_person_update(crm_work_t *w, const Crm__V1__Person *p, unsigned changed,
                              int64_t version_us, const char *source, crm_work_cb cb);

/* The same, creating the person when its id is unknown (registered_by =
 * source, created at created_us or now): how people registered by other
 * services reach sales' records. No result columns are needed. */
/* store/erasure.c: the person locked, with (as a JSON array, bool, bigint,
 * text) the strings to erase, whether erased already, when, the owner. */
int sales_store_erasure_lock(crm_work_t *w, const char *id, crm_work_cb cb);
/* Records the erasure and blanks the person's free text; returns the
 * erasure's instant (microseconds). */
int sales_store_erasure_blank(crm_work_t *w, const char *id, const char *actor, const char *reason,
                              crm_work_cb cb);
/* store/merge.c: persons `keep` and `drop`, in that order, one row each
 * (locked when they exist): 0 the id, 1 whether it exists, 2 whether it
 * was erased, 3 the survivor it was merged into (NULL if not), 4 its
 * emails as a JSON array. */
int sales_store_merge_lock(crm_work_t *w, const char *keep, const char *drop, crm_work_cb cb);
/* Merges `drop` into `keep` (sales_merge_person, sql/0010_merge.sql) with
 * the `n` alias ids; 0: the rows re-pointed, 1: the instant (us). */
int sales_store_merge(crm_work_t *w, const char *keep, const char *drop, char *const *alias_ids,
                      size_t n, const char *actor, const char *reason, crm_work_cb cb);
int sales_store_person_merge(crm_work_t *w, const Crm__V1__Person *p, unsigned changed,
                             int64_t version_us, const char *source, int64_t created_us,
                             crm_work_cb cb);

int sales_store_person_list(crm_work_t *w, const Crm__V1__ListPeopleRequest *rq,
                            const sales_page_t *page, crm_work_cb cb);

/* ---- organisations (store/org.c) ------------------------------------------- */

/* 0: the organisation named `name` (case-insensitively), JSON; no row when
 * there is none. */
int sales_store_org_by_name(crm_work_t *w, const char *name, crm_work_cb cb);

/* Inserts o (id set by the caller). 0: JSON. */
int sales_store_org_insert(crm_work_t *w, const Crm__V1__Organization *o, crm_work_cb cb);

/* 0: an OrganizationReply (JSON): the organisation and its people (at most
 * 500, by name). No row when unknown. */
int sales_store_org_show(crm_work_t *w, const char *id, crm_work_cb cb);

int sales_store_org_list(crm_work_t *w, const Crm__V1__ListOrganizationsRequest *rq,
                         const sales_page_t *page, crm_work_cb cb);

/* ---- leads (store/lead.c) -------------------------------------------------- */

/* Inserts l (id, status set by the caller). When l->person_id is "" and a
 * person has l->email, the lead is linked to that person. 0: JSON. */
int sales_store_lead_insert(crm_work_t *w, const Crm__V1__Lead *l, crm_work_cb cb);

/* Locks lead `id`. 0: JSON; no row when unknown. */
int sales_store_lead_lock(crm_work_t *w, const char *id, crm_work_cb cb);

/* Sets the status of lead `id` and, when not NULL, its qualification or
 * disqualify reason. 0: JSON. */
int sales_store_lead_status(crm_work_t *w, const char *id, int status, const char *qualification,
                            const char *reason, crm_work_cb cb);

int sales_store_lead_list(crm_work_t *w, const Crm__V1__ListLeadsRequest *rq,
                          const sales_page_t *page, crm_work_cb cb);

/* ---- lead conversion (store/lead_convert.c) -------------------------------- */

/* What converting a lead needs to know. 0: the person with id `person_id`,
 * else the oldest with `email` (JSON or NULL); 1: the organisation named
 * `company` (JSON or NULL); 2: pipeline `pipeline_id`, or the default one
 * when "" (JSON with stages, or NULL). */
int sales_store_convert_context(crm_work_t *w, const char *person_id, const char *email,
                                const char *company, const char *pipeline_id, crm_work_cb cb);

/* Marks lead `id` converted and links its ids ("" = none). 0: JSON. */
int sales_store_lead_converted(crm_work_t *w, const char *id, const char *person_id,
                               const char *org_id, const char *deal_id, crm_work_cb cb);

/* ---- pipelines (store/pipeline.c) ------------------------------------------ */

/* 0: the id of the pipeline named `name` (case-insensitively); no row when
 * there is none. */
int sales_store_pipeline_by_name(crm_work_t *w, const char *name, crm_work_cb cb);

/* Clears the default flag of the current default pipeline. */
int sales_store_pipeline_undefault(crm_work_t *w, crm_work_cb cb);

/* Inserts p with its stages in order (id set by the caller). 0: JSON. */
int sales_store_pipeline_insert(crm_work_t *w, const Crm__V1__Pipeline *p, crm_work_cb cb);

/* 0: JSON of every pipeline, the default first, then by creation. */
int sales_store_pipeline_list(crm_work_t *w, crm_work_cb cb);
/* Renames a stage (sql/0009_stage_rename.sql): 0 error code (NULL on
 * success), 1 its detail, 2 the deals that followed. */
int sales_store_stage_rename(crm_work_t *w, const char *pipeline_id, const char *stage,
                             const char *new_name, crm_work_cb cb);
/* Adds, moves a stage, or changes its default probability
 * (sql/0012_stage_edit.sql): 0 error code (NULL on success), 1 its detail;
 * 2 the new stage's position, the moved stage's old position, or the old
 * probability; 3 (probability) the open deals that followed. */
int sales_store_stage_add(crm_work_t *w, const char *pipeline_id, const char *name, int probability,
                          int position, crm_work_cb cb);
int sales_store_stage_move(crm_work_t *w, const char *pipeline_id, const char *stage, int position,
                           crm_work_cb cb);
int sales_store_stage_probability(crm_work_t *w, const char *pipeline_id, const char *stage,
                                  int probability, crm_work_cb cb);
/* 0: JSON of pipeline `pipeline_id`; no row when missing. */
int sales_store_pipeline_get(crm_work_t *w, const char *pipeline_id, crm_work_cb cb);

/* ---- deals (store/deal.c) -------------------------------------------------- */

/* What creating a deal needs to know. 0: whether person `person_id`
 * exists; 1: whether organisation `org_id` exists; 2: pipeline
 * `pipeline_id` or the default one when "" (JSON or NULL); 3: whether lead
 * `lead_id` exists. Empty ids count as existing. */
int sales_store_deal_context(crm_work_t *w, const char *person_id, const char *org_id,
                             const char *pipeline_id, const char *lead_id, crm_work_cb cb);

/* Inserts d (id, stage, probability, status set by the caller) and its
 * first stage history entry. 0: JSON. */
int sales_store_deal_insert(crm_work_t *w, const Crm__V1__Deal *d, const char *actor,
                            crm_work_cb cb);

/* Locks deal `id`. 0: the deal (JSON); 1: its pipeline (JSON with stages).
 * No row when unknown. */
int sales_store_deal_lock(crm_work_t *w, const char *id, crm_work_cb cb);

/* Moves deal `id` from stage `from` to `to` with `probability`, sets
 * next_step unless NULL, and records the move. 0: JSON. */
int sales_store_deal_move(crm_work_t *w, const char *id, const char *from, const char *to,
                          int probability, const char *next_step, const char *actor,
                          crm_work_cb cb);

/* Closes deal `id`: won (probability 100) or lost with `reason`
 * (probability 0). 0: JSON. */
int sales_store_deal_close(crm_work_t *w, const char *id, int won, const char *reason,
                           crm_work_cb cb);

/* 0: a DealReply (JSON): the deal and its stage history, oldest first.
 * No row when unknown. */
int sales_store_deal_show(crm_work_t *w, const char *id, crm_work_cb cb);

int sales_store_deal_list(crm_work_t *w, const Crm__V1__ListDealsRequest *rq,
                          const sales_page_t *page, crm_work_cb cb);

/* ---- orders (store/order.c) ------------------------------------------------ */

/* Inserts o with its items (id, total set by the caller; ordered_at_us 0 =
 * now) if its person, organisation and deal exist ("" counts as existing),
 * in one statement. 0, 1, 2: whether they exist; 3, 4, 5: the person's id
 * (a merged one's survivor), the organisation's and the deal's as stored;
 * 6: ordered_at in microseconds; 3 to 6 NULL when one of them did not
 * exist and nothing was inserted. */
int sales_store_order_create(crm_work_t *w, const Crm__V1__Order *o, crm_work_cb cb);

/* The same for orders[0..n) in one statement through w (sql/0021): row i
 * for orders[i], column 0 its ordinal (i + 1), 1 to 7 the columns above. */
int sales_store_order_create_run(crm_work_t *w, Crm__V1__Order *const *orders, size_t n,
                                 crm_work_cb cb);

/* Orders filtered by person, organisation and ordered_at range. */
int sales_store_order_list(crm_work_t *w, const Crm__V1__ListOrdersRequest *rq,
                           const sales_page_t *page, crm_work_cb cb);

/* One refund of order `order_id` with id `refund_id` (sql/0007_refunds.sql,
 * sales_order_refund): `lines` [{position, quantity}] (taken), else
 * `amount`, else everything left; `cancel` cancels. One row: 0 error code
 * (NULL on success), 1 its detail, 2 the refund JSON. */
int sales_store_order_refund(crm_work_t *w, const char *order_id, const char *refund_id,
                             json_t *lines, int64_t amount, const char *reason, int cancel,
                             crm_work_cb cb);

/* Order `id` as it stands in the work's transaction (a statement after the
 * refund's, which sees its writes). 0: JSON; no row when it is missing. */
int sales_store_order_get(crm_work_t *w, const char *id, crm_work_cb cb);

/* ---- activities (store/activity.c) ----------------------------------------- */

/* 0: whether person `person_id` exists; 1: whether deal `deal_id` exists;
 * 2: the deal's person id or NULL; 3: the channels the person (given, or
 * the deal's) opted out of, a JSON array of crm.v1.Channel numbers, or
 * NULL when marketing never said. */
int sales_store_activity_context(crm_work_t *w, const char *person_id, const char *deal_id,
                                 crm_work_cb cb);

/* Replaces the channels `person_id` opted out of (marketing's
 * preferences.changed carries the whole list). */
/* Keeps the state of one consent purpose of a person (granted or
 * withdrawn at at_us); an entry older than the one kept changes nothing. */
int sales_store_consent_put(crm_work_t *w, const char *person_id, int purpose, int granted,
                            int64_t at_us, crm_work_cb cb);

int sales_store_opt_outs_put(crm_work_t *w, const char *person_id, const int *channels, size_t n,
                             crm_work_cb cb);

/* Inserts a (id, status set by the caller; a done activity is completed
 * now; a scheduled one falls due at due_at_us, or `due_in_us` from now
 * when due_at_us is 0). 0: JSON. */
int sales_store_activity_insert(crm_work_t *w, const Crm__V1__Activity *a, int64_t due_in_us,
                                crm_work_cb cb);

/* Inserts a done activity `a` with its person set (sales.activity.log) if
 * the person and the deal ("" counts as existing) exist, in one statement.
 * 0, 1: whether they exist; 2, 3: the person's id (a merged one's
 * survivor) and the deal's as stored; 4 to 7: due_at, completed_at,
 * next_action_due and created_at in microseconds; 2 to 7 NULL when nothing
 * was inserted. */
int sales_store_activity_log(crm_work_t *w, const Crm__V1__Activity *a, crm_work_cb cb);

/* The same for acts[0..n) in one statement through w (sql/0021): row i for
 * acts[i], column 0 its ordinal (i + 1), 1 to 8 the columns above. */
int sales_store_activity_log_run(crm_work_t *w, Crm__V1__Activity *const *acts, size_t n,
                                 crm_work_cb cb);

/* Locks activity `id`. 0: JSON; no row when unknown. */
int sales_store_activity_lock(crm_work_t *w, const char *id, crm_work_cb cb);

/* Marks activity `id` done now with its outcome and next action. 0: JSON. */
int sales_store_activity_complete(crm_work_t *w, const Crm__V1__CompleteActivityRequest *rq,
                                  crm_work_cb cb);

int sales_store_activity_list(crm_work_t *w, const Crm__V1__ListActivitiesRequest *rq,
                              const sales_page_t *page, crm_work_cb cb);

/* Marks up to `limit` scheduled activities that have fallen due by `now_us`
 * (the service's clock, which a test can move) and were not announced yet
 * as announced. One row each, 0: JSON. */
int sales_store_activity_due(crm_work_t *w, int limit, int64_t now_us, crm_work_cb cb);

/* ---- follow-ups: the consumers of other services' signals (store/followup.c) */

/* What a campaign response needs to know. 0: whether an open (NEW or
 * QUALIFIED) lead exists for this campaign and `email` (or, without an
 * email, `customer_id`); 1: how many campaign leads exist (round-robin
 * owner); 2: name and 3: first email of person `customer_id`, or NULL. */
int sales_store_intent_context(crm_work_t *w, const char *email, const char *customer_id,
                               const char *campaign_id, crm_work_cb cb);

/* 0: the open deal of person `person_id` changed last (JSON); no row when
 * the person has no open deal. */
/* The open follow-up task (a complaint's or a churn risk's) of person
 * `person_id` for `owner` made within `hours`, locked: 0: its id; no row
 * when there is none. */
int sales_store_followup_open(crm_work_t *w, const char *person_id, const char *owner, int hours,
                              crm_work_cb cb);
/* Adds a paragraph `text` to the body of activity `activity_id`. */
int sales_store_followup_append(crm_work_t *w, const char *activity_id, const char *text,
                                crm_work_cb cb);
/* Remembers activity `activity_id` as a follow-up task of person and owner. */
int sales_store_followup_put(crm_work_t *w, const char *activity_id, const char *person_id,
                             const char *owner, crm_work_cb cb);
int sales_store_open_deal(crm_work_t *w, const char *person_id, crm_work_cb cb);

/* Who a follow-up task of data-quality finding (`kind`, `record_id`) is
 * for. 0: the person the task is about, 1: the deal ("" for none), 2: the
 * owner (the deal's or activity's, else the person's, else the person's
 * organisation's, else `default_owner`), 3: "t" when the finding has its
 * task already (dq_task). No row when sales does not know the record, a
 * deal names no person, or the finding no longer holds (the deal closed or
 * got a next step, the activity is done). */
int sales_store_dq_target(crm_work_t *w, const char *kind, const char *record_id,
                          const char *default_owner, crm_work_cb cb);

/* Records that finding (`kind`, `record_id`) became task `activity_id`. */
int sales_store_dq_task_put(crm_work_t *w, const char *kind, const char *record_id,
                            const char *activity_id, crm_work_cb cb);

/* ---- subscriptions (store/subscription.c) ---------------------------------- */

/* 0: the owner of person `person_id`; no row when there is no such person. */
int sales_store_subscription_person(crm_work_t *w, const char *person_id, crm_work_cb cb);
/* Inserts `s` (id, owner and renewal_task_id set by the caller). 0: JSON. */
int sales_store_subscription_insert(crm_work_t *w, const Crm__V1__Subscription *s, crm_work_cb cb);
/* 0: JSON of subscription `id`, locked (the _lock) or not; no row when unknown. */
int sales_store_subscription_lock(crm_work_t *w, const char *id, crm_work_cb cb);
int sales_store_subscription_get(crm_work_t *w, const char *id, crm_work_cb cb);
/* Writes plan, amount, currency, period, renewal date, status, cancel
 * reason and renewal task of `s` (a cancelled one gets cancelled_at). 0: JSON. */
int sales_store_subscription_update(crm_work_t *w, const Crm__V1__Subscription *s, crm_work_cb cb);
int sales_store_subscription_list(crm_work_t *w, const Crm__V1__ListSubscriptionsRequest *rq,
                                  const sales_page_t *page, crm_work_cb cb);
/* Marks scheduled activity `activity_id` (NULL or "": none) done now with
 * `outcome`. 0: its JSON; no row when it was done already. */
int sales_store_task_close(crm_work_t *w, const char *activity_id, const char *outcome,
                           crm_work_cb cb);

#endif
