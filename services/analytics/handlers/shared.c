/* handlers/shared.c: what several analytics handler files use: the
 * service context, and the health of a customer read from the inputs the
 * database returns (the fold stores it, the reports show it). */
#include "handlers.h"

analytics_t *analytics_ctx(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

int64_t analytics_json_int(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Health inputs as an_health_inputs returns them (sql/0002_apply.sql). */
void analytics_health_inputs(const json_t *o, an_health_in_t *in)
{
    in->orders = analytics_json_int(o, "orders");
    in->since_tenths = analytics_json_int(o, "since_tenths");
    in->cadence_tenths = analytics_json_int(o, "cadence_tenths");
    in->engagement = analytics_json_int(o, "engagement");
    in->open_complaints = analytics_json_int(o, "open_complaints");
    in->ratings = analytics_json_int(o, "ratings");
    in->rating_sum = analytics_json_int(o, "rating_sum");
    in->breaches = analytics_json_int(o, "breaches");
}

/* The reasons as a JSON array (a new reference, or NULL on ENOMEM). */
json_t *analytics_health_reasons(const an_health_t *h)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < h->n_reasons; i++)
        if (json_array_append_new(a, json_string(h->reasons[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}
