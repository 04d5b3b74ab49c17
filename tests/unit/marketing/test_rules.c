/* Unit tests for services/marketing/rules.c: request validation, the
 * budget decision, the result figures and the contact policy. Every
 * expected figure is worked out by hand in the comment beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#include "crm/v1/rpc.pb-c.h"

#define INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define PRECONDITION CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION
#define EMAIL CRM__V1__CHANNEL__CHANNEL_EMAIL
#define SMS CRM__V1__CHANNEL__CHANNEL_SMS
#define PHONE CRM__V1__CHANNEL__CHANNEL_PHONE

/* Instants used below (UTC), in microseconds since the epoch. */
#define T_0730 1795332600000000LL    /* 2026-11-22T07:30:00Z */
#define T_0730_45 1795332645000000LL /* 2026-11-22T07:30:45Z */
#define T_0800 1795334400000000LL    /* 2026-11-22T08:00:00Z */
#define T_1200 1795348800000000LL    /* 2026-11-22T12:00:00Z */
#define T_1630 1795365000000000LL    /* 2026-11-22T16:30:00Z */
#define T_N0300 1795402800000000LL   /* 2026-11-23T03:00:00Z */
#define T_N0400 1795406400000000LL   /* 2026-11-23T04:00:00Z */
#define T_N0800 1795420800000000LL   /* 2026-11-23T08:00:00Z */

static void s_assert_err(const mkt_err_t *e, int code, const char *field)
{
    assert_int_equal(e->code, code);
    assert_string_equal(e->field, field);
    assert_true(e->message[0] >= 'a' && e->message[0] <= 'z');
    assert_true(e->message[strlen(e->message) - 1] != '.');
    assert_true(e->hint[0] != 0);
}

