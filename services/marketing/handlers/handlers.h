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

/* Fails the work with the error a rules.c check filled. */
void mkt_fail(crm_work_t *w, const mkt_err_t *e);

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

/* ---- handlers/segment.c ----------------------------------------------------- */

/* Re-evaluates `customer` (a valid id that outlives the work) in every
 * segment, publishes the changes, then calls done(w) with the work's data
 * as it was. */
void mkt_member_refresh(crm_work_t *w, const char *customer, void (*done)(crm_work_t *w));

#endif
