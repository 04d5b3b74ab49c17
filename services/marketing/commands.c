/* commands.c: the whole surface of marketing on one screen: every command
 * it answers and every stream it consumes, with the function that handles
 * each (declared in marketing.h, defined in handlers/). */
#include "marketing.h"

#include "crm/v1/marketing.pb-c.h"
#include "crm/v1/person.pb-c.h"

/* rec, act: the record type and action the roles must grant
 * (crm/access.h). */
#define S_CMD(name, msg, fn, ro, rec, act)                                                         \
    {                                                                                              \
        name, &crm__v1__##msg##__descriptor, fn, ro, CRM_REC_##rec, CRM_ACT_##act                  \
    }

const crm_command_def_t mkt_commands[] = {
    S_CMD("marketing.campaign.create", create_campaign_request, mkt_campaign_create, 0, CAMPAIGN,
          CREATE),
    S_CMD("marketing.campaign.show", show_campaign_request, mkt_campaign_show, 1, CAMPAIGN, READ),
    S_CMD("marketing.campaign.list", list_campaigns_request, mkt_campaign_list, 1, CAMPAIGN, READ),
    S_CMD("marketing.campaign.schedule", schedule_campaign_request, mkt_campaign_schedule, 0,
          CAMPAIGN, EDIT),
    S_CMD("marketing.campaign.target", target_campaign_request, mkt_campaign_target, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.campaign.pause", campaign_action_request, mkt_campaign_pause, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.campaign.resume", campaign_action_request, mkt_campaign_resume, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.campaign.cancel", campaign_action_request, mkt_campaign_cancel, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.campaign.complete", campaign_action_request, mkt_campaign_complete, 0,
          CAMPAIGN, EDIT),
    S_CMD("marketing.campaign.launch", campaign_action_request, mkt_campaign_launch, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.campaign.offer", add_offer_request, mkt_campaign_offer, 0, CAMPAIGN, EDIT),
    S_CMD("marketing.campaign.budget", set_budget_request, mkt_campaign_budget, 0, CAMPAIGN, EDIT),
    S_CMD("marketing.campaign.exclude", exclude_segment_request, mkt_campaign_exclude, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.campaign.results", campaign_results_request, mkt_campaign_results, 1, CAMPAIGN,
          READ),
    S_CMD("marketing.campaign.compare", compare_campaigns_request, mkt_campaign_compare, 1,
          CAMPAIGN, READ),
    S_CMD("marketing.expense.record", record_expense_request, mkt_expense_record, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.expense.void", void_expense_request, mkt_expense_void, 0, CAMPAIGN, EDIT),
    S_CMD("marketing.delivery.confirm", confirm_delivery_request, mkt_delivery_confirm, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.expense.list", list_expenses_request, mkt_expense_list, 1, CAMPAIGN, READ),
    S_CMD("marketing.preference.set", set_preferences_request, mkt_pref_set, 0, PREFERENCE, EDIT),
    S_CMD("marketing.preference.show", show_preferences_request, mkt_pref_show, 1, PREFERENCE,
          READ),
    S_CMD("marketing.consent.grant", record_consent_request, mkt_consent_grant, 0, PREFERENCE,
          EDIT),
    S_CMD("marketing.consent.withdraw", record_consent_request, mkt_consent_withdraw, 0, PREFERENCE,
          EDIT),
    S_CMD("marketing.consent.history", consent_history_request, mkt_consent_history, 1, PREFERENCE,
          READ),
    S_CMD("marketing.response.record", record_response_request, mkt_response_record, 0, CAMPAIGN,
          EDIT),
    S_CMD("marketing.message.set", set_message_request, mkt_message_set, 0, CAMPAIGN, EDIT),
    S_CMD("marketing.message.preview", preview_message_request, mkt_message_preview, 1, CAMPAIGN,
          READ),
    S_CMD("marketing.segment.create", create_segment_request, mkt_segment_create, 0, SEGMENT,
          CREATE),
    S_CMD("marketing.segment.list", list_segments_request, mkt_segment_list, 1, SEGMENT, READ),
    S_CMD("marketing.segment.preview", preview_segment_request, mkt_segment_preview, 1, SEGMENT,
          READ),
    S_CMD("marketing.segment.members", segment_members_request, mkt_segment_members, 1, SEGMENT,
          READ),
    /* handlers/erasure.c */
    S_CMD("marketing.person.export", export_person_request, mkt_person_export, 1, PERSONAL_DATA,
          READ),
    /* The HTTP gateway's tracking links: the signed token is what
     * authorises the response; the gateway's principal needs
     * tracking.create (the built-in role "gateway"). */
    S_CMD("marketing.track.open", track_request, mkt_track_open, 0, TRACKING, CREATE),
    S_CMD("marketing.track.click", track_request, mkt_track_click, 0, TRACKING, CREATE),
    S_CMD("marketing.track.unsubscribe", track_request, mkt_track_unsubscribe, 0, TRACKING, CREATE),
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};

static const char *const s_people_prefixes[] = {"crm.sales.person.", "crm.support.person.", NULL};
static const char *const s_order_prefixes[] = {"crm.sales.order.placed.", NULL};
static const char *const s_support_prefixes[] = {"crm.support.ticket.", "crm.support.feedback.",
                                                 NULL};

const crm_consumer_def_t mkt_consumers[] = {
    {"marketing.people", s_people_prefixes, mkt_people_apply},
    {"marketing.orders", s_order_prefixes, mkt_orders_apply},
    {"marketing.support", s_support_prefixes, mkt_support_apply},
    {NULL, NULL, NULL},
};
