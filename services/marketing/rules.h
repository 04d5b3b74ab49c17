/* rules.h: the marketing service's business rules, without any I/O.
 *
 * Pure functions of their arguments, unit-tested without a database
 * (tests/unit/marketing/test_rules.c): validation of requests (handlers
 * check a whole request before writing, so a rejected request changes
 * nothing), the budget decision of the expense ledger, the result figures
 * of a campaign in exact integer arithmetic, and the contact policy.
 *
 * Every check returns 0, or -1 after filling an mkt_err_t with a code from
 * crm.v1.StatusCode, the dotted field it is about ("campaign.offers[1]"),
 * a lower-case message without a final period, a detail quoting the value
 * and a hint: what crm_work_fail() sends back to the client. */
#ifndef MKT_RULES_H
#define MKT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <crm/check.h>
#include <protobuf-c/protobuf-c.h>

#include "crm/v1/marketing.pb-c.h"

typedef crm_err_t mkt_err_t;

#define MKT_NAME_MAX 200
#define MKT_TEXT_MAX 2000
#define MKT_BODY_MAX 20000
#define MKT_LIST_MAX 50
#define MKT_WINDOW_DEFAULT 30 /* attribution window, days */
#define MKT_WINDOW_MAX 365
#define MKT_COMPARE_MAX 20
#define MKT_TARGET_MAX 1000
#define MKT_THROTTLE_MAX 100000       /* messages per minute */
#define MKT_FOLLOW_DELAY_MAX 31536000 /* seconds: a year */

/* Fills e and returns -1; the detail is printf-formatted (crm_err_set). */
#define mkt_err_set crm_err_set

/* ---- values ---------------------------------------------------------- */

/* The generic checks of crm/check.h under this service's prefix, so that
 * the handlers read alike. */
#define mkt_trim crm_trim
#define mkt_check_text crm_check_text
#define mkt_check_required crm_check_required
#define mkt_check_id crm_check_id
#define mkt_check_enum crm_check_enum

#define mkt_check_currency crm_check_currency

/* The channel named by a lower-case word ("email", "sms", ...): its
 * Crm__V1__Channel value, or 0 when unknown. And the word of a channel
 * ("" for an unknown value). */
int mkt_channel_from_name(const char *name);
const char *mkt_channel_name(int channel);

/* ---- requests -------------------------------------------------------- */

/* A new campaign (prefix "campaign."): name required; channels known and
 * distinct, at least one; dates valid and start <= end; budget >= 0;
 * currency required when there is a budget; offers with a product code or
 * a text, discount 0-100; attribution window 0 (default) to 365 days;
 * status draft or unspecified; throttle 0-100000; a follow-up: a campaign
 * id, a delay of at most a year (delay and only_non_responders only with
 * a campaign to follow); no exclusions. */
int mkt_campaign_check(const Crm__V1__Campaign *c, mkt_err_t *e);

/* marketing.campaign.offer: a campaign id and an offer (prefix "offer.")
 * with a product code or a text, discount 0-100. */
int mkt_offer_check(const Crm__V1__AddOfferRequest *rq, mkt_err_t *e);

/* marketing.campaign.budget: a campaign id, a budget >= 0, a known
 * overspend policy (or none), a currency (upper-cased into `currency`;
 * "" when not given). Whether the currency may change is the caller's to
 * decide (it depends on the stored campaign). */
int mkt_budget_check(const Crm__V1__SetBudgetRequest *rq, char currency[4], mkt_err_t *e);

/* The offers and the budget of a completed or cancelled campaign no longer
 * change: FAILED_PRECONDITION on "id" naming `what` ("budget"). */
int mkt_campaign_open_check(int status, const char *what, mkt_err_t *e);

/* Launching: a draft or scheduled campaign with at least one message
 * template; otherwise FAILED_PRECONDITION on "id". */
int mkt_launch_check(int status, int n_templates, mkt_err_t *e);

/* An expense (prefix "expense."): campaign id, amount > 0, date valid,
 * category and note short texts. */
int mkt_expense_check(const Crm__V1__Expense *x, mkt_err_t *e);