static void test_div_round(void **state)
{
    int64_t v;
    assert_int_equal(mkt_div_round(7, 2, &v), 1);
    assert_int_equal(v, 4); /* 3.5 -> 4, half away from zero */
    assert_int_equal(mkt_div_round(-7, 2, &v), 1);
    assert_int_equal(v, -4); /* -3.5 -> -4 */
    assert_int_equal(mkt_div_round(5, 3, &v), 1);
    assert_int_equal(v, 2); /* 1.67 -> 2 */
    assert_int_equal(mkt_div_round(4, 3, &v), 1);
    assert_int_equal(v, 1); /* 1.33 -> 1 */
    assert_int_equal(mkt_div_round(7, -2, &v), 1);
    assert_int_equal(v, -4);
    assert_int_equal(mkt_div_round(1, 0, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(mkt_ratio_bp(1, 3, &v), 1);
    assert_int_equal(v, 3333); /* 33.33 % */
    assert_int_equal(mkt_ratio_bp(2, 3, &v), 1);
    assert_int_equal(v, 6667); /* 66.67 % */
    /* No overflow: INT64_MAX * 10000 is computed in 128 bits. */
    assert_int_equal(mkt_ratio_bp(INT64_MAX, INT64_MAX, &v), 1);
    assert_int_equal(v, 10000);
}

static void test_results(void **state)
{
    Crm__V1__CampaignResults r = CRM__V1__CAMPAIGN_RESULTS__INIT;
    /* 5 recipients, 4 sent (one suppressed), 3 responded, 2 converted for
     * 2500.00; cost 1000.00. The rate is per message sent. */
    r.recipients = 5;
    r.sent = 4;
    r.responders = 3;
    r.conversions = 2;
    r.revenue_minor = 250000;
    r.cost_minor = 100000;
    mkt_results_derive(&r);
    assert_true(r.response_rate_defined);
    assert_int_equal(r.response_rate_bp, 7500); /* 3/4 */
    assert_true(r.roi_defined);
    assert_int_equal(r.roi_bp, 15000); /* (2500 - 1000) / 1000 = 1.5 */
    assert_true(r.cost_per_response_defined);
    assert_int_equal(r.cost_per_response_minor, 33333); /* 100000 / 3 = 33333.3 */
    assert_true(r.cost_per_conversion_defined);
    assert_int_equal(r.cost_per_conversion_minor, 50000);

    /* A loss: revenue 300.00, cost 1200.00: (300 - 1200) / 1200 = -0.75. */
    r.revenue_minor = 30000;
    r.cost_minor = 120000;
    mkt_results_derive(&r);
    assert_int_equal(r.roi_bp, -7500);
    /* (0.01 - 0.03) / 0.03 = -0.66666 -> -6667 bp. */
    r.revenue_minor = 1;
    r.cost_minor = 3;
    mkt_results_derive(&r);
    assert_int_equal(r.roi_bp, -6667);

    /* No cost: ROI undefined (not infinite, not 0 by accident); the cost
     * per response is a defined 0. Nothing sent, no conversions:
     * undefined. */
    Crm__V1__CampaignResults z = CRM__V1__CAMPAIGN_RESULTS__INIT;
    z.responders = 2;
    z.revenue_minor = 5000;
    mkt_results_derive(&z);
    assert_false(z.roi_defined);
    assert_int_equal(z.roi_bp, 0);
    assert_true(z.cost_per_response_defined);
    assert_int_equal(z.cost_per_response_minor, 0);
    assert_false(z.response_rate_defined);
    assert_false(z.cost_per_conversion_defined);
}

static void test_expense_admit(void **state)
{
    mkt_err_t e;
    int flagged = -1;
    const int refuse = CRM__V1__OVERSPEND_POLICY__OVERSPEND_POLICY_REFUSE;
    const int flag = CRM__V1__OVERSPEND_POLICY__OVERSPEND_POLICY_FLAG;
    /* Budget 1000.00, 800.00 spent: 200.00 fits exactly. */
    assert_int_equal(mkt_expense_admit(100000, 80000, 20000, refuse, &flagged, &e), 0);
    assert_int_equal(flagged, 0);
    /* One cent more is refused, and the detail gives the figures. */
    assert_int_equal(mkt_expense_admit(100000, 80000, 20001, refuse, &flagged, &e), -1);
    s_assert_err(&e, PRECONDITION, "expense.amount_minor");
    assert_string_equal(e.message, "expense exceeds the budget");
    assert_string_equal(e.detail, "budget 100000, spent 80000, remaining 20000, expense 20001");
    /* Unspecified policy means refuse. */
    assert_int_equal(mkt_expense_admit(100000, 80000, 20001, 0, &flagged, &e), -1);
    /* Flag: recorded, flagged. */
    assert_int_equal(mkt_expense_admit(100000, 80000, 20001, flag, &flagged, &e), 0);
    assert_int_equal(flagged, 1);
    /* No wrap-around near INT64_MAX. */
    assert_int_equal(mkt_expense_admit(INT64_MAX, INT64_MAX, 1, refuse, &flagged, &e), -1);
}

static Crm__V1__Campaign s_campaign(Crm__V1__Channel *ch, size_t n)
{
    Crm__V1__Campaign c = CRM__V1__CAMPAIGN__INIT;
    c.name = (char *)"Spring";
    c.channels = ch;
    c.n_channels = n;
    c.currency = (char *)"eur";
    c.budget_minor = 100000;
    return c;
}

static void test_campaign_check(void **state)
{
    mkt_err_t e;
    Crm__V1__Channel ch[2] = {EMAIL, SMS};
    Crm__V1__Campaign c = s_campaign(ch, 2);
    assert_int_equal(mkt_campaign_check(&c, &e), 0);
    c.name = (char *)"  ";
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.name");
    c = s_campaign(ch, 0);
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.channels");
    Crm__V1__Channel dup[2] = {EMAIL, EMAIL};
    c = s_campaign(dup, 2);
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.channels[1]");
    Crm__V1__Channel bad[1] = {(Crm__V1__Channel)99};
    c = s_campaign(bad, 1);
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.channels[0]");
    c = s_campaign(ch, 2);
    c.start_date = (char *)"2026-04-01";
    c.end_date = (char *)"2026-03-31";
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.end_date");
    c.end_date = (char *)"2026-02-30";
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.end_date");
    c = s_campaign(ch, 2);
    c.budget_minor = -1;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.budget_minor");
    c = s_campaign(ch, 2);
    c.currency = (char *)"";
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.currency");
    c = s_campaign(ch, 2);
    c.attribution_window_days = 366;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.attribution_window_days");
    c = s_campaign(ch, 2);
    c.status = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_RUNNING;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.status");
    Crm__V1__Offer o1 = CRM__V1__OFFER__INIT, o2 = CRM__V1__OFFER__INIT;
    Crm__V1__Offer *offers[2] = {&o1, &o2};
    o1.product_code = (char *)"SKU-1";
    o1.discount_percent = 10;
    o2.text = (char *)"free shipping";
    o2.discount_percent = 101;
    c = s_campaign(ch, 2);
    c.offers = offers;
    c.n_offers = 2;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.offers[1].discount_percent");
    o2.discount_percent = 0;
    o2.text = (char *)"";
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.offers[1]");
    o2.text = (char *)"free shipping";
    assert_int_equal(mkt_campaign_check(&c, &e), 0);
    c.throttle_per_minute = -1;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.throttle_per_minute");
    c.throttle_per_minute = 100001;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    c.throttle_per_minute = 60;
    assert_int_equal(mkt_campaign_check(&c, &e), 0);
    /* A follow-up step: a campaign id; a delay or non-responders only with one. */
    c.follow_delay_seconds = 3600;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.follows_campaign_id");
    c.follows_campaign_id = (char *)"0b6f7d2e-5d1a-4c43-9a71-0c1f0a7e6b21";
    c.only_non_responders = 1;
    assert_int_equal(mkt_campaign_check(&c, &e), 0);
    c.follow_delay_seconds = 31536001;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.follow_delay_seconds");
    c.follow_delay_seconds = 0;
    c.follows_campaign_id = (char *)"step-1";
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.follows_campaign_id");
    c.follows_campaign_id = (char *)"";
    c.only_non_responders = 0;
    /* Exclusions are set by marketing.campaign.exclude, not on create. */
    char *seg[] = {(char *)"0b6f7d2e-5d1a-4c43-9a71-0c1f0a7e6b21"};
    c.exclude_segment_ids = seg;
    c.n_exclude_segment_ids = 1;
    assert_int_equal(mkt_campaign_check(&c, &e), -1);
    s_assert_err(&e, INVALID, "campaign.exclude_segment_ids");
    c.n_exclude_segment_ids = 0;
    assert_int_equal(mkt_campaign_check(NULL, &e), -1);
    s_assert_err(&e, INVALID, "campaign");
}

static void test_delivery_confirm_check(void **state)
{
    mkt_err_t e;
    const char *id = "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10";
    Crm__V1__ConfirmDeliveryRequest rq = CRM__V1__CONFIRM_DELIVERY_REQUEST__INIT;
    rq.delivery_id = (char *)id;
    rq.outcome = CRM__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_DELIVERED;
    assert_int_equal(mkt_delivery_confirm_check(&rq, &e), 0);
    /* A failure needs the gateway's reason. */
    rq.outcome = CRM__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_BOUNCED;
    assert_int_equal(mkt_delivery_confirm_check(&rq, &e), -1);
    s_assert_err(&e, INVALID, "reason");
    rq.reason = (char *)"unknown subscriber";
    assert_int_equal(mkt_delivery_confirm_check(&rq, &e), 0);
    rq.outcome = 0;
    assert_int_equal(mkt_delivery_confirm_check(&rq, &e), -1);
    s_assert_err(&e, INVALID, "outcome");
    /* Named twice, or by an incomplete key. */
    rq.outcome = CRM__V1__DELIVERY_OUTCOME__DELIVERY_OUTCOME_DELIVERED;
    rq.channel = CRM__V1__CHANNEL__CHANNEL_SMS;
    assert_int_equal(mkt_delivery_confirm_check(&rq, &e), -1);
    s_assert_err(&e, INVALID, "delivery_id");
    rq.delivery_id = (char *)"";
    rq.campaign_id = (char *)id;
    assert_int_equal(mkt_delivery_confirm_check(&rq, &e), -1);
    s_assert_err(&e, INVALID, "customer_id");
    rq.customer_id = (char *)id;
    assert_int_equal(mkt_delivery_confirm_check(&rq, &e), 0);
    rq.channel = 0;
    assert_int_equal(mkt_delivery_confirm_check(&rq, &e), -1);
    s_assert_err(&e, INVALID, "channel");
}

static void test_expense_response_schedule(void **state)
{
    mkt_err_t e;
    Crm__V1__Expense x = CRM__V1__EXPENSE__INIT;
    x.campaign_id = (char *)"6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10";
    x.amount_minor = 1;
    assert_int_equal(mkt_expense_check(&x, &e), 0);
    x.amount_minor = -500;
    assert_int_equal(mkt_expense_check(&x, &e), -1);
    s_assert_err(&e, INVALID, "expense.amount_minor");
    assert_string_equal(e.message, "amount is negative");
    x.amount_minor = 1;
    x.campaign_id = (char *)"nope";
    assert_int_equal(mkt_expense_check(&x, &e), -1);
    s_assert_err(&e, INVALID, "expense.campaign_id");

    char email[256];
    Crm__V1__CampaignResponseRecorded r = CRM__V1__CAMPAIGN_RESPONSE_RECORDED__INIT;
    r.campaign_id = (char *)"6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10";
    r.response = CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_OPENED;
    r.email = (char *)" Ada@X.io ";
    assert_int_equal(mkt_response_check(&r, email, sizeof email, &e), 0);
    assert_string_equal(email, "ada@x.io");
    r.revenue_minor = 100;
    assert_int_equal(mkt_response_check(&r, email, sizeof email, &e), -1);
    s_assert_err(&e, INVALID, "response.revenue_minor");
    r.response = CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_CONVERTED;
    assert_int_equal(mkt_response_check(&r, email, sizeof email, &e), 0);
    r.channel = (char *)"pigeon";
    assert_int_equal(mkt_response_check(&r, email, sizeof email, &e), -1);
    s_assert_err(&e, INVALID, "response.channel");
    r.channel = (char *)"sms";
    r.email = (char *)"";
    assert_int_equal(mkt_response_check(&r, email, sizeof email, &e), -1);
    s_assert_err(&e, INVALID, "response.customer_id");
    r.response = 0;
    assert_int_equal(mkt_response_check(&r, email, sizeof email, &e), -1);
    s_assert_err(&e, INVALID, "response.response");

    const int draft = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_DRAFT;
    assert_int_equal(mkt_schedule_check(draft, T_0800, T_0730, &e), 0);
    assert_int_equal(mkt_schedule_check(draft, T_0730, T_0730, &e), -1);
    s_assert_err(&e, INVALID, "start_at_us");
    assert_int_equal(
        mkt_schedule_check(CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_SCHEDULED, T_0800, T_0730, &e),
        -1);
    s_assert_err(&e, PRECONDITION, "id");
}

static void test_preferences_check(void **state)
{
    mkt_err_t e;
    Crm__V1__ContactPreferences p = CRM__V1__CONTACT_PREFERENCES__INIT;
    Crm__V1__Channel out[1] = {(Crm__V1__Channel)42};
    p.customer_id = (char *)"6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10";
    p.time_zone = (char *)"Europe/Paris";
    assert_int_equal(mkt_preferences_check(&p, &e), 0);
    p.window_end_minute = 1440;
    assert_int_equal(mkt_preferences_check(&p, &e), -1);
    s_assert_err(&e, INVALID, "preferences.window_end_minute");
    p.window_end_minute = 0;
    p.time_zone = (char *)"Europe/Paris; DROP";
    assert_int_equal(mkt_preferences_check(&p, &e), -1);
    s_assert_err(&e, INVALID, "preferences.time_zone");
    p.time_zone = (char *)"";
    p.utc_offset_minutes = 900;
    assert_int_equal(mkt_preferences_check(&p, &e), -1);
    s_assert_err(&e, INVALID, "preferences.utc_offset_minutes");
    p.utc_offset_minutes = -300;
    p.opted_out = out;
    p.n_opted_out = 1;
    assert_int_equal(mkt_preferences_check(&p, &e), -1);
    s_assert_err(&e, INVALID, "preferences.opted_out[0]");
}

static void test_contact_channels(void **state)
{
    mkt_contact_t d;
    int campaign[2] = {EMAIL, SMS};
    Crm__V1__ContactPreferences p = CRM__V1__CONTACT_PREFERENCES__INIT;
    Crm__V1__Channel out[2] = {EMAIL, SMS};

    /* No preferences: the first channel, now. */
    mkt_contact_decide(NULL, campaign, 2, T_0730, 0, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SEND);
    assert_int_equal(d.channel, EMAIL);
    assert_true(d.at_us == T_0730);
    /* Preferred channel offered by the campaign: used. */
    p.preferred_channel = SMS;
    mkt_contact_decide(&p, campaign, 2, T_0730, 0, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SEND);
    assert_int_equal(d.channel, SMS);
    assert_string_equal(d.reason, "preferred channel, any time");
    /* Preferred channel not offered: the first offered. */
    p.preferred_channel = PHONE;
    mkt_contact_decide(&p, campaign, 2, T_0730, 0, &d);
    assert_int_equal(d.channel, EMAIL);
    /* Opted out of email: SMS. */
    p.opted_out = out;
    p.n_opted_out = 1;
    mkt_contact_decide(&p, campaign, 2, T_0730, 0, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SEND);
    assert_int_equal(d.channel, SMS);
    /* Opted out of every channel offered: suppressed, whatever the window
     * or the preferred channel. */
    p.n_opted_out = 2;
    p.window_start_minute = 540;
    p.window_end_minute = 1020;
    mkt_contact_decide(&p, campaign, 2, T_0730, 0, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SUPPRESSED);
    assert_string_equal(d.reason, "opted out of email, sms");
    assert_string_equal(d.code, "opted_out");
    /* An email-only campaign for someone opted out of email only. */
    p.n_opted_out = 1;
    mkt_contact_decide(&p, campaign, 1, T_1200, 0, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SUPPRESSED);
    assert_string_equal(d.reason, "opted out of email");
}

static void test_contact_window(void **state)
{
    mkt_contact_t d;
    int campaign[1] = {EMAIL};
    Crm__V1__ContactPreferences p = CRM__V1__CONTACT_PREFERENCES__INIT;
    /* 09:00-17:00 local in UTC+1 (Paris in winter). */
    p.window_start_minute = 9 * 60;
    p.window_end_minute = 17 * 60;
    /* 07:30Z is 08:30 local: deferred to 09:00 local = 08:00Z. */
    mkt_contact_decide(&p, campaign, 1, T_0730, 60, &d);
    assert_int_equal(d.kind, MKT_CONTACT_DEFERRED);
    assert_int_equal(d.channel, EMAIL);
    assert_true(d.at_us == T_0800);
    assert_string_equal(d.reason, "outside the contact window 09:00-17:00 (local 08:30)");
    assert_string_equal(d.code, "outside_contact_window");
    /* Seconds past the minute: the window still opens at 08:00Z sharp. */
    mkt_contact_decide(&p, campaign, 1, T_0730_45, 60, &d);
    assert_true(d.at_us == T_0800);
    /* 08:00Z is 09:00 local: the start is inside. */
    mkt_contact_decide(&p, campaign, 1, T_0800, 60, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SEND);
    /* 12:00Z is 13:00 local: sent now. */
    mkt_contact_decide(&p, campaign, 1, T_1200, 60, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SEND);
    assert_null(d.code);
    assert_true(d.at_us == T_1200);
    /* 16:30Z is 17:30 local: the end is outside; next day 09:00 local =
     * 2026-11-23T08:00Z. */
    mkt_contact_decide(&p, campaign, 1, T_1630, 60, &d);
    assert_int_equal(d.kind, MKT_CONTACT_DEFERRED);
    assert_true(d.at_us == T_N0800);

    /* Across midnight: 22:00-06:00 local in UTC-5 (New York in winter).
     * 12:00Z is 07:00 local: deferred to 22:00 local = 2026-11-23T03:00Z. */
    p.window_start_minute = 22 * 60;
    p.window_end_minute = 6 * 60;
    mkt_contact_decide(&p, campaign, 1, T_1200, -300, &d);
    assert_int_equal(d.kind, MKT_CONTACT_DEFERRED);
    assert_true(d.at_us == T_N0300);
    /* 2026-11-23T04:00Z is 23:00 local: inside. */
    mkt_contact_decide(&p, campaign, 1, T_N0400, -300, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SEND);
    /* 2026-11-23T08:00Z is 03:00 local, after midnight: inside. */
    mkt_contact_decide(&p, campaign, 1, T_N0800, -300, &d);
    assert_int_equal(d.kind, MKT_CONTACT_SEND);
}

static void test_channel_names(void **state)
{
    assert_int_equal(mkt_channel_from_name("email"), EMAIL);
    assert_int_equal(mkt_channel_from_name("meeting"), CRM__V1__CHANNEL__CHANNEL_MEETING);
    assert_int_equal(mkt_channel_from_name("Email"), 0);
    assert_int_equal(mkt_channel_from_name(""), 0);
    assert_string_equal(mkt_channel_name(SMS), "sms");
    assert_string_equal(mkt_channel_name(0), "");
    assert_string_equal(mkt_channel_name(99), "");
}

static void test_templates(void **state)
{
    mkt_err_t e;
    assert_int_equal(
        mkt_template_check("Hello {{name}}, {{ offer }} from {{owner}}", 2000, "template.body", &e),
        0);
    assert_int_equal(mkt_template_check("no placeholders", 2000, "template.body", &e), 0);
    assert_int_equal(mkt_template_check("Hi {{nmae}}", 2000, "template.body", &e), -1);
    s_assert_err(&e, INVALID, "template.body");
    assert_string_equal(e.message, "personalisation field is unknown");
    assert_string_equal(e.detail, "got \"nmae\"");
    assert_int_equal(mkt_template_check("Hi {{name", 2000, "template.subject", &e), -1);
    s_assert_err(&e, INVALID, "template.subject");
    assert_string_equal(e.message, "placeholder is not closed");

    Crm__V1__MessageTemplate t = CRM__V1__MESSAGE_TEMPLATE__INIT;
    t.campaign_id = (char *)"6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10";
    t.channel = EMAIL;
    t.subject = (char *)"{{campaign}}";
    t.body = (char *)"Dear {{name}}";
    assert_int_equal(mkt_message_check(&t, &e), 0);
    t.body = (char *)" ";
    assert_int_equal(mkt_message_check(&t, &e), -1);
    s_assert_err(&e, INVALID, "template.body");
    t.body = (char *)"x";
    t.channel = 0;
    assert_int_equal(mkt_message_check(&t, &e), -1);
    s_assert_err(&e, INVALID, "template.channel");

    const char *values[MKT_FIELD_COUNT] = {"Ada", "ada@x.io", "15% off SKU-1", NULL, "Spring"};
    char *r = mkt_render(
        "Dear {{name}} <{{ email }}>: {{offer}}{{owner}} in {{campaign}}, {{name}}!", values);
    assert_non_null(r);
    assert_string_equal(r, "Dear Ada <ada@x.io>: 15% off SKU-1 in Spring, Ada!");
    free(r);
    r = mkt_render("plain {{", values);
    assert_string_equal(r, "plain {{");
    free(r);
}

static void test_campaign_next(void **state)
{
    mkt_err_t e;
    int next;
    enum {
        DRAFT = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_DRAFT,
        SCHEDULED = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_SCHEDULED,
        RUNNING = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_RUNNING,
        PAUSED = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_PAUSED,
        COMPLETED = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_COMPLETED,
        CANCELLED = CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_CANCELLED,
    };
    assert_int_equal(mkt_campaign_next(RUNNING, MKT_ACTION_PAUSE, T_0730, T_0800, &next, &e), 0);
    assert_int_equal(next, PAUSED);
    assert_int_equal(mkt_campaign_next(SCHEDULED, MKT_ACTION_PAUSE, T_1200, T_0800, &next, &e), 0);
    assert_int_equal(next, PAUSED);
    /* Resumed before its start: scheduled again; after: running. */
    assert_int_equal(mkt_campaign_next(PAUSED, MKT_ACTION_RESUME, T_1200, T_0800, &next, &e), 0);
    assert_int_equal(next, SCHEDULED);
    assert_int_equal(mkt_campaign_next(PAUSED, MKT_ACTION_RESUME, T_0730, T_0800, &next, &e), 0);
    assert_int_equal(next, RUNNING);
    assert_int_equal(mkt_campaign_next(DRAFT, MKT_ACTION_CANCEL, 0, T_0800, &next, &e), 0);
    assert_int_equal(next, CANCELLED);
    assert_int_equal(mkt_campaign_next(PAUSED, MKT_ACTION_COMPLETE, 0, T_0800, &next, &e), 0);
    assert_int_equal(next, COMPLETED);
    assert_int_equal(mkt_campaign_next(DRAFT, MKT_ACTION_PAUSE, 0, T_0800, &next, &e), -1);
    s_assert_err(&e, PRECONDITION, "id");
    assert_string_equal(e.message, "campaign cannot be paused");
    assert_string_equal(e.detail, "the campaign is CAMPAIGN_STATUS_DRAFT");
    assert_int_equal(mkt_campaign_next(RUNNING, MKT_ACTION_RESUME, 0, T_0800, &next, &e), -1);
    assert_int_equal(mkt_campaign_next(COMPLETED, MKT_ACTION_CANCEL, 0, T_0800, &next, &e), -1);
    assert_int_equal(mkt_campaign_next(CANCELLED, MKT_ACTION_CANCEL, 0, T_0800, &next, &e), -1);
    assert_int_equal(mkt_campaign_next(SCHEDULED, MKT_ACTION_COMPLETE, 0, T_0800, &next, &e), -1);
}

static void test_segment_rules(void **state)
{
    mkt_err_t e;
    Crm__V1__SegmentRule r[3];
    Crm__V1__SegmentRule *v[3] = {&r[0], &r[1], &r[2]};
    for (int i = 0; i < 3; i++)
        crm__v1__segment_rule__init(&r[i]);
    r[0].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_COUNTRY;
    r[0].value = (char *)"fr";
    r[1].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TOTAL_SPENT_AT_LEAST;
    r[1].value = (char *)"EUR";
    r[1].amount = 10000;
    r[2].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_RESPONDED_TO_CAMPAIGN;
    r[2].value = (char *)"6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10";
    r[2].negate = 1;
    assert_int_equal(mkt_segment_rules_check(v, 3, "segment.rules", &e), 0);
    assert_int_equal(mkt_segment_rules_check(v, 0, "segment.rules", &e), -1);
    s_assert_err(&e, INVALID, "segment.rules");
    r[0].value = (char *)"France";
    assert_int_equal(mkt_segment_rules_check(v, 3, "segment.rules", &e), -1);
    s_assert_err(&e, INVALID, "segment.rules[0].value");
    r[0].value = (char *)"FR";
    r[1].value = (char *)"";
    assert_int_equal(mkt_segment_rules_check(v, 3, "segment.rules", &e), -1);
    s_assert_err(&e, INVALID, "segment.rules[1].value");
    r[1].value = (char *)"EUR";
    r[1].amount = -1;
    assert_int_equal(mkt_segment_rules_check(v, 3, "segment.rules", &e), -1);
    s_assert_err(&e, INVALID, "segment.rules[1].amount");
    r[1].amount = 0;
    r[2].value = (char *)"spring";
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), -1);
    s_assert_err(&e, INVALID, "rules[2].value");
    /* Support signals: complaints and open tickets take no operand; a
     * rating 1-5 with the scope "last" (or empty) or "any"; a tag. */
    r[2].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), -1);
    s_assert_err(&e, INVALID, "rules[2].value");
    assert_string_equal(e.message, "rule takes no operand");
    r[2].value = (char *)"";
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), 0);
    r[2].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_OPEN_TICKET;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), 0);
    r[2].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LOW_SATISFACTION;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), -1);
    s_assert_err(&e, INVALID, "rules[2].amount");
    r[2].amount = 5;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), 0);
    r[2].value = (char *)" any ";
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), 0);
    r[2].value = (char *)"all";
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), -1);
    s_assert_err(&e, INVALID, "rules[2].value");
    r[2].amount = 0;
    r[2].value = (char *)"";
    r[2].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_INTEREST_TAG;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), -1);
    s_assert_err(&e, INVALID, "rules[2].value");
    r[2].value = (char *)"lamps";
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), 0);
    r[2].kind = 77;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), -1);
    s_assert_err(&e, INVALID, "rules[2].kind");
    r[2].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_PERSON_KIND;
    r[2].amount = 99;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), -1);
    s_assert_err(&e, INVALID, "rules[2].amount");
    r[2].amount = 1;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), 0);
    r[2].kind = CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS;
    r[2].amount = 0;
    assert_int_equal(mkt_segment_rules_check(v, 3, "rules", &e), -1);
    s_assert_err(&e, INVALID, "rules[2].amount");

    Crm__V1__Segment g = CRM__V1__SEGMENT__INIT;
    g.name = (char *)" ";
    assert_int_equal(mkt_segment_check(&g, &e), -1);
    s_assert_err(&e, INVALID, "segment.name");
}

