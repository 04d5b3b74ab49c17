/* handlers/consumers.c: what support takes from other services' events:
 * people registered or updated by sales and marketing (the requesters it
 * knows), and marketing's contact preferences. */
#include "handlers.h"

#include "store.h"

#include <crm/util.h>

#include "crm/v1/marketing.pb-c.h"
#include "crm/v1/support.pb-c.h"

static void s_person_upserted(crm_work_t *w, PGresult *res)
{
    (void)res;
    crm_work_ok(w, NULL);
}

void support_people_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__Person *src = NULL;
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_ERASED) {
        support_person_erased(w); /* handlers/erasure.c */
        return;
    }
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_MERGED) {
        support_person_merged(w); /* handlers/merge.c */
        return;
    }
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED)
        src = ev->person_registered->person;
    else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_UPDATED)
        src = ev->person_updated->person;
    else {
        crm_work_ok(w, NULL); /* not a profile event */
        return;
    }
    if (!src || !crm_uuid_valid(src->id)) {
        crm_work_fail(w, S_INVALID, "person.id", "event has no valid person id",
                      src ? crm_work_printf(w, "got \"%.80s\"", src->id) : "no person", NULL);
        return;
    }
    support_store_person_upsert(w, src, ev->source, crm_now_us(), s_person_upserted);
}

/* "email" for CHANNEL_EMAIL; NULL for 0 or an unknown value. */
static char *s_channel_name(crm_work_t *w, int v)
{
    const ProtobufCEnumValue *ev =
        v ? protobuf_c_enum_descriptor_get_value(&crm__v1__channel__descriptor, v) : NULL;
    if (!ev)
        return NULL;
    char *s = crm_work_strdup(w, ev->name + sizeof "CHANNEL_" - 1);
    for (char *c = s; c && *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    return s;
}

void support_preferences_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    if (ev->payload_case != CRM__V1__EVENT__PAYLOAD_PREFERENCES_CHANGED ||
        !ev->preferences_changed->preferences) {
        crm_work_ok(w, NULL);
        return;
    }
    const Crm__V1__ContactPreferences *p = ev->preferences_changed->preferences;
    const char *customer = crm_uuid_valid(p->customer_id) ? p->customer_id : ev->subject;
    if (!crm_uuid_valid(customer)) {
        crm_work_fail(w, S_INVALID, "preferences.customer_id", "event has no valid customer id",
                      crm_work_printf(w, "got \"%.80s\"", p->customer_id), NULL);
        return;
    }
    char **names = crm_work_alloc(w, (p->n_opted_out + 1) * sizeof *names);
    char *preferred = s_channel_name(w, p->preferred_channel);
    size_t n = 0;
    if (!names) {
        crm_work_fail_nomem(w);
        return;
    }
    for (size_t i = 0; i < p->n_opted_out; i++)
        if ((names[n] = s_channel_name(w, p->opted_out[i])))
            n++; /* unknown channels (a newer marketing) are skipped */
    support_store_preferences(w, customer, names, n, preferred ? preferred : "", crm_now_us(),
                              s_person_upserted);
}
