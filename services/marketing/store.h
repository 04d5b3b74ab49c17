/* store.h: all of marketing's SQL, as statements run in a work's
 * transaction. The statements live in store/, one file per section below,
 * named like the handlers/ file that runs them; store/store_int.h holds
 * the SQL expressions and parameter helpers those files share.
 *
 * Each function issues one statement through crm_work_query (reads) or
 * crm_work_exec (writes) with its values as out-of-line text parameters
 * and calls `cb` with the result; it returns 0 or a negative error (the
 * work is then already failed). Inputs are validated by rules.c first;
 * text is trimmed here, in SQL. Records come back as JSON text whose keys
 * are the field names of their crm.v1 message, for crm_work_record
 * (events.h). Result layouts are given per function as "col: meaning". */
#ifndef MKT_STORE_H
#define MKT_STORE_H

#include <crm/service.h>
#include <stdint.h>

#include "crm/v1/marketing.pb-c.h"
#include "crm/v1/sales.pb-c.h"

/* ---- campaigns (store/campaign.c) ------------------------------------------ */

/* Inserts c (id set by the caller) as a draft. 0: CampaignReply (JSON). */
int mkt_store_campaign_insert(crm_work_t *w, const Crm__V1__Campaign *c, crm_work_cb cb);

/* The campaign, locked FOR UPDATE when `lock` (so that expenses recorded
 * concurrently see each other's spending). No row when unknown.
 * 0: CampaignReply (JSON); 1: status; 2: budget_minor; 3: spent_minor;
 * 4: overspend_policy; 5: currency; 6: channels as "{1,2}"; 7: how many
 * message templates it has. */
int mkt_store_campaign_get(crm_work_t *w, const char *id, int lock, crm_work_cb cb);

/* At most 500 campaigns, newest first, of `status` (0: all).
 * 0: Campaign (JSON), one row each. */
int mkt_store_campaign_list(crm_work_t *w, int status, crm_work_cb cb);

/* Sets a campaign scheduled at start_at_us. 0: CampaignReply (JSON). */
int mkt_store_campaign_schedule(crm_work_t *w, const char *id, int64_t start_at_us, crm_work_cb cb);

/* Sets the status of campaign `id`. 0: CampaignReply (JSON). */
int mkt_store_campaign_status(crm_work_t *w, const char *id, int status, crm_work_cb cb);

/* Appends offer o to the campaign's offers. 0: CampaignReply (JSON). */
int mkt_store_campaign_offer_add(crm_work_t *w, const char *id, const Crm__V1__Offer *o,
                                 crm_work_cb cb);

/* Adds segment `segment_id` (which exists) to the campaign's exclusions,
 * once. No result columns. */
int mkt_store_campaign_exclude(crm_work_t *w, const char *campaign_id, const char *segment_id,
                               crm_work_cb cb);

/* Sets the campaign running from now (the send scan picks it up).
 * 0: CampaignReply (JSON). */
int mkt_store_campaign_launch(crm_work_t *w, const char *id, crm_work_cb cb);

/* Adds recipients (distinct UUIDs, validated). 0: how many were new;
 * 1: recipients after. */
/* 0: the first of `ids` that is no known person (its index and id), or no
 * row when marketing knows them all. */
int mkt_store_unknown_people(crm_work_t *w, char *const *ids, size_t n, crm_work_cb cb);
int mkt_store_target(crm_work_t *w, const char *campaign_id, char *const *ids, size_t n,
                     crm_work_cb cb);

/* ---- budget and expenses (store/budget.c) ---------------------------------- */

/* Sets the budget; `currency` "" keeps the current one, `policy` 0 keeps
 * the current overspend policy. 0: CampaignReply (JSON). */
int mkt_store_campaign_budget(crm_work_t *w, const char *id, int64_t budget_minor,
                              const char *currency, int policy, crm_work_cb cb);

/* Inserts x (id set by the caller), flagged or not (rules.c decides).
 * 0: ExpenseReply (JSON) with the budget after the expense. */
/* The expense `id`, locked: (is a reversing entry, has been voided); no
 * row when there is none. */
int mkt_store_expense_of(crm_work_t *w, const char *id, crm_work_cb cb);
/* Adds new_id, the reversing entry of expense `id` with `reason` as its
 * note. 0: ExpenseReply (JSON). */
int mkt_store_expense_void(crm_work_t *w, const char *id, const char *new_id, const char *reason,
                           crm_work_cb cb);
int mkt_store_expense_insert(crm_work_t *w, const Crm__V1__Expense *x, int flagged, crm_work_cb cb);

/* 0: ListExpensesReply (JSON); no row when the campaign is unknown. */
int mkt_store_expense_list(crm_work_t *w, const char *campaign_id, crm_work_cb cb);

