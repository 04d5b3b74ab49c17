/* policy.c: marketing's contact policy, without I/O (rules.h): which
 * channel a person may be contacted on now (opt-outs, the contact window),
 * and the consent ledger's rules and the per-channel policy
 * (MARKETING_CHANNEL_POLICY). Apart from rules.c, whose request checks and
 * figures are another matter. */
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

/* ---- contact policy ---------------------------------------------------------- */

static int s_opted_out(const Crm__V1__ContactPreferences *p, int channel)
{
    for (size_t i = 0; p && i < p->n_opted_out; i++)
        if ((int)p->opted_out[i] == channel)
            return 1;
    return 0;
}

void mkt_contact_decide(const Crm__V1__ContactPreferences *p, const int *channels, size_t n,
                        int64_t now_us, int offset_minutes, mkt_contact_t *out)
{
    memset(out, 0, sizeof *out);
    int chosen = 0;
    for (size_t i = 0; i < n; i++) {
        if (s_opted_out(p, channels[i]))
            continue;
        if (!chosen)
            chosen = channels[i];
        if (p && channels[i] == (int)p->preferred_channel) {
            chosen = channels[i];
            break;
        }
    }
    if (!chosen) {
        size_t at = (size_t)snprintf(out->reason, sizeof out->reason, "opted out of");
        for (size_t i = 0; i < n && at < sizeof out->reason; i++)
            at += (size_t)snprintf(out->reason + at, sizeof out->reason - at, "%s %s", i ? "," : "",
                                   mkt_channel_name(channels[i]));
        out->kind = MKT_CONTACT_SUPPRESSED;
        out->code = "opted_out";
        return;
    }
    out->channel = chosen;
    out->at_us = now_us;
    int start = p ? p->window_start_minute : 0, end = p ? p->window_end_minute : 0;
    if (start == end) {
        out->kind = MKT_CONTACT_SEND;
        snprintf(out->reason, sizeof out->reason, "%s, any time",
                 p && chosen == (int)p->preferred_channel ? "preferred channel"
                                                          : "first channel offered");
        return;
    }
    /* Local minute of the day; floor division so times before 1970 work. */
    const int64_t min_us = 60 * 1000000LL;
    int64_t utc_min = now_us >= 0 ? now_us / min_us : -((-now_us + min_us - 1) / min_us);
    int64_t local = utc_min + offset_minutes;
    int m = (int)(((local % 1440) + 1440) % 1440);
    int inside = start < end ? (m >= start && m < end) : (m >= start || m < end);
    if (inside) {
        out->kind = MKT_CONTACT_SEND;
        snprintf(out->reason, sizeof out->reason, "%s, inside the contact window",
                 p && chosen == (int)p->preferred_channel ? "preferred channel"
                                                          : "first channel offered");
        return;
    }
    int wait = ((start - m) % 1440 + 1440) % 1440;
    out->kind = MKT_CONTACT_DEFERRED;
    out->code = "outside_contact_window";
    out->at_us = (utc_min + wait) * min_us;
    snprintf(out->reason, sizeof out->reason,
             "outside the contact window %02d:%02d-%02d:%02d (local %02d:%02d)", start / 60,
             start % 60, end / 60, end % 60, m / 60, m % 60);
}

/* ---- consent and the channel policy -------------------------------------- */

int mkt_consent_check(const Crm__V1__RecordConsentRequest *rq, int64_t now_us, mkt_err_t *e)
{
    if (mkt_check_id(rq->customer_id, 1, "customer_id", e) < 0 ||
        mkt_check_enum(&crm__v1__consent_purpose__descriptor, (int)rq->purpose, 0, "purpose", e) <
            0 ||
        mkt_check_enum(&crm__v1__consent_source__descriptor, (int)rq->source, 0, "source", e) < 0 ||
        mkt_check_text(rq->proof, MKT_TEXT_MAX, "proof", e) < 0)
        return -1;
    if (rq->at_us < 0 || rq->at_us > now_us + INT64_C(60000000))
        return mkt_err_set(e, S_INVALID, "at_us", "consent time is in the future",
                           "send the time the person gave or withdrew consent, or 0 for now",
                           "got %" PRId64 " us", rq->at_us);
    return 0;
}

int mkt_consent_purpose(int channel)
{
    return channel >= CRM__V1__CHANNEL__CHANNEL_EMAIL && channel <= CRM__V1__CHANNEL__CHANNEL_MAIL
               ? channel
               : 0;
}

int mkt_policy_parse(const char *text, unsigned *opt_in, char *err, size_t errlen)
{
    char buf[256];
    *opt_in = 0;
    if (!text || strlen(text) >= sizeof buf) {
        snprintf(err, errlen, "channel policy is too long");
        return -1;
    }
    memcpy(buf, text, strlen(text) + 1);
    for (char *save = NULL, *item = strtok_r(buf, ", ", &save); item;
         item = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            snprintf(err, errlen, "\"%s\" is not CHANNEL=opt-in or CHANNEL=opt-out", item);
            return -1;
        }
        *eq = 0;
        int ch = strcmp(item, "post") == 0 ? CRM__V1__CHANNEL__CHANNEL_MAIL
                                           : mkt_channel_from_name(item);
        if (!ch) {
            snprintf(err, errlen, "channel \"%s\" is unknown (email, sms, phone, fax, mail)", item);
            return -1;
        }
        if (strcmp(eq + 1, "opt-in") == 0)
            *opt_in |= 1u << ch;
        else if (strcmp(eq + 1, "opt-out") == 0)
            *opt_in &= ~(1u << ch);
        else {
            snprintf(err, errlen, "policy \"%s\" of %s is neither opt-in nor opt-out", eq + 1,
                     item);
            return -1;
        }
    }
    return 0;
}
