/* store/lead_convert.c: the SQL a lead's conversion needs beyond the
 * person, organisation and deal inserts: what it reads before deciding, and
 * the link it writes at the end. */
#include "records.h"

int sales_store_lead_converted(crm_work_t *w, const char *id, const char *person_id,
                               const char *org_id, const char *deal_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_opt(&p, person_id);
    crm_params_opt(&p, org_id);
    crm_params_opt(&p, deal_id);
    return crm_params_run(&p,
                          "UPDATE lead AS l SET status = 3, person_id = $2::uuid,"
                          " organization_id = $3::uuid, deal_id = $4::uuid, updated_at = now()"
                          " WHERE l.id = $1::uuid RETURNING " SALES_LEAD_J "::text",
                          1, cb);
}

/* The person of the lead's email ($2). */
#define S_BY_LEAD_EMAIL SALES_PERSON_BY_EMAILS("ARRAY[$2::text]")

int sales_store_convert_context(crm_work_t *w, const char *person_id, const char *email,
                                const char *company, const char *pipeline_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, person_id);
    crm_params_str(&p, email);
    crm_params_str(&p, company);
    crm_params_opt(&p, pipeline_id);
    return crm_params_run(
        &p,
        "SELECT (SELECT " SALES_PERSON_J " FROM person p WHERE p.id = COALESCE("
        "(SELECT x.id FROM person x WHERE x.id = $1::uuid), " S_BY_LEAD_EMAIL "))::text,"
        " (SELECT " SALES_ORG_J " FROM organization o"
        "   WHERE $3::text <> '' AND lower(o.name) = lower($3::text))::text,"
        " (SELECT " SALES_PIPELINE_J " FROM pipeline pl WHERE CASE WHEN $4::uuid IS NULL"
        "   THEN pl.is_default ELSE pl.id = $4::uuid END)::text",
        0, cb);
}
