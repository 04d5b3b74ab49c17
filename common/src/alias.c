/* alias.c: what every service does alike with a merged person (crm/alias.h).
 * The re-pointing itself is each service's SQL, since each has its own
 * tables; the ids and the statement's parameters are the same everywhere. */
#include <crm/alias.h>

#include <crm/identity.h>
#include <crm/log.h>
#include <crm/params.h>
#include <crm/util.h>

#include <string.h>

#include "crm/v1/event.pb-c.h"

char **crm_alias_ids(crm_work_t *w, const char *survivor_id, const char *dropped_id,
                     char *const *emails, size_t n_emails, size_t *n)
{
    char **ids = crm_work_alloc(w, (n_emails + 1) * sizeof *ids);
    *n = 0;
    if (!ids) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    ids[(*n)++] = (char *)dropped_id;
    for (size_t i = 0; i < n_emails; i++) {
        char norm[256], id[CRM_UUID_LEN + 1];
        if (!emails[i] || crm_email_normalize(emails[i], norm, sizeof norm) != 0)
            continue;
        crm_customer_id_for_email(norm, id);
        int seen = !strcmp(id, survivor_id);
        for (size_t j = 0; j < *n && !seen; j++)
            seen = !strcmp(ids[j], id);
        if (seen)
            continue;
        if (!(ids[*n] = crm_work_strdup(w, id))) {
            crm_work_fail_nomem(w);
            return NULL;
        }
        (*n)++;
    }
    return ids;
}

void crm_alias_consume(crm_work_t *w, const char *merge_sql, crm_work_cb cb)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__PersonMerged *m =
        ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_MERGED ? ev->person_merged : NULL;
    if (!m || !crm_uuid_valid(m->survivor_id) || !crm_uuid_valid(m->dropped_id) ||
        !strcmp(m->survivor_id, m->dropped_id)) {
        crm_warn("alias", "%s event %s names no two valid people; ignored", ev->type, ev->id);
        crm_work_ok(w, NULL);
        return;
    }
    /* The producer lists them; derived here again only for an event
     * that does not. */
    size_t n = m->n_alias_ids;
    char **ids = m->alias_ids;
    if (n == 0 && !(ids = crm_alias_ids(w, m->survivor_id, m->dropped_id, m->dropped_emails,
                                        m->n_dropped_emails, &n)))
        return;
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, m->survivor_id);
    crm_params_str(&p, m->dropped_id);
    crm_params_textv(&p, ids, n);
    crm_params_run(&p, merge_sql, 1, cb);
}
