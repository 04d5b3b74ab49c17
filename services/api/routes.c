/* routes.c: the HTTP surface of crm-api as one table, like the services'
 * command tables: each row maps a method and a path template to the owning
 * service's command with its request and reply messages. Path parameters
 * ({id}) set request fields of the same name; a body_field makes the JSON
 * body one field of the request (POST /v1/people takes a Person);
 * everything else (JSON in the protobuf mapping, Idempotency-Key, ETag and
 * If-Match, paging, problems) is the same for every row (gateway.c), and
 * the OpenAPI document is generated from this table (openapi.c). The
 * commands are the ones crmctl uses. */
#include "api.h"

#include <string.h>

#include "crm/v1/analytics.pb-c.h"
#include "crm/v1/marketing.pb-c.h"
#include "crm/v1/person.pb-c.h"
#include "crm/v1/sales.pb-c.h"
#include "crm/v1/support.pb-c.h"
#include "crm/v1/webhooks.pb-c.h"

#define R(m, p, svc, cmd, rq, rp, body, fl, rd, tag, sum)                                          \
    {                                                                                              \
        m, p, svc, cmd, &crm__v1__##rq##__descriptor, &crm__v1__##rp##__descriptor, body, fl, rd,  \
            tag, sum                                                                               \
    }
#define C API_R_CREATE
#define L (API_R_LIST | API_R_QUERY)
#define RD API_R_READ
#define M API_R_MATCH