/* ---- preferences (store/preference.c) -------------------------------------- */

/* 0: ContactPreferences (JSON), NULL when none are stored; 1: a
 * PreferencesReply (JSON) with only the person's addresses and their
 * delivery state. */
int mkt_store_pref_get(crm_work_t *w, const char *customer_id, crm_work_cb cb);

/* 0: whether `zone` is a time zone name the database knows. */
int mkt_store_zone_known(crm_work_t *w, const char *zone, crm_work_cb cb);

/* Changes the preference fields named by `fields` (MKT_PREF_* bits), adds
 * the opt-outs and removes the request's opted_in. 0: ContactPreferences
 * (JSON). */
int mkt_store_pref_put(crm_work_t *w, const Crm__V1__SetPreferencesRequest *rq, int fields,
                       crm_work_cb cb);

/* Adds opt-outs (Channel values, n > 0), creating the preferences when
 * there are none. 0: ContactPreferences (JSON); 1: whether anything
 * changed. */
int mkt_store_pref_opt_out(crm_work_t *w, const char *customer_id, const int *channels, size_t n,
                           crm_work_cb cb);

/* ---- consent (store/consent.c) ---------------------------------------------- */

/* Appends a grant (granted) or a withdrawal of the request's purpose,
 * recorded by `recorded_by`. 0: ConsentEntry (JSON); no row when marketing
 * does not know the customer (nothing written). */
int mkt_store_consent_add(crm_work_t *w, const Crm__V1__RecordConsentRequest *rq, int granted,
                          const char *recorded_by, crm_work_cb cb);

/* Appends a withdrawal, source response, of each of `purposes` (n > 0;
 * those outside 1-5 skipped, and those whose latest entry already is a
 * withdrawal) for an unsubscribe. Rows: ConsentEntry (JSON),
 * in purpose order. */
int mkt_store_consent_unsubscribed(crm_work_t *w, const char *customer_id, const int *purposes,
                                   size_t n, const char *proof, const char *recorded_by,
                                   crm_work_cb cb);

/* 0: whether the customer is known; 1: ConsentHistoryReply (JSON). */
int mkt_store_consent_history(crm_work_t *w, const char *customer_id, crm_work_cb cb);

/* ---- people (store/person.c) ----------------------------------------------- */

/* 0: the id of the person with normalised `email`, or no row. */
int mkt_store_person_by_email(crm_work_t *w, const char *email, crm_work_cb cb);

/* Inserts or updates a person by id (non-empty name and email win).
 * 0: true when the row was created. */
int mkt_store_person_upsert(crm_work_t *w, const char *id, const char *name, const char *email,
                            const char *source, crm_work_cb cb);

/* A person from another service's event, by id, with the attributes
 * segments read (kind, country, industry, tags). No result columns. */
int mkt_store_person_profile(crm_work_t *w, const Crm__V1__Person *p, const char *email,
                             const char *source, crm_work_cb cb);

/* ---- orders (store/order.c) ------------------------------------------------ */

/* Keeps order o (placed at ordered_at_us) as purchase history, once. */
int mkt_store_purchase_insert(crm_work_t *w, const Crm__V1__Order *o, int64_t ordered_at_us,
                              crm_work_cb cb);

/* Attributes order `order_id` to the campaign (same currency) that last
 * reached the customer no later than ordered_at and within its window,
 * once per order. 0: the campaign id; no row when none qualifies. */
int mkt_store_attribute(crm_work_t *w, const char *order_id, const char *customer_id,
                        int64_t total_minor, const char *currency, int64_t ordered_at_us,
                        crm_work_cb cb);

/* ---- responses (store/response.c) ------------------------------------------ */

/* Records a response of customer `customer_id` (who thereby counts as a
 * recipient, reached now if not before). 0: the response id. */
/* 0: the customer of order `order_id` as marketing keeps it (sales'
 * order.placed); no row when marketing has not seen it. */
int mkt_store_order_of(crm_work_t *w, const char *order_id, crm_work_cb cb);

int mkt_store_response_insert(crm_work_t *w, const char *id, const char *customer_id,
                              const Crm__V1__CampaignResponseRecorded *r, crm_work_cb cb);

/* Keeps the digest of a tracking token (handlers/track.c) for delivery
 * `delivery_id`; one row when it is new, none when it was kept before. */
int mkt_store_track_use(crm_work_t *w, const char *digest, const char *delivery_id, int kind,
                        crm_work_cb cb);

/* ---- results (store/result.c) ---------------------------------------------- */

/* The raw figures of campaigns `ids`, one row per id in that order.
 * 0: CampaignResults (JSON, without the derived figures) or NULL when the
 * campaign is unknown. */
