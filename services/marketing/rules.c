/* rules.c: validation, budget, figures and contact policy of marketing,
 * without I/O, so that each rule a client can run into is unit-tested on
 * its own and handlers can check a whole request before their first write. */
#include "rules.h"

#include <crm/date.h>
#include <crm/identity.h>
#include <crm/util.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/rpc.pb-c.h"
#include "crm/v1/sales.pb-c.h"

#define S_INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define S_PRECONDITION CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION

/* ---- values ------------------------------------------------------------ */

static const char *const s_channel_names[] = {"",    "email", "sms",    "phone",
                                              "fax", "mail",  "social", "meeting"};
#define S_N_CHANNELS ((int)(sizeof s_channel_names / sizeof s_channel_names[0]))

int mkt_channel_from_name(const char *name)
{
    for (int i = 1; name && i < S_N_CHANNELS; i++)
        if (!strcmp(name, s_channel_names[i]))
            return i;
    return 0;
}

const char *mkt_channel_name(int channel)
{
    return channel > 0 && channel < S_N_CHANNELS ? s_channel_names[channel] : "";
}

/* ---- requests ------------------------------------------------------------ */

/* One offer; `prefix` names it ("campaign.offers[2]", "offer"). */
static int s_offer_check(const Crm__V1__Offer *o, const char *prefix, mkt_err_t *e)
{
    char field[160];
    const char *t;
    if (!o)
        return mkt_err_set(e, S_INVALID, prefix, "offer is required",
                           "send a product code, an offer text, or both", NULL);
    snprintf(field, sizeof field, "%s.product_code", prefix);
    if (mkt_check_text(o->product_code, MKT_NAME_MAX, field, e) < 0)
        return -1;
    snprintf(field, sizeof field, "%s.text", prefix);
    if (mkt_check_text(o->text, MKT_TEXT_MAX, field, e) < 0)
        return -1;
    if (!mkt_trim(o->product_code, &t) && !mkt_trim(o->text, &t))
        return mkt_err_set(e, S_INVALID, prefix, "offer is empty",
                           "send a product code, an offer text, or both", NULL);
    snprintf(field, sizeof field, "%s.discount_percent", prefix);
    if (o->discount_percent < 0 || o->discount_percent > 100)
        return mkt_err_set(e, S_INVALID, field, "discount is out of range",
                           "send a percentage from 0 to 100", "got %d", (int)o->discount_percent);
    return 0;
}

int mkt_offer_check(const Crm__V1__AddOfferRequest *rq, mkt_err_t *e)
{
    if (mkt_check_id(rq->campaign_id, 1, "campaign_id", e) < 0)
        return -1;
    return s_offer_check(rq->offer, "offer", e);
}

int mkt_budget_check(const Crm__V1__SetBudgetRequest *rq, char currency[4], mkt_err_t *e)
{
    if (mkt_check_id(rq->id, 1, "id", e) < 0)
        return -1;
    if (rq->budget_minor < 0)
        return mkt_err_set(e, S_INVALID, "budget_minor", "budget is negative",
                           "send the budget in minor units (cents), 0 or more", "got %" PRId64,
                           rq->budget_minor);
    if (mkt_check_currency(rq->currency, currency, "currency", e) < 0)
        return -1;
    return mkt_check_enum(&crm__v1__overspend_policy__descriptor, (int)rq->overspend_policy, 1,
                          "overspend_policy", e);
}

int mkt_campaign_open_check(int status, const char *what, mkt_err_t *e)
{
    if (status != CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_COMPLETED &&
        status != CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_CANCELLED)
        return 0;
    char msg[96];
    snprintf(msg, sizeof msg, "%s of a campaign that is over cannot change", what);
    return mkt_err_set(e, S_PRECONDITION, "id", msg, "create a new campaign", "the campaign is %s",
                       status == CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_COMPLETED ? "completed"
                                                                                     : "cancelled");
}

int mkt_launch_check(int status, int n_templates, mkt_err_t *e)
{
    if (status != CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_DRAFT &&
        status != CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_SCHEDULED) {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(&crm__v1__campaign_status__descriptor, status);
        return mkt_err_set(
            e, S_PRECONDITION, "id", "only a draft or scheduled campaign can be launched",
            "resume a paused campaign instead", "the campaign is %s", v ? v->name : "?");
    }
    if (n_templates <= 0)
        return mkt_err_set(e, S_PRECONDITION, "id", "campaign has no message",
                           "save one with marketing.message.set first",
                           "the campaign has no message template for any of its channels");
    return 0;
}

