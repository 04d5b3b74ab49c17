/* commands.c: the whole surface of crm-support on one screen: every
 * command it answers, with its request message and whether it only reads,
 * and every stream of other services' events it consumes. The handlers
 * are in handlers/, one file per aggregate. */
#include "support.h"

#include "handlers/handlers.h"

#include "crm/v1/person.pb-c.h"
#include <crm/identity.h>
#include <crm/util.h>

#include <ctype.h>
#include <string.h>

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
    /* handlers/erasure.c */
    S_CMD("support.person.export", export_person_request, support_person_export, 1, PERSONAL_DATA,
          READ),
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

/* ---- commands that may run interleaved (crm_command_keys_t) ------------- */

/* support.ticket.open reads its customer (by id, or by the requester's
 * email) and may register it: the key is the customer id, the one an email
 * maps to under the identity rule, so both ways of naming a customer meet. */
static int s_ticket_open_keys(const ProtobufCMessage *request, uint64_t *keys, int max)
{
    const Crm__V1__OpenTicketRequest *rq = (const void *)request;
    const Crm__V1__Ticket *t = rq ? rq->ticket : NULL;
    int n = 0;
    char id[CRM_UUID_LEN + 1], email[256];
    if (!t)
        return 0;
    if (*t->customer_id && n < max) {
        size_t len = strlen(t->customer_id);
        if (len > CRM_UUID_LEN)
            return -1;
        for (size_t i = 0; i <= len; i++)
            id[i] = (char)tolower((unsigned char)t->customer_id[i]);
        keys[n++] = crm_hash64(CRM_HASH_SEED, id, len);
    }
    if (*t->requester_email && crm_email_normalize(t->requester_email, email, sizeof email) == 0) {
        if (n >= max)
            return -1;
        crm_customer_id_for_email(email, id);
        keys[n++] = crm_hash64(CRM_HASH_SEED, id, strlen(id));
    }
    return n;
}

const crm_command_keys_t support_command_keys[] = {
    {"support.ticket.open", s_ticket_open_keys},
    {NULL, NULL},
};

/* Commands with a set-based form (handlers/ticket_run.c). */
const crm_command_batch_t support_command_batches[] = {
    {"support.ticket.open", support_ticket_open_run},
    {NULL, NULL},
};