int mkt_store_results(crm_work_t *w, char *const *ids, size_t n, crm_work_cb cb);

/* ---- segments (store/segment.c) -------------------------------------------- */

/* Inserts segment g (id set by the caller, rules checked). 0: Segment (JSON). */
int mkt_store_segment_insert(crm_work_t *w, const Crm__V1__Segment *g, crm_work_cb cb);
/* 0: Segment (JSON); no row when unknown. */
int mkt_store_segment_get(crm_work_t *w, const char *id, crm_work_cb cb);
/* At most 500 segments, newest first. 0: Segment (JSON), one row each. */
int mkt_store_segment_list(crm_work_t *w, crm_work_cb cb);

/* The people matching checked `rules` now, by id, at most `limit`.
 * 0: how many match in all; 1: customer id. No row when none match. */
int mkt_store_segment_members(crm_work_t *w, Crm__V1__SegmentRule *const *rules, size_t n,
                              int limit, crm_work_cb cb);

/* The stored members of segment `id`, at most `limit`. 0: how many in all;
 * 1: customer id. No row when it has none. */
int mkt_store_segment_stored(crm_work_t *w, const char *id, int limit, crm_work_cb cb);

/* Adds the people matching `rules` (those of segment `segment_id`) to the
 * campaign's recipients and, when `always_on`, makes that segment the
 * campaign's always-on segment. 0: how many were new; 1: recipients
 * after; 2: the CampaignTargeted record of the new ones. */
int mkt_store_target_segment(crm_work_t *w, const char *campaign_id, const char *segment_id,
                             int always_on, Crm__V1__SegmentRule *const *rules, size_t n,
                             crm_work_cb cb);

/* Brings the stored members of segment `id` up to its `rules` now: of
 * every person, or only of `customer_id` when it is not NULL.
 * 0: true for a customer who joined, false for one who left; 1: the
 * customer id; 2: NULL. One row per change. Then one row per recipient
 * the join enrolled in a running always-on campaign of the segment:
 * 0: true; 1: the customer id; 2: the campaign id. */
int mkt_store_segment_refresh(crm_work_t *w, const char *id, Crm__V1__SegmentRule *const *rules,
                              size_t n, const char *customer_id, crm_work_cb cb);

/* As mkt_store_segment_list, only segments with a rule that depends on
 * time passing (LAST_ORDER_WITHIN_DAYS). */
int mkt_store_segment_list_timed(crm_work_t *w, crm_work_cb cb);

/* ---- support signals (store/support.c) ------------------------------------- */

/* Keeps the state of support's ticket `id` as an event describes it: its
 * customer, type (0 keeps the stored one), TicketStatus, tags (NULL keeps
 * the stored ones) and rating (0: keeps the stored one; rated_at_us 0:
 * now). No result columns. */
int mkt_store_ticket_put(crm_work_t *w, const char *id, const char *customer_id, int type,
                         int status, char *const *tags, size_t n_tags, int rating,
                         int64_t rated_at_us, crm_work_cb cb);

/* Adds feedback tags to ticket `id` (creating it, NEW, when unknown). */
int mkt_store_ticket_tag(crm_work_t *w, const char *id, const char *customer_id, int type,
                         char *const *tags, size_t n_tags, crm_work_cb cb);

/* ---- messages (store/message.c) -------------------------------------------- */

/* Saves the campaign's template for t->channel. 0: MessageTemplate (JSON). */
int mkt_store_message_put(crm_work_t *w, const Crm__V1__MessageTemplate *t, crm_work_cb cb);

/* What a preview renders: 0: subject; 1: body; 2-6: the values of
 * mkt_fields (name, email, offer, owner, campaign). No row when the
 * campaign has no template for `channel`; name and email are "" for an
 * unknown customer. */
int mkt_store_message_values(crm_work_t *w, const char *campaign_id, int channel,
                             const char *customer_id, crm_work_cb cb);

/* ---- sending (store/send.c) ------------------------------------------------ */

/* Scheduled campaigns whose start time has come become RUNNING.
 * 0: the id of each, one row each. */
int mkt_store_start_due(crm_work_t *w, crm_work_cb cb);

/* Adds to each running follow-up campaign the recipients its earlier
 * campaign SENT to whose delay has passed (non-responders only, when it
 * says so). Rows: one CampaignTargeted record (JSON) per campaign that
 * gained recipients. */
int mkt_store_followups_due(crm_work_t *w, crm_work_cb cb);

/* The send scans' turn (MARKETING_SEND_SCANS > 1), a transaction-level
 * advisory lock: each scan takes it shared, so that they decide at once;
 * the first takes it alone (`first`) while a campaign with a throttle is
 * running, and only then decides those campaigns, over every customer: its
 * allowance counts deliveries made by one scan at a time, and a customer's
 * decision there is made while no other scan decides. Taken in a statement
 * of its own, before the candidates statement, so that statement's
 * snapshot sees everything the scans before it committed. 0: whether the
 * first one took it alone (throttled campaigns are its to decide). */