int mkt_campaign_check(const Crm__V1__Campaign *c, mkt_err_t *e)
{
    char field[128];
    if (!c)
        return mkt_err_set(e, S_INVALID, "campaign", "campaign is required",
                           "send the campaign to create", NULL);
    if (mkt_check_required(c->name, MKT_NAME_MAX, "campaign.name", e) < 0 ||
        mkt_check_text(c->objective, MKT_TEXT_MAX, "campaign.objective", e) < 0 ||
        mkt_check_text(c->owner, MKT_NAME_MAX, "campaign.owner", e) < 0)
        return -1;
    if (c->n_channels == 0)
        return mkt_err_set(e, S_INVALID, "campaign.channels", "campaign.channels is required",
                           "send at least one channel, e.g. CHANNEL_EMAIL", NULL);
    if (c->n_channels > MKT_LIST_MAX)
        return mkt_err_set(e, S_INVALID, "campaign.channels", "too many channels",
                           "send each channel once", "got %zu", c->n_channels);
    for (size_t i = 0; i < c->n_channels; i++) {
        snprintf(field, sizeof field, "campaign.channels[%zu]", i);
        if (mkt_check_enum(&crm__v1__channel__descriptor, (int)c->channels[i], 0, field, e) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (c->channels[j] == c->channels[i])
                return mkt_err_set(e, S_INVALID, field, "channel is repeated",
                                   "send each channel once", "got %s",
                                   mkt_channel_name((int)c->channels[i]));
    }
    if (crm_check_date_opt(c->start_date, "campaign.start_date", e) < 0 ||
        crm_check_date_opt(c->end_date, "campaign.end_date", e) < 0)
        return -1;
    if (c->start_date && *c->start_date && c->end_date && *c->end_date &&
        strcmp(c->start_date, c->end_date) > 0)
        return mkt_err_set(e, S_INVALID, "campaign.end_date", "end date is before the start date",
                           "send an end date on or after the start date", "start %s, end %s",
                           c->start_date, c->end_date);
    if (c->status != CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_UNSPECIFIED &&
        c->status != CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_DRAFT)
        return mkt_err_set(e, S_INVALID, "campaign.status", "a new campaign is a draft",
                           "leave the status out; schedule the campaign afterwards", "got %d",
                           (int)c->status);
    char cur[4];
    if (c->budget_minor < 0)
        return mkt_err_set(e, S_INVALID, "campaign.budget_minor", "budget is negative",
                           "send the budget in minor units (cents), 0 or more", "got %" PRId64,
                           c->budget_minor);
    if (mkt_check_currency(c->currency, cur, "campaign.currency", e) < 0)
        return -1;
    if (!cur[0])
        return mkt_err_set(e, S_INVALID, "campaign.currency", "campaign.currency is required",
                           "send the ISO 4217 code of the budget, e.g. EUR", NULL);
    if (mkt_check_enum(&crm__v1__overspend_policy__descriptor, (int)c->overspend_policy, 1,
                       "campaign.overspend_policy", e) < 0)
        return -1;
    if (c->attribution_window_days < 0 || c->attribution_window_days > MKT_WINDOW_MAX)
        return mkt_err_set(e, S_INVALID, "campaign.attribution_window_days",
                           "attribution window is out of range",
                           "send 1 to 365 days, or 0 for the default of 30", "got %d",
                           (int)c->attribution_window_days);
    if (c->throttle_per_minute < 0 || c->throttle_per_minute > MKT_THROTTLE_MAX)
        return mkt_err_set(e, S_INVALID, "campaign.throttle_per_minute", "throttle is out of range",
                           "send 1 to 100000 messages per minute, or 0 for no limit", "got %d",
                           (int)c->throttle_per_minute);
    if (mkt_check_id(c->follows_campaign_id, 0, "campaign.follows_campaign_id", e) < 0)
        return -1;
    if (c->follow_delay_seconds < 0 || c->follow_delay_seconds > MKT_FOLLOW_DELAY_MAX)
        return mkt_err_set(e, S_INVALID, "campaign.follow_delay_seconds", "delay is out of range",
                           "send 0 to 31536000 seconds (a year)", "got %" PRId64,
                           c->follow_delay_seconds);
    if (!(c->follows_campaign_id && *c->follows_campaign_id) &&
        (c->follow_delay_seconds || c->only_non_responders))
        return mkt_err_set(e, S_INVALID, "campaign.follows_campaign_id",
                           "campaign.follows_campaign_id is required",
                           "a delay or only_non_responders applies to a follow-up: name the"
                           " campaign it follows",
                           NULL);
    if (c->n_exclude_segment_ids)
        return mkt_err_set(e, S_INVALID, "campaign.exclude_segment_ids",
                           "exclusions are not set on create",
                           "create the campaign, then exclude segments with"
                           " marketing.campaign.exclude",
                           "got %zu segment ids", c->n_exclude_segment_ids);
    if (c->n_offers > MKT_LIST_MAX)
        return mkt_err_set(e, S_INVALID, "campaign.offers", "too many offers", "send at most 50",
                           "got %zu", c->n_offers);
    for (size_t i = 0; i < c->n_offers; i++) {
        snprintf(field, sizeof field, "campaign.offers[%zu]", i);
        if (s_offer_check(c->offers[i], field, e) < 0)
            return -1;
    }
    return 0;
}

int mkt_expense_check(const Crm__V1__Expense *x, mkt_err_t *e)
{
    if (!x)
        return mkt_err_set(e, S_INVALID, "expense", "expense is required",
                           "send the expense to record", NULL);
    if (mkt_check_id(x->campaign_id, 1, "expense.campaign_id", e) < 0)
        return -1;
    if (x->amount_minor <= 0)
        return mkt_err_set(e, S_INVALID, "expense.amount_minor",
                           x->amount_minor ? "amount is negative" : "amount is zero",
                           "send the amount spent in minor units (cents), more than 0",
                           "got %" PRId64, x->amount_minor);
    return mkt_check_text(x->category, MKT_NAME_MAX, "expense.category", e) < 0 ||
                   crm_check_date_opt(x->date, "expense.date", e) < 0 ||
                   mkt_check_text(x->note, MKT_TEXT_MAX, "expense.note", e) < 0
               ? -1
               : 0;
}

int mkt_delivery_confirm_check(const Crm__V1__ConfirmDeliveryRequest *rq, mkt_err_t *e)
{
    int by_id = rq->delivery_id && *rq->delivery_id;
    int by_key = (rq->campaign_id && *rq->campaign_id) || (rq->customer_id && *rq->customer_id) ||
                 rq->channel != CRM__V1__CHANNEL__CHANNEL_UNSPECIFIED;
    if (by_id && by_key)
        return mkt_err_set(e, S_INVALID, "delivery_id", "delivery is named twice",
                           "send either delivery_id, or campaign_id, customer_id and channel",
                           NULL);
    if (by_id) {
        if (mkt_check_id(rq->delivery_id, 1, "delivery_id", e) < 0)
            return -1;
    } else if (mkt_check_id(rq->campaign_id, 1, "campaign_id", e) < 0 ||
               mkt_check_id(rq->customer_id, 1, "customer_id", e) < 0) {
        return -1;
    } else if (!*mkt_channel_name((int)rq->channel)) {
        return mkt_err_set(e, S_INVALID, "channel", "channel is required",
                           "send the channel the message went out on (sms, phone, fax, mail)",
                           "got %d", (int)rq->channel);
    }
    if (rq->outcome != CRM__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_DELIVERED &&
        rq->outcome != CRM__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_FAILED &&
        rq->outcome != CRM__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_BOUNCED)
        return mkt_err_set(e, S_INVALID, "outcome", "outcome is required",
                           "send delivered, failed or bounced", "got %d", (int)rq->outcome);
    if (rq->outcome == CRM__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_DELIVERED)
        return mkt_check_text(rq->reason, MKT_TEXT_MAX, "reason", e);
    return mkt_check_required(rq->reason, MKT_TEXT_MAX, "reason", e);
}

/* An IANA zone name: letters, digits and "/_-+", starting with a letter. */
static int s_zone_shaped(const char *z)
{
    size_t n = strlen(z);
    if (n == 0 || n > 64 || !isalpha((unsigned char)z[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)z[i]) && !strchr("/_-+", z[i]))
            return 0;
    return 1;
}

int mkt_preferences_check(const Crm__V1__ContactPreferences *p, mkt_err_t *e)
{
    char field[128], q[128];
    if (!p)
        return mkt_err_set(e, S_INVALID, "preferences", "preferences is required",
                           "send the customer's contact preferences", NULL);
    if (mkt_check_id(p->customer_id, 1, "preferences.customer_id", e) < 0 ||
        mkt_check_enum(&crm__v1__channel__descriptor, (int)p->preferred_channel, 1,
                       "preferences.preferred_channel", e) < 0)
        return -1;
    if (p->window_start_minute < 0 || p->window_start_minute > 1439)
        return mkt_err_set(
            e, S_INVALID, "preferences.window_start_minute", "minute of the day is out of range",
            "send minutes after local midnight, 0 to 1439", "got %d", (int)p->window_start_minute);
    if (p->window_end_minute < 0 || p->window_end_minute > 1439)
        return mkt_err_set(
            e, S_INVALID, "preferences.window_end_minute", "minute of the day is out of range",
            "send minutes after local midnight, 0 to 1439", "got %d", (int)p->window_end_minute);
    if (p->time_zone && *p->time_zone && !s_zone_shaped(p->time_zone))
        return mkt_err_set(e, S_INVALID, "preferences.time_zone", "time zone is malformed",
                           "send an IANA zone name such as Europe/Paris, or leave it empty and"
                           " send utc_offset_minutes",
                           "got %s", crm_quote(p->time_zone, q, sizeof q));
    if (p->utc_offset_minutes < -14 * 60 || p->utc_offset_minutes > 14 * 60)
        return mkt_err_set(e, S_INVALID, "preferences.utc_offset_minutes",
                           "offset from UTC is out of range", "send -840 to 840 minutes", "got %d",
                           (int)p->utc_offset_minutes);
    if (p->n_opted_out > MKT_LIST_MAX)
        return mkt_err_set(e, S_INVALID, "preferences.opted_out", "too many channels",
                           "send each channel once", "got %zu", p->n_opted_out);
    for (size_t i = 0; i < p->n_opted_out; i++) {
        snprintf(field, sizeof field, "preferences.opted_out[%zu]", i);
        if (mkt_check_enum(&crm__v1__channel__descriptor, (int)p->opted_out[i], 0, field, e) < 0)
            return -1;
    }
    if (p->consent &&
        mkt_check_text(p->consent->source, MKT_NAME_MAX, "preferences.consent.source", e) < 0)
        return -1;
    return 0;
}

static const struct {
    const char *name;
    int bit;
} s_pref_field[] = {
    {"preferred_channel", MKT_PREF_CHANNEL},
    {"window", MKT_PREF_WINDOW},
    {"time_zone", MKT_PREF_ZONE},
    {"utc_offset_minutes", MKT_PREF_OFFSET},
    {"consent", MKT_PREF_CONSENT},
};

/* Consent is not a preference: it has a ledger of its own, purpose by
 * purpose, with proof and who recorded it (marketing.consent.*). */
static int s_pref_no_consent(int bits, mkt_err_t *e)
{
    if (bits & MKT_PREF_CONSENT)
        return mkt_err_set(e, S_INVALID, "preferences.consent",
                           "consent is not set with the preferences",
                           "record it per purpose with marketing.consent.grant (crmctl consent"
                           " grant ID --purpose email --source form --proof TEXT)",
                           NULL);
    return bits;
}

int mkt_pref_fields(const Crm__V1__SetPreferencesRequest *rq, mkt_err_t *e)
{
    const Crm__V1__ContactPreferences *p = rq->preferences;
    char field[64], q[128];
    int bits = 0;
    if (rq->n_fields > MKT_LIST_MAX)
        return mkt_err_set(e, S_INVALID, "fields", "too many fields", "name each field once",
                           "got %zu", rq->n_fields);
    for (size_t i = 0; i < rq->n_fields; i++) {
        size_t k = 0;
        while (k < sizeof s_pref_field / sizeof s_pref_field[0] &&
               strcmp(s_pref_field[k].name, rq->fields[i]) != 0)
            k++;
        snprintf(field, sizeof field, "fields[%zu]", i);
        if (k == sizeof s_pref_field / sizeof s_pref_field[0])
            return mkt_err_set(e, S_INVALID, field, "preference field is unknown",
                               "name preferred_channel, window, time_zone or utc_offset_minutes",
                               "got %s", crm_quote(rq->fields[i], q, sizeof q));
        bits |= s_pref_field[k].bit;
    }
    if (rq->n_opted_in > MKT_LIST_MAX)
        return mkt_err_set(e, S_INVALID, "opted_in", "too many channels", "send each channel once",
                           "got %zu", rq->n_opted_in);
    for (size_t i = 0; i < rq->n_opted_in; i++) {
        snprintf(field, sizeof field, "opted_in[%zu]", i);
        if (mkt_check_enum(&crm__v1__channel__descriptor, (int)rq->opted_in[i], 0, field, e) < 0)
            return -1;
        for (size_t j = 0; j < p->n_opted_out; j++)
            if (p->opted_out[j] == rq->opted_in[i])
                return mkt_err_set(e, S_INVALID, field, "channel is both opted out and opted in",
                                   "send each channel in one of the two lists", "got %s",
                                   mkt_channel_name((int)rq->opted_in[i]));
    }
    if (rq->n_fields > 0)
        return s_pref_no_consent(bits, e);
    if (p->preferred_channel)
        bits |= MKT_PREF_CHANNEL;
    if (p->window_start_minute || p->window_end_minute)
        bits |= MKT_PREF_WINDOW;
    if (p->time_zone && *p->time_zone)
        bits |= MKT_PREF_ZONE;
    if (p->utc_offset_minutes)
        bits |= MKT_PREF_OFFSET;
    if (p->consent && (p->consent->given || (p->consent->source && *p->consent->source)))
        bits |= MKT_PREF_CONSENT;
    return s_pref_no_consent(bits, e);
}

int mkt_response_check(const Crm__V1__CampaignResponseRecorded *r, char *email_out,
                       size_t email_len, mkt_err_t *e)
{
    char q[128], cur[4];
    email_out[0] = 0;
    if (!r)
        return mkt_err_set(e, S_INVALID, "response", "response is required",
                           "send the response to record", NULL);
    if (mkt_check_id(r->campaign_id, 1, "response.campaign_id", e) < 0 ||
        mkt_check_enum(&crm__v1__response_type__descriptor, (int)r->response, 0,
                       "response.response", e) < 0 ||
        mkt_check_id(r->customer_id, 0, "response.customer_id", e) < 0)
        return -1;
    if (r->email && *r->email && crm_email_normalize(r->email, email_out, email_len) != 0)
        return mkt_err_set(e, S_INVALID, "response.email", "email is malformed",
                           "send an address such as ada@example.com", "got %s",
                           crm_quote(r->email, q, sizeof q));
    if ((!r->customer_id || !*r->customer_id) && !email_out[0])
        return mkt_err_set(e, S_INVALID, "response.customer_id",
                           "response.customer_id or response.email is required",
                           "send the customer's id, or the email the response came from", NULL);
    if (r->channel && *r->channel && !mkt_channel_from_name(r->channel))
        return mkt_err_set(e, S_INVALID, "response.channel", "channel is unknown",
                           "send one of email, sms, phone, fax, mail, social, meeting", "got %s",
                           crm_quote(r->channel, q, sizeof q));
    if (r->revenue_minor < 0)
        return mkt_err_set(e, S_INVALID, "response.revenue_minor", "revenue is negative",
                           "send the revenue in minor units (cents), 0 or more", "got %" PRId64,
                           r->revenue_minor);
    if (r->revenue_minor > 0 && r->response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_CONVERTED)
        return mkt_err_set(
            e, S_INVALID, "response.revenue_minor", "only a conversion carries revenue",
            "send revenue with RESPONSE_TYPE_CONVERTED only", "got %" PRId64, r->revenue_minor);
    if (mkt_check_id(r->order_id, 0, "response.order_id", e) < 0)
        return -1;
    if (r->order_id && *r->order_id &&
        r->response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_CONVERTED)
        return mkt_err_set(e, S_INVALID, "response.order_id", "only a conversion names an order",
                           "send order_id with RESPONSE_TYPE_CONVERTED only", NULL);
    return mkt_check_currency(r->currency, cur, "response.currency", e) < 0 ||
                   mkt_check_text(r->name, MKT_NAME_MAX, "response.name", e) < 0 ||
                   mkt_check_text(r->note, MKT_TEXT_MAX, "response.note", e) < 0
               ? -1
               : 0;
}

int mkt_schedule_check(int status, int64_t start_at_us, int64_t now_us, mkt_err_t *e)
{
    if (status != CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_DRAFT) {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(&crm__v1__campaign_status__descriptor, status);
        return mkt_err_set(e, S_PRECONDITION, "id", "only a draft campaign can be scheduled",
                           "create a new campaign, or resume this one", "the campaign is %s",
                           v ? v->name : "?");
    }
    if (start_at_us <= now_us)
        return mkt_err_set(e, S_INVALID, "start_at_us", "start time is in the past",
                           "send a start time after now, in microseconds since the Unix epoch",
                           "got %" PRId64 ", now is %" PRId64, start_at_us, now_us);
    return 0;
}

int mkt_campaign_next(int status, mkt_action_t action, int64_t start_at_us, int64_t now_us,
                      int *next, mkt_err_t *e)
{
    enum {
        DRAFT = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_DRAFT,
        SCHEDULED = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_SCHEDULED,
        RUNNING = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_RUNNING,
        PAUSED = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_PAUSED,
        COMPLETED = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_COMPLETED,
        CANCELLED = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_CANCELLED,
    };
    static const char *const verbs[] = {"", "paused", "resumed", "cancelled", "completed"};
    *next = 0;
    switch (action) {
    case MKT_ACTION_PAUSE:
        if (status == SCHEDULED || status == RUNNING)
            *next = PAUSED;
        break;
    case MKT_ACTION_RESUME:
        if (status == PAUSED)
            *next = start_at_us > now_us ? SCHEDULED : RUNNING;
        break;
    case MKT_ACTION_CANCEL:
        if (status == DRAFT || status == SCHEDULED || status == RUNNING || status == PAUSED)
            *next = CANCELLED;
        break;
    case MKT_ACTION_COMPLETE:
        if (status == RUNNING || status == PAUSED)
            *next = COMPLETED;
        break;
    }
    if (*next)
        return 0;
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&crm__v1__campaign_status__descriptor, status);
    char msg[96];
    snprintf(msg, sizeof msg, "campaign cannot be %s",
             action >= MKT_ACTION_PAUSE && action <= MKT_ACTION_COMPLETE ? verbs[action]
                                                                         : "changed");
    return mkt_err_set(e, S_PRECONDITION, "id", msg,
                       "pause a scheduled or running campaign, resume a paused one, cancel one"
                       " that is not over, complete a running or paused one",
                       "the campaign is %s", v ? v->name : "?");
}

