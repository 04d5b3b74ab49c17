/* handlers/run.c: what the set-based forms (crm_command_batch_fn) of
 * person.c, order.c and activity.c share: the run of commands that passed their
 * checks, each with its record, and the reading back of the run's one
 * statement, a row per command in order. */
#include "handlers.h"

#include <crm/db.h>

sales_run_t *sales_run_new(crm_work_t *const *works, size_t n)
{
    sales_run_t *run = crm_work_alloc(works[0], sizeof *run);
    if (run) {
        run->works = crm_work_alloc(works[0], n * sizeof *run->works);
        run->recs = crm_work_alloc(works[0], n * sizeof *run->recs);
        run->n = 0;
    }
    if (!run || !run->works || !run->recs) {
        for (size_t i = 0; i < n; i++)
            crm_work_fail_nomem(works[i]);
        return NULL;
    }
    return run;
}

void sales_run_add(sales_run_t *run, crm_work_t *w, void *rec)
{
    run->works[run->n] = w;
    run->recs[run->n++] = rec;
}

sales_run_t *sales_run_answered(crm_work_t *lead, const PGresult *res)
{
    sales_run_t *run = crm_work_data(lead);
    for (size_t i = 0; i < run->n; i++)
        crm_work_set_data(run->works[i], run->recs[i]);
    int ok = (size_t)PQntuples(res) == run->n;
    for (size_t i = 0; ok && i < run->n; i++)
        ok = crm_db_row_is_ordinal(res, (int)i);
    if (ok)
        return run;
    crm_error("sales.run", "%d rows out of order or missing for a run of %zu", PQntuples(res),
              run->n);
    for (size_t i = 0; i < run->n; i++)
        crm_work_fail_unreadable(run->works[i]);
    return NULL;
}