/* A gateway's confirmation: a delivery id, or a campaign id, customer id
 * and channel (not both ways); an outcome; a reason for a failure. */
int mkt_delivery_confirm_check(const Crm__V1__ConfirmDeliveryRequest *rq, mkt_err_t *e);

/* Preferences (prefix "preferences."): customer id; known channels;
 * window minutes within 0-1439; an IANA-shaped zone name or an offset
 * within +-14 h; consent source text. Whether the zone name exists is the
 * caller's to check (the database knows the zone names). */
int mkt_preferences_check(const Crm__V1__ContactPreferences *p, mkt_err_t *e);

/* The fields a preference.set request sets, as MKT_PREF_* bits: the ones
 * it names in `fields`, or, when it names none, each one whose value is not
 * the default (so that running `preference set` again never wipes what an
 * earlier run stored). Opt-outs are always added, never replaced; removing
 * one takes opted_in. Returns the bits, or -1 with e set for an unknown field
 * name or opted_in channel, or for a request that sets consent (which has
 * a ledger of its own, marketing.consent.*). */
#define MKT_PREF_CHANNEL 0x01
#define MKT_PREF_WINDOW 0x02
#define MKT_PREF_ZONE 0x04
#define MKT_PREF_OFFSET 0x08
#define MKT_PREF_CONSENT 0x10
int mkt_pref_fields(const Crm__V1__SetPreferencesRequest *rq, mkt_err_t *e);

/* A response to record (prefix "response."): campaign id; a known type;
 * a customer id or an email (normalised into email_out, 255 bytes);
 * revenue >= 0 and only on CONVERTED; a known channel word or empty. */
int mkt_response_check(const Crm__V1__CampaignResponseRecorded *r, char *email_out,
                       size_t email_len, mkt_err_t *e);

/* Scheduling: only a draft campaign, at a time after now. */
int mkt_schedule_check(int status, int64_t start_at_us, int64_t now_us, mkt_err_t *e);

/* Status changes by command. */
typedef enum {
    MKT_ACTION_PAUSE = 1,
    MKT_ACTION_RESUME,
    MKT_ACTION_CANCEL,
    MKT_ACTION_COMPLETE,
} mkt_action_t;

/* The status after `action` on a campaign in `status` whose start is at
 * start_at_us: pause: scheduled or running -> paused; resume: paused ->
 * running, or scheduled when start_at_us is after now_us; cancel: any but
 * completed or cancelled -> cancelled; complete: running or paused ->
 * completed. Otherwise -1 with FAILED_PRECONDITION on "id". */
int mkt_campaign_next(int status, mkt_action_t action, int64_t start_at_us, int64_t now_us,
                      int *next, mkt_err_t *e);

/* ---- budget ---------------------------------------------------------- */

/* Whether an expense of `amount` fits a budget with `spent` already
 * recorded. Fits: 0, *flagged = 0. Past the budget: under FLAG policy 0
 * with *flagged = 1; under REFUSE (or unspecified) -1 with
 * FAILED_PRECONDITION on "expense.amount_minor". */
int mkt_expense_admit(int64_t budget, int64_t spent, int64_t amount, int policy, int *flagged,
                      mkt_err_t *e);

/* ---- figures --------------------------------------------------------- */

/* num / den rounded half away from zero into *out; returns 1, or 0 (and
 * *out = 0) when den is 0. Exact for all int64 inputs whose quotient fits. */
int mkt_div_round(int64_t num, int64_t den, int64_t *out);

/* num / den in basis points (num * 10000 / den), rounded the same way. */
int mkt_ratio_bp(int64_t num, int64_t den, int64_t *out);

/* Fills the derived figures of r from recipients, responders,
 * conversions, revenue_minor and cost_minor: response rate =
 * responders / recipients, ROI = (revenue - cost) / cost, cost per response
 * = cost / responders, cost per conversion = cost / conversions; each
 * undefined (flag false, value 0) when its denominator is 0. */
void mkt_results_derive(Crm__V1__CampaignResults *r);

/* ---- segments --------------------------------------------------------- */