/* Offers, budgets and launching: marketing.campaign.offer|budget|launch. */
static void test_offer_budget_launch(void **state)
{
    (void)state;
    mkt_err_t e;
    char cur[4];
    const char *id = "0b6f7d2e-5d1a-4c43-9a71-0c1f0a7e6b21";
    Crm__V1__Offer o = CRM__V1__OFFER__INIT;
    Crm__V1__AddOfferRequest ao = CRM__V1__ADD_OFFER_REQUEST__INIT;
    ao.campaign_id = (char *)id;
    assert_int_equal(mkt_offer_check(&ao, &e), -1);
    s_assert_err(&e, INVALID, "offer");
    ao.offer = &o;
    assert_int_equal(mkt_offer_check(&ao, &e), -1);
    s_assert_err(&e, INVALID, "offer");
    o.product_code = (char *)" SKU-1 ";
    o.discount_percent = 101;
    assert_int_equal(mkt_offer_check(&ao, &e), -1);
    s_assert_err(&e, INVALID, "offer.discount_percent");
    o.discount_percent = 100;
    assert_int_equal(mkt_offer_check(&ao, &e), 0);
    ao.campaign_id = (char *)"nope";
    assert_int_equal(mkt_offer_check(&ao, &e), -1);
    s_assert_err(&e, INVALID, "campaign_id");

    Crm__V1__SetBudgetRequest b = CRM__V1__SET_BUDGET_REQUEST__INIT;
    b.id = (char *)id;
    b.budget_minor = -1;
    assert_int_equal(mkt_budget_check(&b, cur, &e), -1);
    s_assert_err(&e, INVALID, "budget_minor");
    b.budget_minor = 0; /* a zero budget is a budget */
    b.currency = (char *)"eur";
    assert_int_equal(mkt_budget_check(&b, cur, &e), 0);
    assert_string_equal(cur, "EUR");
    b.currency = (char *)"EURO";
    assert_int_equal(mkt_budget_check(&b, cur, &e), -1);
    s_assert_err(&e, INVALID, "currency");
    b.currency = (char *)"";
    b.overspend_policy = 7;
    assert_int_equal(mkt_budget_check(&b, cur, &e), -1);
    s_assert_err(&e, INVALID, "overspend_policy");

    assert_int_equal(
        mkt_campaign_open_check(CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_PAUSED, "budget", &e), 0);
    assert_int_equal(
        mkt_campaign_open_check(CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_CANCELLED, "budget", &e),
        -1);
    s_assert_err(&e, PRECONDITION, "id");
    assert_string_equal(e.message, "budget of a campaign that is over cannot change");

    assert_int_equal(mkt_launch_check(CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_DRAFT, 1, &e), 0);
    assert_int_equal(mkt_launch_check(CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_SCHEDULED, 2, &e),
                     0);
    assert_int_equal(mkt_launch_check(CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_DRAFT, 0, &e), -1);
    s_assert_err(&e, PRECONDITION, "id");
    assert_string_equal(e.message, "campaign has no message");
    assert_int_equal(mkt_launch_check(CRM__V1__CAMPAIGN_STATUS__CAMPAIGN_STATUS_RUNNING, 1, &e),
                     -1);
    s_assert_err(&e, PRECONDITION, "id");
}

