/* handlers/message.c: a campaign's message templates, one per channel
 * (marketing.message.set), and their preview for one customer. */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>

static void s_message_saved(crm_work_t *w, PGresult *res)
{
    Crm__V1__MessageReply r = CRM__V1__MESSAGE_REPLY__INIT;
    if ((r.template_ = crm_work_returned(w, &crm__v1__message_template__descriptor, res)))
        crm_work_ok(w, &r.base);
}

static void s_message_campaign(crm_work_t *w, PGresult *res)
{
    const Crm__V1__SetMessageRequest *rq = (const void *)crm_work_request(w);
    int ch[MKT_LIST_MAX];
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "template.campaign_id", "campaign", rq->template_->campaign_id,
                                MKT_CAMPAIGN_HINT);
        return;
    }
    size_t n = mkt_channels_parse(PQgetvalue(res, 0, 6), ch, MKT_LIST_MAX), i = 0;
    while (i < n && ch[i] != (int)rq->template_->channel)
        i++;
    if (i == n) {
        /* The channels by name ("email, sms"), not as the stored array. */
        char uses[160] = "", detail[256];
        for (size_t k = 0, at = 0; k < n && at < sizeof uses; k++)
            at += (size_t)snprintf(uses + at, sizeof uses - at, "%s%s", k ? ", " : "",
                                   mkt_channel_name(ch[k]));
        snprintf(detail, sizeof detail, "got %s; the campaign uses %s",
                 mkt_channel_name((int)rq->template_->channel), *uses ? uses : "no channel");
        crm_work_fail(w, MKT_CODE(INVALID_ARGUMENT), "template.channel",
                      "channel is not one of the campaign's", detail,
                      "send a template for a channel the campaign uses");
        return;
    }
    mkt_store_message_put(w, rq->template_, s_message_saved);
}

void mkt_message_set(crm_work_t *w)
{
    const Crm__V1__SetMessageRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_message_check(rq->template_, &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_campaign_get(w, rq->template_->campaign_id, 0, s_message_campaign);
}

static void s_message_values(crm_work_t *w, PGresult *res)
{
    const Crm__V1__PreviewMessageRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__PreviewMessageReply r = CRM__V1__PREVIEW_MESSAGE_REPLY__INIT;
    if (PQntuples(res) == 0) {
        char detail[160];
        snprintf(detail, sizeof detail, "campaign \"%s\" has no %s message", rq->campaign_id,
                 mkt_channel_name((int)rq->channel));
        crm_work_fail(w, MKT_CODE(NOT_FOUND), "channel", "message does not exist", detail,
                      "save one with marketing.message.set");
        return;
    }
    const char *values[MKT_FIELD_COUNT];
    for (int i = 0; i < MKT_FIELD_COUNT; i++)
        values[i] = PQgetvalue(res, 0, 2 + i);
    char *subject = mkt_render(PQgetvalue(res, 0, 0), values);
    char *body = mkt_render(PQgetvalue(res, 0, 1), values);
    r.subject = subject ? crm_work_strdup(w, subject) : NULL;
    r.body = body ? crm_work_strdup(w, body) : NULL;
    free(subject);
    free(body);
    if (!r.subject || !r.body) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_ok(w, &r.base);
}

void mkt_message_preview(crm_work_t *w)
{
    const Crm__V1__PreviewMessageRequest *rq = (const void *)crm_work_request(w);
    mkt_err_t e;
    if (mkt_check_id(rq->campaign_id, 1, "campaign_id", &e) < 0 ||
        mkt_check_enum(&crm__v1__channel__descriptor, (int)rq->channel, 0, "channel", &e) < 0 ||
        mkt_check_id(rq->customer_id, 1, "customer_id", &e) < 0) {
        mkt_fail(w, &e);
        return;
    }
    mkt_store_message_values(w, rq->campaign_id, (int)rq->channel, rq->customer_id,
                             s_message_values);
}
