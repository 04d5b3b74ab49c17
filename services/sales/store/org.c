/* store/org.c: the SQL of organisations. */
#include "records.h"

int sales_store_org_by_name(crm_work_t *w, const char *name, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, name);
    return crm_params_run(&p,
                          "SELECT " SALES_ORG_J
                          "::text FROM organization o WHERE lower(o.name) = lower($1::text)",
                          0, cb);
}

int sales_store_org_insert(crm_work_t *w, const Crm__V1__Organization *o, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, o->id);
    crm_params_str(&p, o->name);
    crm_params_str(&p, o->domain);
    crm_params_str(&p, o->industry);
    crm_params_str(&p, o->country);
    crm_params_str(&p, o->owner);
    crm_params_textv(&p, o->tags, o->n_tags);
    return crm_params_run(
        &p,
        "INSERT INTO organization AS o (id, name, domain, industry, country, owner, tags)"
        " VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text[])"
        " RETURNING " SALES_ORG_J "::text",
        1, cb);
}

int sales_store_org_show(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p,
                          "SELECT jsonb_build_object('organization', " SALES_ORG_J ","
                          " 'people', COALESCE((SELECT jsonb_agg(x.j ORDER BY x.name, x.id) FROM"
                          "   (SELECT " SALES_PERSON_J " AS j, p.name, p.id FROM person p"
                          "     WHERE p.organization_id = o.id ORDER BY p.name, p.id LIMIT 500) x),"
                          "   '[]'))::text"
                          " FROM organization o WHERE o.id = $1::uuid",
                          0, cb);
}

int sales_store_org_list(crm_work_t *w, const Crm__V1__ListOrganizationsRequest *rq,
                         const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, rq->owner);
    crm_params_opt(&p, rq->query);
    sales_store_page(&p, page);
    crm_params_reach(&p, CRM_REC_ORGANISATION, CRM_ACT_READ);
    return crm_params_run(
        &p,
        "SELECT " SALES_ORG_J "::text, sales_us(o.created_at), o.id::text FROM organization o"
        " WHERE ($1::text IS NULL OR o.owner = $1::text)"
        " AND ($2::text IS NULL OR o.name ILIKE sales_contains($2::text)"
        "      OR o.domain ILIKE sales_contains($2::text))"
        " AND ($3::bigint IS NULL OR (o.created_at, o.id) > (sales_ts($3::bigint), $4::uuid))"
        " AND ($6::text[] IS NULL OR o.owner = ANY($6::text[]))"
        " ORDER BY o.created_at, o.id LIMIT $5::int",
        0, cb);
}