/* ---- budget ------------------------------------------------------------- */

int mkt_expense_admit(int64_t budget, int64_t spent, int64_t amount, int policy, int *flagged,
                      mkt_err_t *e)
{
    *flagged = 0;
    /* 128-bit so that no sum of int64 amounts wraps around. */
    if ((__int128)spent + amount <= (__int128)budget)
        return 0;
    if (policy == CRM__V1__OVERSPEND_POLICY__OVERSPEND_POLICY_FLAG) {
        *flagged = 1;
        return 0;
    }
    return mkt_err_set(e, S_PRECONDITION, "expense.amount_minor", "expense exceeds the budget",
                       "raise the budget, or set the campaign's overspend policy to FLAG",
                       "budget %" PRId64 ", spent %" PRId64 ", remaining %" PRId64
                       ", expense %" PRId64,
                       budget, spent, budget - spent, amount);
}

/* ---- figures --------------------------------------------------------------- */

static int s_div128(__int128 num, __int128 den, int64_t *out)
{
    if (den == 0) {
        *out = 0;
        return 0;
    }
    if (den < 0) {
        num = -num;
        den = -den;
    }
    __int128 a = num < 0 ? -num : num;
    __int128 q = a / den;
    if ((a % den) * 2 >= den) /* half away from zero */
        q++;
    *out = (int64_t)(num < 0 ? -q : q);
    return 1;
}

