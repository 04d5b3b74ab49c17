/* handlers/handlers.h: what the files of handlers/ share, and nothing
 * outside handlers/ includes (the handlers themselves are declared in
 * marketing.h, for commands.c).
 *
 * Every handler has the same shape as in sales: check the whole request
 * with the rules (rules.c) before touching the database; read what the
 * decision needs; write; emit the events; answer. All statements go
 * through store.h. State that must survive a continuation lives in a
 * struct in the work's arena (crm_work_set_data), never in globals. */
#ifndef MKT_HANDLERS_H
#define MKT_HANDLERS_H

#include "marketing.h"

#include "events.h"
#include "rules.h"
#include "store.h"

#include <stddef.h>

#define MKT_CODE(x) CRM__V1__STATUS_CODE__STATUS_CODE_##x

/* The hint of every "campaign not found". */
#define MKT_CAMPAIGN_HINT "list campaigns with marketing.campaign.list"

/* ---- handlers/shared.c ------------------------------------------------------ */

/* A check's error to the client (crm_work_fail_err). */
#define mkt_fail crm_work_fail_err

/* Channels from an int[] text ("{1,3}") into out (at most max); returns
 * how many. */
size_t mkt_channels_parse(const char *text, int *out, size_t max);

/* The end of a consumer's work: nothing to reply. */
void mkt_applied(crm_work_t *w);

/* ---- handlers/campaign.c ---------------------------------------------------- */

/* Checks a required id (a campaign's; preference.show uses it for the
 * customer's) named `field`; keeps it as the work's data. Returns id, or
 * NULL when the work has failed. */
const char *mkt_campaign_id(crm_work_t *w, const char *id, const char *field);

/* The callback of a campaign change (offer, budget, exclusion): answers
 * the CampaignReply of `res` and emits campaign.updated with the change
 * named by the work's data. */
void mkt_campaign_updated(crm_work_t *w, PGresult *res);

/* ---- handlers/response.c ---------------------------------------------------- */

typedef void (*mkt_response_done_fn)(crm_work_t *w, void *arg, const char *response_id);

/* Records r as marketing.response.record does (an unsubscribe opts out of
 * r->channel through the preference store, segments are refreshed, the
 * events emitted), for a response the caller has checked: r->customer_id
 * a canonical id, r->email "", currency and order_id normalised; r and
 * its strings live as long as the work. Then calls done(w, arg, id) with
 * arg as the work's data again; on a failure the work has failed. */
void mkt_response_apply(crm_work_t *w, const Crm__V1__CampaignResponseRecorded *r,
                        mkt_response_done_fn done, void *arg);

/* ---- handlers/segment.c ----------------------------------------------------- */

/* Re-evaluates `customer` (a valid id that outlives the work) in every
 * segment, publishes the changes, then calls done(w) with the work's data
 * as it was. */
void mkt_member_refresh(crm_work_t *w, const char *customer, void (*done)(crm_work_t *w));

#endif