#define MKT_SEGMENT_RULES_MAX 16

/* Segment rules (fields "<prefix>[i].kind|value|amount"): 1 to 16 rules,
 * each with the operands its kind needs (marketing.proto, SegmentRule).
 * Every kind of marketing.proto is accepted. */
int mkt_segment_rules_check(Crm__V1__SegmentRule *const *rules, size_t n, const char *prefix,
                            mkt_err_t *e);

/* A new segment (prefix "segment."): a name and valid rules. */
int mkt_segment_check(const Crm__V1__Segment *s, mkt_err_t *e);

/* ---- messages --------------------------------------------------------- */

/* The personalisation fields a template may use, in this order. */
#define MKT_FIELD_COUNT 5
extern const char *const mkt_fields[MKT_FIELD_COUNT]; /* name email offer owner campaign */

/* A template text (`field` names it): every "{{x}}" names a known field
 * (spaces inside the braces allowed), every "{{" is closed. */
int mkt_template_check(const char *text, size_t max, const char *field, mkt_err_t *e);

/* A message for one template (prefix "template."): campaign id, a known
 * channel, a body; subject and body checked with mkt_template_check. */
int mkt_message_check(const Crm__V1__MessageTemplate *t, mkt_err_t *e);

/* Renders a checked template with values[i] for mkt_fields[i] (NULL =
 * ""). Returns a new string (caller frees) or NULL when out of memory. */
char *mkt_render(const char *text, const char *const values[MKT_FIELD_COUNT]);

/* ---- contact policy -------------------------------------------------- */

typedef enum {
    MKT_CONTACT_SEND = 1,
    MKT_CONTACT_SUPPRESSED = 2,
    MKT_CONTACT_DEFERRED = 3,
} mkt_contact_kind_t;

typedef struct {
    mkt_contact_kind_t kind;
    int channel;   /* SEND and DEFERRED: the channel to use */
    int64_t at_us; /* SEND: now; DEFERRED: when the next window opens */
    char reason[160];
    /* The kind of reason, a stable code (results count by it): "opted_out",
     * "outside_contact_window", ...; NULL for SEND. */
    const char *code;
} mkt_contact_t;

/* The decision for one recipient of a campaign offering `channels` at
 * now_us. p may be NULL (no preferences: the first channel, any time).
 * offset_minutes is the customer's UTC offset at now_us (the caller
 * resolves a zone name; for an offset-only preference it is
 * p->utc_offset_minutes). Rules, in order: channels the customer opted
 * out of are removed, none left = SUPPRESSED; the preferred channel when
 * the campaign offers it, else the campaign's first remaining channel;
 * outside the contact window [start, end) in local time = DEFERRED to the
 * next start of the window (a window with start == end is "any time"). */
void mkt_contact_decide(const Crm__V1__ContactPreferences *p, const int *channels, size_t n,
                        int64_t now_us, int offset_minutes, mkt_contact_t *out);

/* ---- consent and the channel policy ---------------------------------- */

/* A consent grant or withdrawal: customer id required; a known purpose
 * and source; proof text of at most MKT_TEXT_MAX bytes; at_us not past
 * now_us plus a minute of clock skew (0: now). */
int mkt_consent_check(const Crm__V1__RecordConsentRequest *rq, int64_t now_us, mkt_err_t *e);

/* The purpose whose consent a marketing send on `channel` needs (email,
 * SMS, phone, fax and post map to the purpose of the same number), or 0. */
int mkt_consent_purpose(int channel);

/* The default of MARKETING_CHANNEL_POLICY: the channels whose sends need
 * recorded consent. */
#define MKT_POLICY_DEFAULT "email=opt-in,sms=opt-in,fax=opt-in,phone=opt-out,mail=opt-out"

/* Parses a channel policy, "CHANNEL=opt-in|opt-out,..." (channels by name,
 * "post" for mail; channels left out are opt-out), into *opt_in: bit
 * (1 << channel) set for each opt-in channel. Returns 0, or -1 with err
 * saying what is wrong. */
int mkt_policy_parse(const char *text, unsigned *opt_in, char *err, size_t errlen);

#endif
