/* commands.c: the whole surface of crm-support on one screen: every
 * command it answers, with its request message and whether it only reads,
 * and every stream of other services' events it consumes. The handlers
 * are in handlers/, one file per aggregate. */
#include "support.h"

#include "handlers/handlers.h"

/* rec, act: the record type and action the roles must grant
 * (crm/access.h). */
#define S_CMD(name, msg, fn, ro, rec, act)                                                         \
    {                                                                                              \
        name, &crm__v1__##msg##__descriptor, fn, ro, CRM_REC_##rec, CRM_ACT_##act                  \
    }

const crm_command_def_t support_commands[] = {
    /* handlers/ticket.c */
    S_CMD("support.ticket.open", open_ticket_request, support_ticket_open, 0, TICKET, CREATE),
    S_CMD("support.ticket.show", show_ticket_request, support_ticket_show, 1, TICKET, READ),
    S_CMD("support.ticket.list", list_tickets_request, support_ticket_list, 1, TICKET, READ),
    S_CMD("support.ticket.assign", assign_ticket_request, support_ticket_assign, 0, TICKET, EDIT),
    /* handlers/message.c */
    S_CMD("support.ticket.reply", add_ticket_message_request, support_ticket_reply, 0, TICKET,
          EDIT),
    S_CMD("support.ticket.note", add_ticket_message_request, support_ticket_note, 0, TICKET, EDIT),
    /* handlers/ticket_status.c */
    S_CMD("support.ticket.pend", change_ticket_status_request, support_ticket_pend, 0, TICKET,
          EDIT),
    S_CMD("support.ticket.hold", change_ticket_status_request, support_ticket_hold, 0, TICKET,
          EDIT),
    S_CMD("support.ticket.resolve", resolve_ticket_request, support_ticket_resolve, 0, TICKET,
          EDIT),
    S_CMD("support.ticket.reopen", change_ticket_status_request, support_ticket_reopen, 0, TICKET,
          EDIT),
    S_CMD("support.ticket.close", change_ticket_status_request, support_ticket_close, 0, TICKET,
          EDIT),
    /* handlers/rating.c */
    S_CMD("support.ticket.rate", rate_ticket_request, support_ticket_rate, 0, TICKET, EDIT),
    /* handlers/ticket.c */
    S_CMD("support.ticket.prioritize", set_ticket_priority_request, support_ticket_prioritize, 0,
          TICKET, EDIT),
    /* handlers/message.c */
    S_CMD("support.email.receive", receive_email_request, support_email_receive, 0, TICKET, CREATE),
    /* handlers/sla.c */
    S_CMD("support.sla.policy.set", set_sla_policy_request, support_sla_policy_set, 0, CONFIG,
          EDIT),
    S_CMD("support.sla.policy.list", list_sla_policies_request, support_sla_policy_list, 1, CONFIG,
          READ),
    S_CMD("support.sla.calendar.set", set_business_calendar_request, support_sla_calendar_set, 0,
          CONFIG, EDIT),
    S_CMD("support.sla.calendar.show", show_business_calendar_request, support_sla_calendar_show, 1,
          CONFIG, READ),
    /* handlers/figures.c */
    S_CMD("support.report.figures", support_figures_request, support_report_figures, 1, REPORT,
          READ),
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};

/* handlers/consumers.c */
static const char *const s_people_prefixes[] = {"crm.sales.person.", "crm.marketing.person.", NULL};

static const char *const s_preferences_prefixes[] = {"crm.marketing.preferences.", NULL};

const crm_consumer_def_t support_consumers[] = {
    {"support.people", s_people_prefixes, support_people_apply},
    {"support.preferences", s_preferences_prefixes, support_preferences_apply},
    {NULL, NULL, NULL},
};