int mkt_div_round(int64_t num, int64_t den, int64_t *out)
{
    return s_div128(num, den, out);
}

int mkt_ratio_bp(int64_t num, int64_t den, int64_t *out)
{
    return s_div128((__int128)num * 10000, den, out);
}

void mkt_results_derive(Crm__V1__CampaignResults *r)
{
    /* Responders per message sent: a recipient who was suppressed, deferred
     * or never decided had nothing to respond to. */
    r->response_rate_defined = mkt_ratio_bp(r->responders, r->sent, &r->response_rate_bp);
    r->roi_defined =
        s_div128(((__int128)r->revenue_minor - r->cost_minor) * 10000, r->cost_minor, &r->roi_bp);
    r->cost_per_response_defined =
        mkt_div_round(r->cost_minor, r->responders, &r->cost_per_response_minor);
    r->cost_per_conversion_defined =
        mkt_div_round(r->cost_minor, r->conversions, &r->cost_per_conversion_minor);
    for (size_t i = 0; i < r->n_attribution; i++) {
        Crm__V1__AttributionResult *a = r->attribution[i];
        a->roi_defined = s_div128(((__int128)a->revenue_minor - r->cost_minor) * 10000,
                                  r->cost_minor, &a->roi_bp);
    }
}

/* ---- segments ------------------------------------------------------------------ */