const api_route_t api_routes[] = {
    /* sales: people */
    R("POST", "/v1/people", "sales", "sales.person.register", register_person_request, person_reply,
      "person", C, NULL, "people", "register a person (an email known returns it)"),
    R("GET", "/v1/people", "sales", "sales.person.list", list_people_request, list_people_reply,
      NULL, L, NULL, "people", "list people, one page"),
    R("GET", "/v1/people/{id}", "sales", "sales.person.show", show_person_request, person_reply,
      NULL, RD, NULL, "people", "show a person"),
    R("PATCH", "/v1/people/{id}", "sales", "sales.person.update", update_person_request,
      person_reply, "person", M | API_R_MASK, "sales.person.show", "people",
      "update the fields given of a person"),
    /* personal data: erasure, and each service's part of an export (the
     * whole document is the four parts; crmctl person export joins them) */
    R("POST", "/v1/people/{id}/erase", "sales", "sales.person.erase", erase_person_request,
      erase_person_reply, NULL, 0, NULL, "personal-data",
      "erase a person everywhere, the event log included"),
    R("GET", "/v1/people/{id}/export/sales", "sales", "sales.person.export", export_person_request,
      export_person_reply, NULL, 0, NULL, "personal-data", "what sales keeps about a person"),
    R("GET", "/v1/people/{id}/export/marketing", "marketing", "marketing.person.export",
      export_person_request, export_person_reply, NULL, 0, NULL, "personal-data",
      "what marketing keeps about a person"),
    R("GET", "/v1/people/{id}/export/support", "support", "support.person.export",
      export_person_request, export_person_reply, NULL, 0, NULL, "personal-data",
      "what support keeps about a person"),
    R("GET", "/v1/people/{id}/export/analytics", "analytics", "analytics.person.export",
      export_person_request, export_person_reply, NULL, 0, NULL, "personal-data",
      "what analytics keeps about a person"),
    /* organisations */
    R("POST", "/v1/organizations", "sales", "sales.org.create", create_organization_request,
      organization_reply, "organization", C, NULL, "organizations", "create an organisation"),
    R("GET", "/v1/organizations", "sales", "sales.org.list", list_organizations_request,
      list_organizations_reply, NULL, L, NULL, "organizations", "list organisations"),
    R("GET", "/v1/organizations/{id}", "sales", "sales.org.show", show_organization_request,
      organization_reply, NULL, RD, NULL, "organizations", "show an organisation and its people"),
    /* leads */
    R("POST", "/v1/leads", "sales", "sales.lead.create", create_lead_request, lead_reply, "lead", C,
      NULL, "leads", "create a lead"),
    R("GET", "/v1/leads", "sales", "sales.lead.list", list_leads_request, list_leads_reply, NULL, L,
      NULL, "leads", "list leads"),
    R("POST", "/v1/leads/{id}/qualify", "sales", "sales.lead.qualify", qualify_lead_request,
      lead_reply, NULL, 0, NULL, "leads", "qualify a lead"),
    R("POST", "/v1/leads/{id}/convert", "sales", "sales.lead.convert", convert_lead_request,
      convert_lead_reply, NULL, 0, NULL, "leads",
      "convert a lead into a person, an organisation and a deal"),
    R("POST", "/v1/leads/{id}/disqualify", "sales", "sales.lead.disqualify",
      disqualify_lead_request, lead_reply, NULL, 0, NULL, "leads", "disqualify a lead"),
    /* pipelines and deals */
    R("POST", "/v1/pipelines", "sales", "sales.pipeline.create", create_pipeline_request,
      pipeline_reply, "pipeline", C, NULL, "deals", "create a pipeline"),
    R("GET", "/v1/pipelines", "sales", "sales.pipeline.list", list_pipelines_request,
      list_pipelines_reply, NULL, API_R_QUERY, NULL, "deals", "list pipelines"),
    R("POST", "/v1/pipelines/{pipeline_id}/stage-renames", "sales", "sales.pipeline.stage.rename",
      rename_stage_request, pipeline_reply, NULL, 0, NULL, "deals", "rename a pipeline's stage"),
    R("POST", "/v1/deals", "sales", "sales.deal.create", create_deal_request, deal_reply, "deal", C,
      NULL, "deals", "create a deal"),
    R("GET", "/v1/deals", "sales", "sales.deal.list", list_deals_request, list_deals_reply, NULL, L,
      NULL, "deals", "list deals"),
    R("GET", "/v1/deals/{id}", "sales", "sales.deal.show", show_deal_request, deal_reply, NULL, RD,
      NULL, "deals", "show a deal"),
    R("POST", "/v1/deals/{id}/stage", "sales", "sales.deal.stage", move_deal_request, deal_reply,
      NULL, M, "sales.deal.show", "deals", "move a deal to another stage"),
    R("POST", "/v1/deals/{id}/win", "sales", "sales.deal.win", win_deal_request, deal_reply, NULL,
      M, "sales.deal.show", "deals", "mark a deal won"),
    R("POST", "/v1/deals/{id}/lose", "sales", "sales.deal.lose", lose_deal_request, deal_reply,
      NULL, M, "sales.deal.show", "deals", "mark a deal lost"),
    /* orders and activities */
    R("POST", "/v1/orders", "sales", "sales.order.create", create_order_request, order_reply,
      "order", C, NULL, "orders", "record an order"),
    R("GET", "/v1/orders", "sales", "sales.order.list", list_orders_request, list_orders_reply,
      NULL, L, NULL, "orders", "list orders"),
    R("POST", "/v1/orders/{order_id}/refunds", "sales", "sales.order.refund", refund_order_request,
      refund_order_reply, NULL, 0, NULL, "orders", "refund an order, whole or by line"),
    R("POST", "/v1/orders/{order_id}/cancel", "sales", "sales.order.cancel", cancel_order_request,
      refund_order_reply, NULL, 0, NULL, "orders", "cancel an order"),
    R("POST", "/v1/activities", "sales", "sales.activity.log", log_activity_request, activity_reply,
      NULL, C, NULL, "activities", "log an activity that happened"),
    R("POST", "/v1/activities/scheduled", "sales", "sales.activity.schedule", log_activity_request,
      activity_reply, NULL, C, NULL, "activities", "schedule an activity"),
    R("POST", "/v1/activities/{id}/complete", "sales", "sales.activity.complete",
      complete_activity_request, activity_reply, NULL, 0, NULL, "activities",
      "complete an activity"),
    R("GET", "/v1/activities", "sales", "sales.activity.list", list_activities_request,
      list_activities_reply, NULL, L, NULL, "activities", "list activities"),
    /* marketing: campaigns */
    R("POST", "/v1/campaigns", "marketing", "marketing.campaign.create", create_campaign_request,
      campaign_reply, "campaign", C, NULL, "campaigns", "create a campaign"),
    R("GET", "/v1/campaigns", "marketing", "marketing.campaign.list", list_campaigns_request,
      list_campaigns_reply, NULL, L, NULL, "campaigns", "list campaigns"),
    R("GET", "/v1/campaigns/{id}", "marketing", "marketing.campaign.show", show_campaign_request,
      campaign_reply, NULL, RD, NULL, "campaigns", "show a campaign, its offers and budget"),
    R("POST", "/v1/campaigns/{campaign_id}/offers", "marketing", "marketing.campaign.offer",
      add_offer_request, campaign_reply, "offer", 0, NULL, "campaigns", "add an offer"),
    R("PUT", "/v1/campaigns/{id}/budget", "marketing", "marketing.campaign.budget",
      set_budget_request, campaign_reply, NULL, M, "marketing.campaign.show", "campaigns",
      "set the budget"),
    R("POST", "/v1/campaigns/{id}/schedule", "marketing", "marketing.campaign.schedule",
      schedule_campaign_request, campaign_reply, NULL, M, "marketing.campaign.show", "campaigns",
      "schedule a campaign"),
    R("POST", "/v1/campaigns/{id}/launch", "marketing", "marketing.campaign.launch",
      campaign_action_request, campaign_reply, NULL, M, "marketing.campaign.show", "campaigns",
      "launch a campaign"),
    R("POST", "/v1/campaigns/{id}/pause", "marketing", "marketing.campaign.pause",
      campaign_action_request, campaign_reply, NULL, M, "marketing.campaign.show", "campaigns",
      "pause a campaign"),
    R("POST", "/v1/campaigns/{id}/resume", "marketing", "marketing.campaign.resume",
      campaign_action_request, campaign_reply, NULL, M, "marketing.campaign.show", "campaigns",
      "resume a campaign"),
    R("POST", "/v1/campaigns/{id}/complete", "marketing", "marketing.campaign.complete",
      campaign_action_request, campaign_reply, NULL, M, "marketing.campaign.show", "campaigns",
      "complete a campaign"),
    R("POST", "/v1/campaigns/{id}/cancel", "marketing", "marketing.campaign.cancel",
      campaign_action_request, campaign_reply, NULL, M, "marketing.campaign.show", "campaigns",
      "cancel a campaign"),
    R("POST", "/v1/campaigns/{campaign_id}/targets", "marketing", "marketing.campaign.target",
      target_campaign_request, target_campaign_reply, NULL, 0, NULL, "campaigns",
      "add a segment's members as recipients"),
    R("POST", "/v1/campaigns/{campaign_id}/exclusions", "marketing", "marketing.campaign.exclude",
      exclude_segment_request, campaign_reply, NULL, 0, NULL, "campaigns", "exclude a segment"),
    R("POST", "/v1/expenses", "marketing", "marketing.expense.record", record_expense_request,
      expense_reply, "expense", C, NULL, "campaigns", "record a campaign expense"),
    R("GET", "/v1/campaigns/{campaign_id}/expenses", "marketing", "marketing.expense.list",
      list_expenses_request, list_expenses_reply, NULL, L, NULL, "campaigns", "list expenses"),
    R("POST", "/v1/expenses/{id}/void", "marketing", "marketing.expense.void", void_expense_request,
      expense_reply, NULL, 0, NULL, "campaigns", "void an expense (a reversing entry)"),
    R("POST", "/v1/deliveries/confirm", "marketing", "marketing.delivery.confirm",
      confirm_delivery_request, confirm_delivery_reply, NULL, 0, NULL, "campaigns",
      "record a gateway's report on an SMS, fax, letter or call (once)"),
    R("PUT", "/v1/messages", "marketing", "marketing.message.set", set_message_request,
      message_reply, "template", 0, NULL, "campaigns", "set a campaign's message for a channel"),
    R("GET", "/v1/campaigns/{campaign_id}/preview", "marketing", "marketing.message.preview",
      preview_message_request, preview_message_reply, NULL, API_R_QUERY, NULL, "campaigns",
      "preview a campaign's message for a customer"),
    R("GET", "/v1/campaigns/{id}/results", "marketing", "marketing.campaign.results",
      campaign_results_request, campaign_results_reply, NULL, 0, NULL, "campaigns",
      "a campaign's results"),
    R("GET", "/v1/campaign-comparison", "marketing", "marketing.campaign.compare",
      compare_campaigns_request, compare_campaigns_reply, NULL, API_R_QUERY, NULL, "campaigns",
      "compare campaigns"),
    R("POST", "/v1/responses", "marketing", "marketing.response.record", record_response_request,
      response_reply, "response", C, NULL, "campaigns", "record a campaign response"),
    /* segments and preferences */
    R("POST", "/v1/segments", "marketing", "marketing.segment.create", create_segment_request,
      segment_reply, "segment", C, NULL, "segments", "create a segment"),
    R("GET", "/v1/segments", "marketing", "marketing.segment.list", list_segments_request,
      list_segments_reply, NULL, 0, NULL, "segments", "list segments"),
    R("GET", "/v1/segments/{id}/members", "marketing", "marketing.segment.members",
      segment_members_request, preview_segment_reply, NULL, API_R_QUERY, NULL, "segments",
      "a segment's members"),
    R("PUT", "/v1/preferences/{customer_id}", "marketing", "marketing.preference.set",
      set_preferences_request, preferences_reply, "preferences", 0, NULL, "preferences",
      "set a customer's contact preferences and consent"),
    R("GET", "/v1/preferences/{customer_id}", "marketing", "marketing.preference.show",
      show_preferences_request, preferences_reply, NULL, RD, NULL, "preferences",
      "show a customer's contact preferences"),
    R("POST", "/v1/consent/{customer_id}/grants", "marketing", "marketing.consent.grant",
      record_consent_request, consent_reply, NULL, C, NULL, "preferences",
      "record a consent for a purpose"),
    R("POST", "/v1/consent/{customer_id}/withdrawals", "marketing", "marketing.consent.withdraw",
      record_consent_request, consent_reply, NULL, C, NULL, "preferences",
      "record the withdrawal of a consent"),
    R("GET", "/v1/consent/{customer_id}", "marketing", "marketing.consent.history",
      consent_history_request, consent_history_reply, NULL, RD, NULL, "preferences",
      "a customer's consent ledger, oldest first"),
    /* support: tickets, SLA and calendars */
    R("POST", "/v1/tickets", "support", "support.ticket.open", open_ticket_request, ticket_reply,
      "ticket", C, NULL, "tickets", "open a ticket"),
    R("GET", "/v1/tickets", "support", "support.ticket.list", list_tickets_request,
      list_tickets_reply, NULL, L, NULL, "tickets", "list tickets"),
    R("GET", "/v1/tickets/{id}", "support", "support.ticket.show", show_ticket_request,
      ticket_reply, NULL, RD, NULL, "tickets", "show a ticket"),
    R("POST", "/v1/tickets/{id}/assign", "support", "support.ticket.assign", assign_ticket_request,
      ticket_reply, NULL, M, "support.ticket.show", "tickets", "assign a ticket"),
    R("POST", "/v1/tickets/{id}/priority", "support", "support.ticket.prioritize",
      set_ticket_priority_request, ticket_reply, NULL, M, "support.ticket.show", "tickets",
      "set a ticket's priority"),
    R("POST", "/v1/tickets/{id}/replies", "support", "support.ticket.reply",
      add_ticket_message_request, ticket_reply, NULL, 0, NULL, "tickets", "reply to the customer"),
    R("POST", "/v1/tickets/{id}/notes", "support", "support.ticket.note",
      add_ticket_message_request, ticket_reply, NULL, 0, NULL, "tickets", "add an internal note"),
    R("POST", "/v1/tickets/{id}/resolve", "support", "support.ticket.resolve",
      resolve_ticket_request, ticket_reply, NULL, M, "support.ticket.show", "tickets",
      "resolve a ticket"),
    R("POST", "/v1/tickets/{id}/close", "support", "support.ticket.close",
      change_ticket_status_request, ticket_reply, NULL, M, "support.ticket.show", "tickets",
      "close a ticket"),
    R("POST", "/v1/tickets/{id}/reopen", "support", "support.ticket.reopen",
      change_ticket_status_request, ticket_reply, NULL, M, "support.ticket.show", "tickets",
      "reopen a ticket"),
    R("POST", "/v1/tickets/{id}/rating", "support", "support.ticket.rate", rate_ticket_request,
      ticket_reply, NULL, 0, NULL, "tickets", "record the customer's rating"),
    R("PUT", "/v1/sla-policies", "support", "support.sla.policy.set", set_sla_policy_request,
      sla_policy_reply, "policy", 0, NULL, "sla", "set an SLA policy"),
    R("GET", "/v1/sla-policies", "support", "support.sla.policy.list", list_sla_policies_request,
      list_sla_policies_reply, NULL, 0, NULL, "sla", "list SLA policies"),
    R("PUT", "/v1/business-calendar", "support", "support.sla.calendar.set",
      set_business_calendar_request, business_calendar_reply, "calendar", 0, NULL, "sla",
      "set the business calendar"),
    R("GET", "/v1/business-calendar", "support", "support.sla.calendar.show",
      show_business_calendar_request, business_calendar_reply, NULL, RD, NULL, "sla",
      "show the business calendar"),
    R("GET", "/v1/reports/support", "support", "support.report.figures", support_figures_request,
      support_figures_reply, NULL, API_R_QUERY, NULL, "sla",
      "CSAT, SLA compliance, backlog, load per agent and team"),
    /* analytics: customer 360, timeline, as-of, reports */
    R("GET", "/v1/customers/{customer_id}", "analytics", "analytics.customer.show", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics",
      "customer 360 (as_of_us for the profile as it stood then)"),
    R("GET", "/v1/customers/{customer_id}/timeline", "analytics", "analytics.customer.timeline",
      analytics_query, analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics",
      "a customer's timeline"),
    R("GET", "/v1/reports/kpis", "analytics", "analytics.report.kpis", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics", "KPIs"),
    R("GET", "/v1/reports/health", "analytics", "analytics.report.health", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics", "customer health"),
    R("GET", "/v1/reports/potential", "analytics", "analytics.report.potential", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics", "high sales potential"),
    R("GET", "/v1/reports/pipeline", "analytics", "analytics.report.pipeline", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics", "pipeline"),
    R("GET", "/v1/reports/forecast", "analytics", "analytics.report.forecast", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics", "forecast"),
    R("GET", "/v1/reports/weekly-activity", "analytics", "analytics.report.weekly_activity",
      analytics_query, analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics",
      "weekly activity per rep"),
    R("GET", "/v1/reports/campaigns", "analytics", "analytics.report.campaigns", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics", "campaign results"),
    R("GET", "/v1/reports/data-quality", "analytics", "analytics.report.data_quality",
      analytics_query, analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics",
      "data quality"),
    R("GET", "/v1/reports/trends", "analytics", "analytics.report.trends", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics",
      "customers, revenue, churn rate and retention per period"),
    R("GET", "/v1/reports/channels", "analytics", "analytics.report.channels", analytics_query,
      analytics_report_reply, NULL, API_R_QUERY, NULL, "analytics",
      "average LTV and CAC per acquisition channel"),
    R("POST", "/v1/data-quality/resolutions", "analytics", "analytics.data_quality.resolve",
      data_quality_resolve_request, data_quality_resolve_reply, NULL, C, NULL, "analytics",
      "resolve a duplicate finding as merged or not a duplicate"),
    /* webhooks (crm-webhooks; docs/events.md, "Webhooks") */
    R("POST", "/v1/webhooks", "webhooks", "webhooks.subscription.create",
      create_webhook_subscription_request, webhook_subscription_reply, NULL, C, NULL, "webhooks",
      "subscribe a URL to event types (the secret is shown once)"),
    R("GET", "/v1/webhooks", "webhooks", "webhooks.subscription.list",
      list_webhook_subscriptions_request, list_webhook_subscriptions_reply, NULL, L, NULL,
      "webhooks", "list subscriptions"),
    R("GET", "/v1/webhooks/{id}", "webhooks", "webhooks.subscription.get",
      webhook_subscription_id_request, webhook_subscription_reply, NULL, RD, NULL, "webhooks",
      "show a subscription"),
    R("PATCH", "/v1/webhooks/{id}", "webhooks", "webhooks.subscription.update",
      update_webhook_subscription_request, webhook_subscription_reply, NULL, M,
      "webhooks.subscription.get", "webhooks", "enable, disable or change a subscription"),
    R("DELETE", "/v1/webhooks/{id}", "webhooks", "webhooks.subscription.delete",
      webhook_subscription_id_request, delete_webhook_subscription_reply, NULL, 0, NULL, "webhooks",
      "delete a subscription and its pending deliveries"),
    R("GET", "/v1/webhooks/{subscription_id}/deliveries", "webhooks", "webhooks.delivery.list",
      list_webhook_deliveries_request, list_webhook_deliveries_reply, NULL, L, NULL, "webhooks",
      "a subscription's deliveries (status=FAILED for the failed ones)"),
    R("POST", "/v1/webhook-deliveries/{id}/retry", "webhooks", "webhooks.delivery.retry",
      retry_webhook_delivery_request, retry_webhook_delivery_reply, NULL, 0, NULL, "webhooks",
      "retry a failed delivery"),
    /* the gateway's own: sessions and the event feed (gateway.c, events.c) */
    R("POST", "/v1/sessions", "", "gateway.session.create", create_session_request, session_reply,
      NULL, C, NULL, "sessions",
      "start a staff session with a principal and password, or a token (the answer sets the "
      "crm_session cookie)"),
    R("GET", "/v1/sessions/current", "", "gateway.session.current", list_tokens_request,
      current_session_reply, NULL, 0, NULL, "sessions",
      "who this session or token acts as, and their roles"),
    R("DELETE", "/v1/sessions/current", "", "gateway.session.delete", list_tokens_request,
      session_reply, NULL, 0, NULL, "sessions", "end the session of this request"),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL},
};

/* Matches one path against a template; fills params. */
static int s_match(const char *tpl, const char *path, char *scratch, size_t len,
                   const char *params[8], size_t *n)
{
    size_t used = 0;
    *n = 0;
    while (*tpl && *path) {
        if (*tpl != '/' || *path != '/')
            return 0;
        tpl++;
        path++;
        size_t tl = strcspn(tpl, "/"), pl = strcspn(path, "/");
        if (*tpl == '{') {
            if (pl == 0 || *n >= 4 || used + (tl - 2) + pl + 2 > len)
                return 0;
            char *name = scratch + used;
            memcpy(name, tpl + 1, tl - 2);
            name[tl - 2] = '\0';
            used += tl - 1;
            char *value = scratch + used;
            memcpy(value, path, pl);
            value[pl] = '\0';
            used += pl + 1;
            params[2 * *n] = name;
            params[2 * *n + 1] = value;
            (*n)++;
        } else if (tl != pl || strncmp(tpl, path, tl) != 0) {
            return 0;
        }
        tpl += tl;
        path += pl;
    }
    return *tpl == '\0' && *path == '\0';
}

const api_route_t *api_route_find(const char *method, const char *path, char *scratch,
                                  size_t scratch_len, const char *params[8], size_t *nparams,
                                  int *path_known)
{
    *path_known = 0;
    for (const api_route_t *r = api_routes; r->method; r++) {
        if (!s_match(r->path, path, scratch, scratch_len, params, nparams))
            continue;
        if (!strcmp(r->method, method))
            return r;
        *path_known = 1;
    }
    *nparams = 0;
    return NULL;
}