/* The channel policy and consent requests (issue 13). */
static void test_consent_policy(void **state)
{
    (void)state;
    unsigned in = 0;
    char why[160];
    assert_int_equal(mkt_policy_parse(MKT_POLICY_DEFAULT, &in, why, sizeof why), 0);
    assert_int_equal(in, (1u << CRM__V1__CHANNEL__CHANNEL_EMAIL) |
                             (1u << CRM__V1__CHANNEL__CHANNEL_SMS) |
                             (1u << CRM__V1__CHANNEL__CHANNEL_FAX));
    assert_int_equal(mkt_policy_parse("post=opt-in, email=opt-out", &in, why, sizeof why), 0);
    assert_int_equal(in, 1u << CRM__V1__CHANNEL__CHANNEL_MAIL);
    assert_int_equal(mkt_policy_parse("", &in, why, sizeof why), 0);
    assert_int_equal(in, 0);
    assert_int_equal(mkt_policy_parse("email", &in, why, sizeof why), -1);
    assert_non_null(strstr(why, "CHANNEL=opt-in"));
    assert_int_equal(mkt_policy_parse("pigeon=opt-in", &in, why, sizeof why), -1);
    assert_non_null(strstr(why, "pigeon"));
    assert_int_equal(mkt_policy_parse("email=maybe", &in, why, sizeof why), -1);
    assert_non_null(strstr(why, "maybe"));
    assert_int_equal(mkt_consent_purpose(CRM__V1__CHANNEL__CHANNEL_FAX),
                     CRM__V1__CONSENT_PURPOSE__CONSENT_PURPOSE_FAX_MARKETING);
    assert_int_equal(mkt_consent_purpose(CRM__V1__CHANNEL__CHANNEL_MEETING), 0);

    mkt_err_t e;
    const int64_t now = INT64_C(1800000000000000);
    Crm__V1__RecordConsentRequest rq = CRM__V1__RECORD_CONSENT_REQUEST__INIT;
    rq.customer_id = "0b0e4c56-2f3a-4bde-9a43-6d1f0e7a9c21";
    rq.purpose = CRM__V1__CONSENT_PURPOSE__CONSENT_PURPOSE_PROFILING;
    rq.source = CRM__V1__CONSENT_SOURCE__CONSENT_SOURCE_IMPORT;
    rq.proof = "batch 7";
    assert_int_equal(mkt_consent_check(&rq, now, &e), 0);
    rq.at_us = now + INT64_C(30000000); /* clock skew */
    assert_int_equal(mkt_consent_check(&rq, now, &e), 0);
    rq.at_us = now + INT64_C(3600000000);
    assert_int_equal(mkt_consent_check(&rq, now, &e), -1);
    s_assert_err(&e, INVALID, "at_us");
    rq.at_us = 0;
    rq.purpose = 42;
    assert_int_equal(mkt_consent_check(&rq, now, &e), -1);
    s_assert_err(&e, INVALID, "purpose");
    rq.purpose = 0;
    assert_int_equal(mkt_consent_check(&rq, now, &e), -1);
    s_assert_err(&e, INVALID, "purpose");
    rq.purpose = CRM__V1__CONSENT_PURPOSE__CONSENT_PURPOSE_EMAIL_MARKETING;
    rq.source = 0;
    assert_int_equal(mkt_consent_check(&rq, now, &e), -1);
    s_assert_err(&e, INVALID, "source");
    rq.source = CRM__V1__CONSENT_SOURCE__CONSENT_SOURCE_FORM;
    rq.customer_id = "";
    assert_int_equal(mkt_consent_check(&rq, now, &e), -1);
    s_assert_err(&e, INVALID, "customer_id");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_div_round),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_expense_admit),
        cmocka_unit_test(test_campaign_check),
        cmocka_unit_test(test_expense_response_schedule),
        cmocka_unit_test(test_delivery_confirm_check),
        cmocka_unit_test(test_preferences_check),
        cmocka_unit_test(test_contact_channels),
        cmocka_unit_test(test_contact_window),
        cmocka_unit_test(test_channel_names),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_campaign_next),
        cmocka_unit_test(test_segment_rules),
        cmocka_unit_test(test_offer_budget_launch),
        cmocka_unit_test(test_consent_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