int mkt_segment_rules_check(Crm__V1__SegmentRule *const *rules, size_t n, const char *prefix,
                            mkt_err_t *e)
{
    char field[128], q[128];
    if (n == 0 || n > MKT_SEGMENT_RULES_MAX) {
        char msg[160];
        snprintf(msg, sizeof msg, n ? "too many rules" : "%s is required", prefix);
        return mkt_err_set(e, S_INVALID, prefix, msg, "send 1 to 16 rules", "got %zu", n);
    }
    for (size_t i = 0; i < n; i++) {
        const Crm__V1__SegmentRule *r = rules[i];
        const char *t;
        snprintf(field, sizeof field, "%s[%zu].kind", prefix, i);
        if (mkt_check_enum(&crm__v1__segment_rule_kind__descriptor, (int)r->kind, 0, field, e) < 0)
            return -1;
        snprintf(field, sizeof field, "%s[%zu].value", prefix, i);
        switch (r->kind) {
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_PERSON_KIND:
            snprintf(field, sizeof field, "%s[%zu].amount", prefix, i);
            if (r->amount <= 0 || r->amount > INT32_MAX ||
                !protobuf_c_enum_descriptor_get_value(&crm__v1__person_kind__descriptor,
                                                      (int)r->amount))
                return mkt_err_set(e, S_INVALID, field, "person kind is unknown",
                                   "send a PersonKind value in amount, e.g. 1 for CUSTOMER",
                                   "got %" PRId64, r->amount);
            break;
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_COUNTRY:
            if (mkt_trim(r->value, &t) != 2 || !isalpha((unsigned char)t[0]) ||
                !isalpha((unsigned char)t[1]))
                return mkt_err_set(e, S_INVALID, field, "country is not a two-letter code",
                                   "send an ISO 3166-1 alpha-2 code such as FR", "got %s",
                                   crm_quote(r->value, q, sizeof q));
            break;
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_INDUSTRY:
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TAG:
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_BOUGHT_PRODUCT:
            if (mkt_check_required(r->value, MKT_NAME_MAX, field, e) < 0)
                return -1;
            break;
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TOTAL_SPENT_AT_LEAST: {
            char cur[4];
            if (mkt_check_currency(r->value, cur, field, e) < 0)
                return -1;
            if (!cur[0])
                return mkt_err_set(e, S_INVALID, field, "currency is required",
                                   "send the currency of the amount in value, e.g. EUR", NULL);
            snprintf(field, sizeof field, "%s[%zu].amount", prefix, i);
            if (r->amount < 0)
                return mkt_err_set(e, S_INVALID, field, "amount is negative",
                                   "send the amount in minor units (cents), 0 or more",
                                   "got %" PRId64, r->amount);
            break;
        }
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS:
            snprintf(field, sizeof field, "%s[%zu].amount", prefix, i);
            if (r->amount < 1 || r->amount > 3650)
                return mkt_err_set(e, S_INVALID, field, "number of days is out of range",
                                   "send 1 to 3650 days in amount", "got %" PRId64, r->amount);
            break;
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_RESPONDED_TO_CAMPAIGN:
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_CONVERTED_IN_CAMPAIGN:
            if (mkt_check_id(r->value, 1, field, e) < 0)
                return -1;
            break;
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_OPEN_TICKET:
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT:
            if (mkt_trim(r->value, &t) || r->amount)
                return mkt_err_set(e, S_INVALID, field, "rule takes no operand",
                                   "send the kind alone (negate for \"has none\")", "got %s",
                                   crm_quote(r->value, q, sizeof q));
            break;
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LOW_SATISFACTION: {
            size_t len = mkt_trim(r->value, &t);
            if (len && !(len == 4 && !strncmp(t, "last", 4)) &&
                !(len == 3 && !strncmp(t, "any", 3)))
                return mkt_err_set(e, S_INVALID, field, "rating scope is unknown",
                                   "send \"last\" (the default) or \"any\" in value", "got %s",
                                   crm_quote(r->value, q, sizeof q));
            snprintf(field, sizeof field, "%s[%zu].amount", prefix, i);
            if (r->amount < 1 || r->amount > 5)
                return mkt_err_set(e, S_INVALID, field, "rating is out of range",
                                   "send a rating from 1 to 5 in amount", "got %" PRId64,
                                   r->amount);
            break;
        }
        case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_INTEREST_TAG:
            if (mkt_check_required(r->value, MKT_NAME_MAX, field, e) < 0)
                return -1;
            break;
        default:
            snprintf(field, sizeof field, "%s[%zu].kind", prefix, i);
            return mkt_err_set(e, S_INVALID, field, "rule kind is unknown",
                               "send a SegmentRuleKind of marketing.proto", "got %d", (int)r->kind);
        }
    }
    return 0;
}

