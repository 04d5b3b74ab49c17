/* demo_support.c: the help desk part of `crmctl demo load`: tickets from
 * the demo customers (and one unknown requester) in every status, with
 * their conversation, resolutions and ratings, so that `make run` shows a
 * help desk beside the sales data.
 *
 * As demo.c: ordinary support commands, each with a fixed idempotency key
 * ("demo-support-<n>"), ids taken only from replies, no dates, so loading
 * again sends byte-identical requests and changes nothing. Tickets are
 * opened by the customers' emails: support finds the people sales
 * registered (or registers them under the same ids), so the complaint from
 * Ada Quickfern, whose organisation has an open deal, becomes a task for
 * the deal's owner in sales. */
#include "demo.h"

#include "crm/v1/support.pb-c.h"

#include <stdio.h>
#include <string.h>

#define S_VERB(cmd, req)                                                                           \
    {                                                                                              \
        .command = cmd, .request = &crm__v1__##req##__descriptor,                                  \
        .reply = &crm__v1__ticket_reply__descriptor                                                \
    }

static const req_verb_t s_open = S_VERB("support.ticket.open", open_ticket_request);
static const req_verb_t s_assign = S_VERB("support.ticket.assign", assign_ticket_request);
static const req_verb_t s_reply = S_VERB("support.ticket.reply", add_ticket_message_request);
static const req_verb_t s_note = S_VERB("support.ticket.note", add_ticket_message_request);
static const req_verb_t s_pend = S_VERB("support.ticket.pend", change_ticket_status_request);
static const req_verb_t s_hold = S_VERB("support.ticket.hold", change_ticket_status_request);
static const req_verb_t s_resolve = S_VERB("support.ticket.resolve", resolve_ticket_request);
static const req_verb_t s_close = S_VERB("support.ticket.close", change_ticket_status_request);
static const req_verb_t s_rate = S_VERB("support.ticket.rate", rate_ticket_request);

/* What happens to a ticket after it is opened, in order. */
typedef struct {
    const char *email, *name, *subject, *description, *type, *priority, *channel, *tag;
    const char *assignee, *team;
    const char *note;     /* an internal note, or NULL */
    const char *reply;    /* the agent's public reply, or NULL */
    const char *customer; /* the customer's answer, or NULL */
    const char *wait;     /* a wait (pending; on hold with wait_hold) for this reason */
    int wait_hold;        /* the wait is on a third party */
    const char *category; /* resolved with this category, or NULL */
    const char *solution; /* the resolution's text */
    const char *feedback; /* a tag added at resolution, or NULL */
    int rating;           /* 0 = not rated */
    const char *comment;  /* with the rating */
    int closed;           /* closed after resolution */
} s_ticket_t;

static const s_ticket_t s_tickets[] = {
    {.email = "ada.quickfern@northwind-lamps.example",
     .subject = "Showroom lights flicker after the refit",
     .description = "Since the new fittings went in, half the showroom flickers every few "
                    "minutes. Customers notice.",
     .type = "TICKET_TYPE_COMPLAINT",
     .priority = "TICKET_PRIORITY_HIGH",
     .channel = "TICKET_CHANNEL_PHONE",
     .tag = "product:lighting",
     .assignee = "ana",
     .team = "field-service",
     .note = "Key account with an open refit deal: keep dana informed.",
     .reply = "We are sending a technician; could you tell us which circuits are affected?",
     .wait = "asked which circuits are affected"},
    {.email = "ines.copperfield@quillon.example",
     .subject = "Order export API returns 500",
     .description = "The nightly export fails with HTTP 500 since Tuesday.",
     .type = "TICKET_TYPE_INCIDENT",
     .priority = "TICKET_PRIORITY_URGENT",
     .channel = "TICKET_CHANNEL_EMAIL",
     .tag = "product:api",
     .assignee = "ben",
     .team = "platform",
     .note = "Reproduced: the export chokes on orders with more than 100 items.",
     .reply = "Found it: large orders broke the export. A fix is deployed; tonight's run "
              "should pass.",
     .customer = "Confirmed, the export ran fine.",
     .category = "fixed",
     .solution = "Paged the export over 100-item batches.",
     .feedback = "interest:api",
     .rating = 4,
     .comment = "Quick and clear."},
    {.email = "cleo.marchbank@bluefjord.example",
     .subject = "How do I change our invoice address?",
     .type = "TICKET_TYPE_QUESTION",
     .priority = "TICKET_PRIORITY_NORMAL",
     .channel = "TICKET_CHANNEL_WEB",
     .tag = "topic:billing",
     .assignee = "ana",
     .team = "billing",
     .reply = "Under Account > Billing you can edit it; invoices from tomorrow use the new "
              "address.",
     .category = "answered",
     .solution = "Pointed to the billing settings.",
     .rating = 5,
     .comment = "Thanks!",
     .closed = 1},
    {.email = "mira.larkspur@mailbox.example",
     .subject = "Dark mode for the catalogue app",
     .description = "Would love a dark mode for the tablet catalogue.",
     .type = "TICKET_TYPE_FEATURE_REQUEST",
     .priority = "TICKET_PRIORITY_LOW",
     .channel = "TICKET_CHANNEL_CHAT",
     .tag = "interest:mobile-app"},
    {.email = "greta.plumtree@marigold-supplies.example",
     .subject = "Delivery tracking shows no updates",
     .description = "Three pallets have shown 'in transit' for four days.",
     .type = "TICKET_TYPE_PROBLEM",
     .priority = "TICKET_PRIORITY_HIGH",
     .channel = "TICKET_CHANNEL_EMAIL",
     .tag = "topic:delivery",
     .assignee = "ben",
     .team = "logistics",
     .reply = "We have asked the carrier for the pallets' status and will update you.",
     .wait = "waiting for the carrier's answer",
     .wait_hold = 1},
    {.email = "lars.pebbleton@tidewater-logistics.example",
     .subject = "Credit note still missing",
     .description = "We returned two units in October and have no credit note yet.",
     .type = "TICKET_TYPE_COMPLAINT",
     .priority = "TICKET_PRIORITY_NORMAL",
     .channel = "TICKET_CHANNEL_EMAIL",
     .tag = "topic:billing",
     .assignee = "ana",
     .team = "billing",
     .reply = "Sorry for the wait: the credit note is issued and attached.",
     .category = "fixed",
     .solution = "Credit note issued after the returns were booked.",
     .rating = 2,
     .comment = "Took three weeks."},
    {.email = "walter.ashgrove@mailbox.example",
     .name = "Walter Ashgrove",
     .subject = "Do you ship to Iceland?",
     .description = "Thinking of ordering 40 lamps for a hotel in Reykjavik.",
     .type = "TICKET_TYPE_QUESTION",
     .priority = "TICKET_PRIORITY_NORMAL",
     .channel = "TICKET_CHANNEL_WEB",
     .tag = "interest:export",
     .reply = "We do; let me check the freight cost for 40 lamps and come back to you."},
};
#define N_TICKETS (sizeof s_tickets / sizeof s_tickets[0])

