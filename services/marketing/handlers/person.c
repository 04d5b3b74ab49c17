/* handlers/person.c: the consumer of sales' and support's person events
 * (marketing.people): marketing's copy of people, applied by id. */
#include "handlers.h"

#include <crm/log.h>
#include <crm/identity.h>
#include <crm/util.h>

static void s_person_merged(crm_work_t *w, PGresult *res)
{
    mkt_member_refresh(w, crm_work_data(w), mkt_applied);
}

void mkt_people_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__Person *p = NULL;
    char email[256];
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_ERASED) {
        mkt_person_erased(w); /* handlers/erasure.c */
        return;
    }
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_MERGED) {
        mkt_person_merged(w); /* handlers/merge.c */
        return;
    }
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED)
        p = ev->person_registered->person;
    else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_UPDATED)
        p = ev->person_updated->person;
    if (!p) {
        crm_work_ok(w, NULL); /* another person event (or none): nothing to keep */
        return;
    }
    if (!crm_uuid_valid(p->id)) {
        crm_warn("marketing.people", "%s event %s names no valid person id; ignored", ev->type,
                 ev->id);
        crm_work_ok(w, NULL);
        return;
    }
    email[0] = 0;
    if (p->n_emails > 0 && crm_email_normalize(p->emails[0], email, sizeof email) != 0)
        email[0] = 0;
    crm_work_set_data(w, p->id);
    mkt_store_person_profile(w, p, email, ev->source, s_person_merged);
}