int mkt_segment_check(const Crm__V1__Segment *s, mkt_err_t *e)
{
    if (!s)
        return mkt_err_set(e, S_INVALID, "segment", "segment is required",
                           "send the segment to create", NULL);
    if (mkt_check_required(s->name, MKT_NAME_MAX, "segment.name", e) < 0)
        return -1;
    return mkt_segment_rules_check(s->rules, s->n_rules, "segment.rules", e);
}

/* ---- messages ----------------------------------------------------------------- */

const char *const mkt_fields[MKT_FIELD_COUNT] = {"name", "email", "offer", "owner", "campaign"};

/* The placeholder starting at p ("{{"): its field index, or -1 when it
 * names no known field, -2 when it is not closed; *end is set past "}}". */
static int s_placeholder(const char *p, const char **end, const char **name, size_t *len)
{
    const char *close = strstr(p + 2, "}}");
    if (!close)
        return -2;
    const char *a = p + 2, *b = close;
    while (a < b && *a == ' ')
        a++;
    while (b > a && b[-1] == ' ')
        b--;
    *end = close + 2;
    *name = a;
    *len = (size_t)(b - a);
    for (int i = 0; i < MKT_FIELD_COUNT; i++)
        if (strlen(mkt_fields[i]) == *len && !strncmp(mkt_fields[i], a, *len))
            return i;
    return -1;
}