int mkt_store_send_turn(crm_work_t *w, int first, crm_work_cb cb);

/* At most `limit` recipients of running campaigns that need a decision
 * (none yet, or a deferral that fell due) whose customer id is in
 * [lo, hi] (uuid text, inclusive), those of campaigns with a throttle
 * only when `throttled` and then whatever their id, and per campaign with a
 * throttle at most its throttle_per_minute less the deliveries it created
 * in the last minute. 0: campaign id; 1: customer id;
 * 2: campaign channels "{1,2}"; 3: ContactPreferences (JSON) or NULL;
 * 4: the customer's UTC offset now, in minutes; 5: name; 6: email;
 * 7: campaign name; 8: campaign owner; 9: offer text; 10: templates as
 * JSON {"<channel>": {"subject", "body"}} or NULL; 11: the id of an
 * excluded segment the customer is a member of, or NULL; 12: messages
 * created for the customer (any campaign) in the last `cap_days` days;
 * 13: when the oldest of those leaves that window (us), or NULL (12 and 13
 * only when `cap` > 0: 0 and NULL otherwise); 14: phone; 15: fax;
 * 16: postal address; 17: whether the email address is undeliverable (only
 * for a campaign offering email); 18: the purposes the customer consents
 * to now, "{1,2}" (only for a campaign with a channel that is opt-in under
 * `opt_in`, bit (1 << channel) per channel: "{}" otherwise). Rows come in
 * campaign order. */
int mkt_store_send_candidates(crm_work_t *w, int limit, int cap, int cap_days, unsigned opt_in,
                              const char *lo, const char *hi, int throttled, crm_work_cb cb);

/* A scan's decisions, one array of n text values per column (in the
 * work's arena): campaign and customer ids, status and channel (numbers),
 * reason, reason code, due_us (a deferral's time, microseconds), address,
 * subject and body. */
enum {
    MKT_DECIDED_CAMPAIGN,
    MKT_DECIDED_CUSTOMER,
    MKT_DECIDED_STATUS,
    MKT_DECIDED_CHANNEL,
    MKT_DECIDED_REASON,
    MKT_DECIDED_CODE,
    MKT_DECIDED_DUE,
    MKT_DECIDED_ADDRESS,
    MKT_DECIDED_SUBJECT,
    MKT_DECIDED_BODY,
    MKT_DECIDED_COLS
};
typedef struct {
    size_t n;
    char **v[MKT_DECIDED_COLS];
} mkt_decided_t;

/* Records decisions; each SENT one becomes a delivery (email: pending for
 * the relay; others: recorded for a gateway). 0: decisions stored; 1:
 * deliveries created; 2: recipients taken off the queue. */
int mkt_store_send_record(crm_work_t *w, const mkt_decided_t *d, crm_work_cb cb);

/* At most `limit` pending email deliveries. 0: id; 1: address;
 * 2: subject; 3: body; 4: campaign id; 5: customer id; 6: the customer's
 * name ("" if unknown). */
int mkt_store_delivery_pending(crm_work_t *w, int limit, crm_work_cb cb);

/* Outcomes, a JSON array of {id, status, error} (status: 1 delivered,
 * 2 bounced, 4 transient failure), applied to deliveries still pending: a
 * transient failure is tried again after retry_ms * 2^(attempts - 1)
 * (at most 64 times retry_ms), and fails after max_attempts. A bounce, or
 * soft_bounces emails in a row failed so, marks the address undeliverable
 * (address_state). Each bounce
 * is recorded as a BOUNCED response. 0: response id; 1: campaign id;
 * 2: customer id; 3: note (the error), one row per bounce. */
int mkt_store_delivery_outcome(crm_work_t *w, const char *outcomes_json, int max_attempts,
                               int64_t retry_ms, int soft_bounces, crm_work_cb cb);

/* A gateway's confirmation of the delivery rq names (by id, else by
 * campaign, customer and channel; the latest such): a message handed to a
 * gateway (status 3, not email) becomes delivered (1) or failed (2), and a
 * bounce adds a BOUNCED response; any other delivery is left as it is.
 * No row: no such delivery. Else one row: 0 id, 1 campaign id,
 * 2 customer id, 3 channel, 4 status (after), 5 error, 6 changed by this
 * statement, 7 response channel name (for the bounce's event). */
int mkt_store_delivery_confirm(crm_work_t *w, const Crm__V1__ConfirmDeliveryRequest *rq,
                               crm_work_cb cb);

#endif