typedef struct {
    crmctl_t *ctl;
    crmctl_service_t *svc;
    int step;
} s_desk_t;

/* One command with the next key "demo-support-<n>" (see demo_step). */
static int s_step(s_desk_t *d, const req_verb_t *verb, json_t *request, json_t **reply_p)
{
    return demo_step(d->ctl, d->svc, "demo-support", &d->step, verb, request, reply_p);
}

static void s_opt(json_t *o, const char *key, const char *s)
{
    if (s)
        json_object_set_new(o, key, json_string(s));
}

/* Opens ticket `t` and takes it as far as the table says. */
static int s_load_ticket(s_desk_t *d, const s_ticket_t *t, demo_support_counts_t *n)
{
    json_t *tk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "requester_email", t->email,
                           "subject", t->subject, "type", t->type, "priority", t->priority,
                           "channel", t->channel, "tags", t->tag);
    s_opt(tk, "requester_name", t->name);
    s_opt(tk, "description", t->description);
    json_t *reply;
    int rc = s_step(d, &s_open, json_pack("{s:o}", "ticket", tk), &reply);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    char id[40];
    snprintf(id, sizeof id, "%s", req_str(reply, "ticket.id"));
    json_decref(reply);
    if (!*id) {
        crmctl_error(NULL, NULL, "the reply has no ticket.id");
        return CRMCTL_EXIT_FAILED;
    }
    if (t->assignee && (rc = s_step(d, &s_assign,
                                    json_pack("{s:s, s:s, s:s}", "id", id, "assignee", t->assignee,
                                              "team", t->team ? t->team : ""),
                                    NULL)))
        return rc;
    if (t->note && (rc = s_step(d, &s_note,
                                json_pack("{s:s, s:s, s:s}", "id", id, "body", t->note, "author",
                                          t->assignee ? t->assignee : "desk"),
                                NULL)))
        return rc;
    if (t->reply && (rc = s_step(d, &s_reply,
                                 json_pack("{s:s, s:s, s:s}", "id", id, "body", t->reply, "author",
                                           t->assignee ? t->assignee : "desk"),
                                 NULL)))
        return rc;
    if (t->customer && (rc = s_step(d, &s_reply,
                                    json_pack("{s:s, s:s, s:b}", "id", id, "body", t->customer,
                                              "from_customer", 1),
                                    NULL)))
        return rc;
    if (t->wait && (rc = s_step(d, t->wait_hold ? &s_hold : &s_pend,
                                json_pack("{s:s, s:s}", "id", id, "reason", t->wait), NULL)))
        return rc;
    if (t->category) {
        json_t *rq = json_pack("{s:s, s:{s:s, s:s}}", "id", id, "resolution", "category",
                               t->category, "text", t->solution ? t->solution : "");
        if (rq && t->feedback)
            json_object_set_new(rq, "tags", json_pack("[s]", t->feedback));
        if ((rc = s_step(d, &s_resolve, rq, NULL)))
            return rc;
        n->resolved++;
    }
    if (t->rating && (rc = s_step(d, &s_rate,
                                  json_pack("{s:s, s:i, s:s}", "id", id, "rating", t->rating,
                                            "comment", t->comment ? t->comment : ""),
                                  NULL)))
        return rc;
    if (t->closed && (rc = s_step(d, &s_close, json_pack("{s:s}", "id", id), NULL)))
        return rc;
    n->rated += t->rating != 0;
    n->closed += t->closed;
    n->waiting += t->wait != NULL;
    return CRMCTL_EXIT_OK;
}

int demo_support_load(crmctl_t *ctl, crmctl_service_t *svc, demo_support_counts_t *n)
{
    s_desk_t d = {ctl, svc, 0};
    memset(n, 0, sizeof *n);
    for (size_t i = 0; i < N_TICKETS; i++) {
        int rc = s_load_ticket(&d, &s_tickets[i], n);
        if (rc != CRMCTL_EXIT_OK)
            return rc;
    }
    n->tickets = (int)N_TICKETS;
    n->commands = d.step;
    return CRMCTL_EXIT_OK;
}