int mkt_template_check(const char *text, size_t max, const char *field, mkt_err_t *e)
{
    if (mkt_check_text(text, max, field, e) < 0)
        return -1;
    for (const char *p = text ? strstr(text, "{{") : NULL; p; p = strstr(p, "{{")) {
        const char *end, *name;
        size_t len;
        int k = s_placeholder(p, &end, &name, &len);
        if (k == -2)
            return mkt_err_set(e, S_INVALID, field, "placeholder is not closed",
                               "write placeholders as {{name}}", "at byte %zu", (size_t)(p - text));
        if (k == -1)
            return mkt_err_set(e, S_INVALID, field, "personalisation field is unknown",
                               "use name, email, offer, owner or campaign", "got \"%.*s\"",
                               (int)(len > 64 ? 64 : len), name);
        p = end;
    }
    return 0;
}

int mkt_message_check(const Crm__V1__MessageTemplate *t, mkt_err_t *e)
{
    if (!t)
        return mkt_err_set(e, S_INVALID, "template", "template is required",
                           "send the message template", NULL);
    if (mkt_check_id(t->campaign_id, 1, "template.campaign_id", e) < 0 ||
        mkt_check_enum(&crm__v1__channel__descriptor, (int)t->channel, 0, "template.channel", e) <
            0 ||
        mkt_template_check(t->subject, MKT_NAME_MAX, "template.subject", e) < 0 ||
        mkt_check_required(t->body, MKT_BODY_MAX, "template.body", e) < 0)
        return -1;
    return mkt_template_check(t->body, MKT_BODY_MAX, "template.body", e);
}

char *mkt_render(const char *text, const char *const values[MKT_FIELD_COUNT])
{
    size_t cap = strlen(text) + 1;
    for (int i = 0; i < MKT_FIELD_COUNT; i++)
        for (const char *p = strstr(text, "{{"); p; p = strstr(p + 2, "{{"))
            cap += values[i] ? strlen(values[i]) : 0;
    char *out = malloc(cap), *o = out;
    if (!out)
        return NULL;
    const char *p = text;
    for (const char *q = strstr(p, "{{"); q; q = strstr(p, "{{")) {
        const char *end, *name;
        size_t len;
        int k = s_placeholder(q, &end, &name, &len);
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        if (k < 0) { /* not checked: copied as it is */
            memcpy(o, q, 2);
            o += 2;
            p = q + 2;
            continue;
        }
        const char *v = values[k] ? values[k] : "";
        memcpy(o, v, strlen(v));
        o += strlen(v);
        p = end;
    }
    strcpy(o, p);
    return out;
}
