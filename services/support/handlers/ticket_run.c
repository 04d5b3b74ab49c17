/* handlers/ticket_run.c: support.ticket.open's set-based form
 * (crm_command_batch_fn, crm/service.h; issue 15, ninth session). A run of
 * opens in a batch costs two statements instead of two a ticket: one read
 * of every ticket's customer and SLA policy (and the calendar, once), then
 * one insert of every ticket with the requesters to register. Each command
 * goes through the checks, the decisions and the answer of the one at a
 * time path (ticket.c), so the replies, rows and events are the same; the
 * framework keeps a failure to the one command (a failed statement, or a
 * command failing after the insert, rolls the batch back and it is retried
 * one command per transaction through this same form). Commands of one run
 * never share a customer (s_ticket_open_keys, commands.c), so none reads
 * what another of the run writes. SUPPORT_SET=0 turns the form off. */
#include "handlers.h"

#include "store.h"

#include <crm/db.h>

#include <stdlib.h>

typedef struct {
    crm_work_t **works; /* the commands still in the run, in order */
    support_open_t **opens;
    Crm__V1__Ticket **tickets;
    int *reg;
    size_t n;
} s_run_t;

static void s_fail_all(s_run_t *run, crm_work_t *except)
{
    for (size_t i = 0; i < run->n; i++)
        if (run->works[i] != except)
            crm_work_fail_unreadable(run->works[i]);
}

static void s_run_inserted(crm_work_t *writer, PGresult *res)
{
    const s_run_t *run = crm_work_data(writer);
    for (size_t i = 0; i < run->n; i++) {
        crm_work_t *w = run->works[i];
        if (!crm_db_row_is_ordinal(res, (int)i)) {
            crm_work_fail_unreadable(w);
            continue;
        }
        support_open_finish(w, run->tickets[i], crm_db_get_opt(res, (int)i, 1),
                            crm_db_get_opt(res, (int)i, 2));
    }
}

/* The run's context read answered (through the run's first command, the
 * lead): each command decides as one at a time would, and those left go
 * on to the insert. */
static void s_run_context(crm_work_t *lead, PGresult *res)
{
    s_run_t *run = crm_work_data(lead);
    size_t rows = (size_t)PQntuples(res);
    support_cal_t *cal = rows ? support_calendar_read(lead, res, 5) : NULL;
    if (!cal) {
        s_fail_all(run, NULL);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < run->n; i++) {
        crm_work_t *w = run->works[i];
        if (!crm_db_row_is_ordinal(res, (int)i)) {
            crm_work_fail_unreadable(w);
            continue;
        }
        /* The result goes when this returns; the ticket keeps its strings. */
        const char *id = crm_db_get_opt(res, (int)i, 1);
        char *pid = id ? crm_work_strdup(w, id) : NULL;
        char *pname = id ? crm_work_strdup(w, crm_db_get_str(res, (int)i, 2)) : NULL;
        if (id && (!pid || !pname)) {
            crm_work_fail_nomem(w);
            continue;
        }
        int targets[2], *pol = NULL;
        if (!PQgetisnull(res, (int)i, 3) && !PQgetisnull(res, (int)i, 4)) {
            targets[0] = atoi(PQgetvalue(res, (int)i, 3));
            targets[1] = atoi(PQgetvalue(res, (int)i, 4));
            pol = targets;
        }
        int rc = support_open_decide(w, run->opens[i], cal, pol, pid, pname);
        if (rc < 0)
            continue; /* failed alone: it wrote nothing */
        run->works[k] = w;
        run->opens[k] = run->opens[i];
        run->tickets[k] = run->opens[i]->t;
        run->reg[k++] = rc;
    }
    run->n = k;
    if (k == 0)
        return;
    /* Through the lead when it is still in the run (a work left running
     * without a statement of its own would be failed as stuck), else
     * through the first command left. */
    crm_work_t *writer = run->works[0];
    crm_work_set_data(writer, run);
    support_store_ticket_insert_run(writer, run->tickets, run->reg, k, s_run_inserted);
}

void support_ticket_open_run(crm_work_t *const *works, size_t n)
{
    /* In works[0]'s memory, which lasts as long as the run's statements
     * whether or not works[0] itself stays in the run. */
    crm_work_t *mem = works[0];
    s_run_t *run = crm_work_alloc(mem, sizeof *run);
    char **customers = crm_work_alloc(mem, n * sizeof *customers);
    char **emails = crm_work_alloc(mem, n * sizeof *emails);
    int64_t *priorities = crm_work_alloc(mem, n * sizeof *priorities);
    if (run) {
        run->works = crm_work_alloc(mem, n * sizeof *run->works);
        run->opens = crm_work_alloc(mem, n * sizeof *run->opens);
        run->tickets = crm_work_alloc(mem, n * sizeof *run->tickets);
        run->reg = crm_work_alloc(mem, n * sizeof *run->reg);
    }
    if (!run || !customers || !emails || !priorities || !run->works || !run->opens ||
        !run->tickets || !run->reg) {
        for (size_t i = 0; i < n; i++)
            crm_work_fail_nomem(works[i]);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const Crm__V1__OpenTicketRequest *rq = (const void *)crm_work_request(works[i]);
        support_open_t *st = support_open_prepare(works[i], rq ? rq->ticket : NULL);
        if (!st)
            continue; /* answered with its error, before any statement */
        run->works[k] = works[i];
        run->opens[k] = st;
        customers[k] = st->t->customer_id;
        emails[k] = st->email;
        priorities[k++] = st->t->priority;
    }
    run->n = k;
    if (k == 0)
        return;
    crm_work_t *lead = run->works[0];
    crm_work_set_data(lead, run);
    support_store_open_context_run(lead, customers, emails, priorities, k, s_run_context);
}
