/* store.c: every SQL statement of sales, and nothing else.
 *
 * Values always travel as out-of-line text parameters (a small builder
 * below collects them in the work's arena); arrays go as PostgreSQL array
 * literals built with proper quoting, structured values as JSON built with
 * jansson. Records are returned as one jsonb object per record, built by
 * the S_*_J expressions below, whose keys are the crm.v1 field names. */
#include "store.h"

#include "rules.h"

#include <crm/log.h>
#include <crm/params.h>

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/rpc.pb-c.h"

/* ---- records as JSON -------------------------------------------------------- */

#define S_PERSON_J                                                                                 \
    "jsonb_build_object('id', p.id, 'kind', p.kind, 'name', p.name, 'emails', p.emails,"           \
    " 'phones', p.phones, 'organization_id', p.organization_id, 'title', p.title,"                 \
    " 'address', p.address, 'country', p.country, 'industry', p.industry, 'tags', p.tags,"         \
    " 'owner', p.owner, 'custom_fields', p.custom_fields,"                                         \
    " 'created_at_us', sales_us(p.created_at), 'updated_at_us', sales_us(p.updated_at),"           \
    " 'registered_by', p.registered_by)"

#define S_ORG_J                                                                                    \
    "jsonb_build_object('id', o.id, 'name', o.name, 'domain', o.domain, 'industry', o.industry,"   \
    " 'country', o.country, 'owner', o.owner, 'tags', o.tags,"                                     \
    " 'created_at_us', sales_us(o.created_at))"

#define S_LEAD_J                                                                                   \
    "jsonb_build_object('id', l.id, 'name', l.name, 'email', l.email, 'phone', l.phone,"           \
    " 'company', l.company, 'source', l.source, 'campaign_id', l.campaign_id,"                     \
    " 'status', l.status, 'owner', l.owner, 'notes', l.notes,"                                     \
    " 'qualification', l.qualification, 'disqualify_reason', l.disqualify_reason,"                 \
    " 'person_id', l.person_id, 'organization_id', l.organization_id, 'deal_id', l.deal_id,"       \
    " 'created_at_us', sales_us(l.created_at), 'updated_at_us', sales_us(l.updated_at))"

#define S_PIPELINE_J                                                                               \
    "jsonb_build_object('id', pl.id, 'name', pl.name, 'is_default', pl.is_default,"                \
    " 'stages', (SELECT jsonb_agg(jsonb_build_object('name', s.name,"                              \
    "   'probability', s.probability) ORDER BY s.position)"                                        \
    "   FROM pipeline_stage s WHERE s.pipeline_id = pl.id))"

#define S_DEAL_J                                                                                   \
    "jsonb_build_object('id', d.id, 'title', d.title, 'person_id', d.person_id,"                   \
    " 'organization_id', d.organization_id, 'pipeline_id', d.pipeline_id, 'stage', d.stage,"       \
    " 'amount_minor', d.amount_minor, 'currency', d.currency, 'probability', d.probability,"       \
    " 'expected_close_date', d.expected_close_date, 'owner', d.owner,"                             \
    " 'next_step', d.next_step, 'status', d.status, 'lost_reason', d.lost_reason,"                 \
    " 'closed_at_us', sales_us(d.closed_at), 'created_at_us', sales_us(d.created_at),"             \
    " 'updated_at_us', sales_us(d.updated_at), 'lead_id', d.lead_id)"

/* An order, its items given as a jsonb expression. */
#define S_ORDER_J(items)                                                                           \
    "jsonb_build_object('id', r.id, 'person_id', r.person_id,"                                     \
    " 'organization_id', r.organization_id, 'deal_id', r.deal_id, 'items', " items ","             \
    " 'total_minor', r.total_minor, 'currency', r.currency,"                                       \
    " 'ordered_at_us', sales_us(r.ordered_at))"

#define S_ORDER_ITEMS_J                                                                            \
    "COALESCE((SELECT jsonb_agg(jsonb_build_object('product_code', i.product_code,"                \
    " 'name', i.name, 'quantity', i.quantity, 'unit_price_minor', i.unit_price_minor)"             \
    " ORDER BY i.position) FROM order_item i WHERE i.order_id = r.id), '[]')"

#define S_ACTIVITY_J                                                                               \
    "jsonb_build_object('id', a.id, 'kind', a.kind, 'subject', a.subject, 'body', a.body,"         \
    " 'person_id', a.person_id, 'deal_id', a.deal_id, 'owner', a.owner, 'status', a.status,"       \
    " 'due_at_us', sales_us(a.due_at), 'completed_at_us', sales_us(a.completed_at),"               \
    " 'outcome', a.outcome, 'next_action', a.next_action,"                                         \
    " 'next_action_due_us', sales_us(a.next_action_due),"                                          \
    " 'created_at_us', sales_us(a.created_at), 'due_notified', a.due_notified)"

/* ---- parameters ------------------------------------------------------------- */

/* The names of the Person fields in `bits`, as text[]. */
static void s_fields(crm_params_t *p, unsigned bits)
{
    char *names[SALES_PF_COUNT];
    size_t n = 0;
    for (int i = 0; i < SALES_PF_COUNT; i++)
        if (bits & (1u << i))
            names[n++] = (char *)sales_person_field_name(i);
    crm_params_textv(p, names, n);
}

/* Keyset position and limit: three parameters. */
static void s_page(crm_params_t *p, const sales_page_t *page)
{
    crm_params_opt_i64(p, page->after_us);
    crm_params_opt(p, page->after_id);
    crm_params_i64(p, page->limit);
}

/* ---- people ------------------------------------------------------------- */

static json_t *s_custom_fields(const Crm__V1__Person *p)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < p->n_custom_fields; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "key", p->custom_fields[i]->key, "value",
                                           p->custom_fields[i]->value));
    return a;
}

/* $1..$13 the person's values, $14 the changed fields, $15 the version
 * time, $16 the source. */
static void s_person_params(crm_params_t *q, const Crm__V1__Person *p, unsigned changed,
                            int64_t version_us, const char *source)
{
    crm_params_str(q, p->id);
    crm_params_i64(q, p->kind ? p->kind : CRM__V1__PERSON_KIND__PERSON_KIND_PROSPECT);
    crm_params_str(q, p->name);
    crm_params_textv(q, p->emails, p->n_emails);
    crm_params_textv(q, p->phones, p->n_phones);
    crm_params_opt(q, p->organization_id);
    crm_params_str(q, p->title);
    crm_params_str(q, p->address);
    crm_params_str(q, p->country);
    crm_params_str(q, p->industry);
    crm_params_textv(q, p->tags, p->n_tags);
    crm_params_str(q, p->owner);
    crm_params_json(q, s_custom_fields(p));
    s_fields(q, changed);
    crm_params_i64(q, version_us);
    crm_params_str(q, source);
}

#define S_PERSON_COLS                                                                              \
    "id, kind, name, emails, phones, organization_id, title, address, country, industry, tags,"    \
    " owner, custom_fields, registered_by, field_versions"

#define S_PERSON_VALUES                                                                            \
    "$1::uuid, $2::smallint, $3::text, $4::text[], $5::text[], $6::uuid, $7::text, $8::text,"      \
    " $9::text, $10::text, $11::text[], $12::text, $13::jsonb, $16::text,"                         \
    " sales_fv_stamp('{}', $14::text[], $15::bigint, $16::text)"

/* Per field: the new value where the change wins, else the old one. */
#define S_LWW(col, param)                                                                          \
    col " = CASE WHEN sales_fv_wins(p.field_versions, '" col "', $14::text[], $15::bigint,"        \
        " $16::text) THEN " param " ELSE p." col " END, "

#define S_PERSON_MERGE                                                                             \
    S_LWW("kind", "$2::smallint")                                                                  \
    S_LWW("name", "$3::text")                                                                      \
    S_LWW("emails", "$4::text[]")                                                                  \
    S_LWW("phones", "$5::text[]")                                                                  \
    S_LWW("organization_id", "$6::uuid")                                                           \
    S_LWW("title", "$7::text")                                                                     \
    S_LWW("address", "$8::text")                                                                   \
    S_LWW("country", "$9::text")                                                                   \
    S_LWW("industry", "$10::text")                                                                 \
    S_LWW("tags", "$11::text[]")                                                                   \
    S_LWW("owner", "$12::text")                                                                    \
    S_LWW("custom_fields", "$13::jsonb")                                                           \
    "field_versions = sales_fv_stamp(p.field_versions, $14::text[], $15::bigint, $16::text),"      \
    " updated_at = CASE WHEN sales_fv_stamp(p.field_versions, $14::text[], $15::bigint,"           \
    " $16::text) = p.field_versions THEN p.updated_at ELSE now() END"

int sales_store_person_lookup(crm_work_t *w, char *const *emails, size_t n_emails,
                              const char *org_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_textv(&p, emails, n_emails);
    crm_params_opt(&p, org_id);
    return crm_params_run(
        &p,
        "SELECT (SELECT " S_PERSON_J " FROM person p WHERE p.emails && $1::text[]"
        "   ORDER BY p.created_at, p.id LIMIT 1)::text,"
        " ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM organization WHERE id = $2::uuid))",
        0, cb);
}

int sales_store_person_insert(crm_work_t *w, const Crm__V1__Person *p, unsigned changed,
                              int64_t version_us, const char *source, crm_work_cb cb)
{
    crm_params_t q = CRM_PARAMS(w);
    s_person_params(&q, p, changed, version_us, source);
    /* The no-op update returns the existing row; xmax = 0 means inserted. */
    return crm_params_run(&q,
                          "INSERT INTO person AS p (" S_PERSON_COLS ") VALUES (" S_PERSON_VALUES ")"
                          " ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id"
                          " RETURNING " S_PERSON_J "::text, (p.xmax = 0)",
                          1, cb);
}

int sales_store_person_get(crm_work_t *w, const char *id, const char *email, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    if (id && *id) {
        crm_params_str(&p, id);
        return crm_params_run(&p, "SELECT " S_PERSON_J "::text FROM person p WHERE p.id = $1::uuid",
                              0, cb);
    }
    crm_params_str(&p, email);
    return crm_params_run(&p,
                          "SELECT " S_PERSON_J
                          "::text FROM person p WHERE p.emails @> ARRAY[$1::text]"
                          " ORDER BY p.created_at, p.id LIMIT 1",
                          0, cb);
}

int sales_store_person_lock(crm_work_t *w, const char *id, char *const *emails, size_t n_emails,
                            const char *org_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    if (emails)
        crm_params_textv(&p, emails, n_emails);
    else
        crm_params_add(&p, NULL);
    crm_params_opt(&p, org_id);
    return crm_params_run(
        &p,
        "SELECT " S_PERSON_J "::text,"
        " (SELECT o.id::text FROM person o WHERE o.id <> p.id AND o.emails && $2::text[]"
        "   ORDER BY o.created_at LIMIT 1),"
        " ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM organization WHERE id = $3::uuid))"
        " FROM person p WHERE p.id = $1::uuid FOR UPDATE OF p",
        0, cb);
}

int sales_store_person_update(crm_work_t *w, const Crm__V1__Person *p, unsigned changed,
                              int64_t version_us, const char *source, crm_work_cb cb)
{
    crm_params_t q = CRM_PARAMS(w);
    s_person_params(&q, p, changed, version_us, source);
    return crm_params_run(&q,
                          "UPDATE person AS p SET " S_PERSON_MERGE " WHERE p.id = $1::uuid"
                          " RETURNING " S_PERSON_J "::text",
                          1, cb);
}

int sales_store_person_merge(crm_work_t *w, const Crm__V1__Person *p, unsigned changed,
                             int64_t version_us, const char *source, int64_t created_us,
                             crm_work_cb cb)
{
    crm_params_t q = CRM_PARAMS(w);
    s_person_params(&q, p, changed, version_us, source);
    crm_params_opt_i64(&q, created_us);
    return crm_params_run(&q,
                          "INSERT INTO person AS p (" S_PERSON_COLS
                          ", created_at) VALUES (" S_PERSON_VALUES
                          ", COALESCE(sales_ts($17::bigint), now()))"
                          " ON CONFLICT (id) DO UPDATE SET " S_PERSON_MERGE,
                          1, cb);
}

int sales_store_person_list(crm_work_t *w, const Crm__V1__ListPeopleRequest *rq,
                            const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt_i64(&p, rq->kind);
    crm_params_opt(&p, rq->owner);
    crm_params_opt(&p, rq->tag);
    crm_params_opt(&p, rq->organization_id);
    crm_params_opt(&p, rq->query);
    crm_params_opt_i64(&p, rq->created_from_us);
    crm_params_opt_i64(&p, rq->created_to_us);
    s_page(&p, page);
    return crm_params_run(
        &p,
        "SELECT " S_PERSON_J "::text, sales_us(p.created_at), p.id::text FROM person p"
        " WHERE ($1::smallint IS NULL OR p.kind = $1::smallint)"
        " AND ($2::text IS NULL OR p.owner = $2::text)"
        " AND ($3::text IS NULL OR p.tags @> ARRAY[$3::text])"
        " AND ($4::uuid IS NULL OR p.organization_id = $4::uuid)"
        " AND ($5::text IS NULL OR p.name ILIKE sales_contains($5::text)"
        "      OR EXISTS (SELECT 1 FROM unnest(p.emails) e"
        "                 WHERE e ILIKE sales_contains($5::text)))"
        " AND ($6::bigint IS NULL OR p.created_at >= sales_ts($6::bigint))"
        " AND ($7::bigint IS NULL OR p.created_at <= sales_ts($7::bigint))"
        " AND ($8::bigint IS NULL OR (p.created_at, p.id) > (sales_ts($8::bigint), $9::uuid))"
        " ORDER BY p.created_at, p.id LIMIT $10::int",
        0, cb);
}

/* ---- organisations -------------------------------------------------------- */

int sales_store_org_by_name(crm_work_t *w, const char *name, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, name);
    return crm_params_run(
        &p, "SELECT " S_ORG_J "::text FROM organization o WHERE lower(o.name) = lower($1::text)", 0,
        cb);
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
        " RETURNING " S_ORG_J "::text",
        1, cb);
}

int sales_store_org_show(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p,
                          "SELECT jsonb_build_object('organization', " S_ORG_J ","
                          " 'people', COALESCE((SELECT jsonb_agg(x.j ORDER BY x.name, x.id) FROM"
                          "   (SELECT " S_PERSON_J " AS j, p.name, p.id FROM person p"
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
    s_page(&p, page);
    return crm_params_run(
        &p,
        "SELECT " S_ORG_J "::text, sales_us(o.created_at), o.id::text FROM organization o"
        " WHERE ($1::text IS NULL OR o.owner = $1::text)"
        " AND ($2::text IS NULL OR o.name ILIKE sales_contains($2::text)"
        "      OR o.domain ILIKE sales_contains($2::text))"
        " AND ($3::bigint IS NULL OR (o.created_at, o.id) > (sales_ts($3::bigint), $4::uuid))"
        " ORDER BY o.created_at, o.id LIMIT $5::int",
        0, cb);
}

/* ---- leads ---------------------------------------------------------------- */

int sales_store_lead_insert(crm_work_t *w, const Crm__V1__Lead *l, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, l->id);
    crm_params_str(&p, l->name);
    crm_params_str(&p, l->email);
    crm_params_str(&p, l->phone);
    crm_params_str(&p, l->company);
    crm_params_i64(&p, l->source);
    crm_params_str(&p, l->campaign_id);
    crm_params_i64(&p, l->status);
    crm_params_str(&p, l->owner);
    crm_params_str(&p, l->notes);
    crm_params_opt(&p, l->person_id);
    return crm_params_run(
        &p,
        "INSERT INTO lead AS l (id, name, email, phone, company, source, campaign_id,"
        " status, owner, notes, person_id)"
        " VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::smallint,"
        " $7::text, $8::smallint, $9::text, $10::text,"
        " COALESCE($11::uuid, (SELECT p.id FROM person p WHERE $3::text <> ''"
        "   AND p.emails @> ARRAY[$3::text] ORDER BY p.created_at, p.id LIMIT 1)))"
        " RETURNING " S_LEAD_J "::text",
        1, cb);
}

int sales_store_lead_lock(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(
        &p, "SELECT " S_LEAD_J "::text FROM lead l WHERE l.id = $1::uuid FOR UPDATE", 0, cb);
}

int sales_store_lead_status(crm_work_t *w, const char *id, int status, const char *qualification,
                            const char *reason, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, status);
    crm_params_add(&p, qualification);
    crm_params_add(&p, reason);
    return crm_params_run(
        &p,
        "UPDATE lead AS l SET status = $2::smallint,"
        " qualification = COALESCE($3::text, l.qualification),"
        " disqualify_reason = COALESCE($4::text, l.disqualify_reason), updated_at = now()"
        " WHERE l.id = $1::uuid RETURNING " S_LEAD_J "::text",
        1, cb);
}

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
                          " WHERE l.id = $1::uuid RETURNING " S_LEAD_J "::text",
                          1, cb);
}

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
        "SELECT (SELECT " S_PERSON_J " FROM person p"
        "   WHERE p.id = $1::uuid OR ($2::text <> '' AND p.emails @> ARRAY[$2::text])"
        "   ORDER BY (p.id = $1::uuid) IS TRUE DESC, p.created_at, p.id LIMIT 1)::text,"
        " (SELECT " S_ORG_J " FROM organization o"
        "   WHERE $3::text <> '' AND lower(o.name) = lower($3::text))::text,"
        " (SELECT " S_PIPELINE_J " FROM pipeline pl WHERE CASE WHEN $4::uuid IS NULL"
        "   THEN pl.is_default ELSE pl.id = $4::uuid END)::text",
        0, cb);
}

int sales_store_lead_list(crm_work_t *w, const Crm__V1__ListLeadsRequest *rq,
                          const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt_i64(&p, rq->status);
    crm_params_opt(&p, rq->owner);
    crm_params_opt_i64(&p, rq->source);
    crm_params_opt(&p, rq->campaign_id);
    s_page(&p, page);
    return crm_params_run(
        &p,
        "SELECT " S_LEAD_J "::text, sales_us(l.created_at), l.id::text FROM lead l"
        " WHERE ($1::smallint IS NULL OR l.status = $1::smallint)"
        " AND ($2::text IS NULL OR l.owner = $2::text)"
        " AND ($3::smallint IS NULL OR l.source = $3::smallint)"
        " AND ($4::text IS NULL OR l.campaign_id = $4::text)"
        " AND ($5::bigint IS NULL OR (l.created_at, l.id) > (sales_ts($5::bigint), $6::uuid))"
        " ORDER BY l.created_at, l.id LIMIT $7::int",
        0, cb);
}

int sales_store_intent_context(crm_work_t *w, const char *email, const char *customer_id,
                               const char *campaign_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, email);
    crm_params_opt(&p, customer_id);
    crm_params_str(&p, campaign_id);
    return crm_params_run(
        &p,
        "SELECT EXISTS (SELECT 1 FROM lead l WHERE l.campaign_id = $3::text"
        "   AND l.status IN (1, 2) AND CASE WHEN $1::text <> '' THEN l.email = $1::text"
        "   ELSE l.person_id = $2::uuid END),"
        " (SELECT count(*) FROM lead WHERE source = 3), p.name, p.emails[1]"
        " FROM (SELECT 1) AS one LEFT JOIN person p ON p.id = $2::uuid",
        0, cb);
}

/* ---- pipelines -------------------------------------------------------------- */

int sales_store_pipeline_by_name(crm_work_t *w, const char *name, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, name);
    return crm_params_run(
        &p, "SELECT pl.id::text FROM pipeline pl WHERE lower(pl.name) = lower($1::text)", 0, cb);
}

int sales_store_pipeline_undefault(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p, "UPDATE pipeline SET is_default = false WHERE is_default", 1, cb);
}

int sales_store_pipeline_insert(crm_work_t *w, const Crm__V1__Pipeline *pl, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    json_t *stages = json_array();
    for (size_t i = 0; stages && i < pl->n_stages; i++)
        json_array_append_new(stages, json_pack("{s:s, s:i}", "name", pl->stages[i]->name,
                                                "probability", pl->stages[i]->probability));
    crm_params_str(&p, pl->id);
    crm_params_str(&p, pl->name);
    crm_params_bool(&p, pl->is_default);
    crm_params_json(&p, stages);
    return crm_params_run(
        &p,
        "WITH pl AS (INSERT INTO pipeline (id, name, is_default)"
        "   VALUES ($1::uuid, $2::text, $3::boolean) RETURNING *),"
        " st AS (INSERT INTO pipeline_stage (pipeline_id, position, name, probability)"
        "   SELECT pl.id, s.ord, s.x ->> 'name', (s.x ->> 'probability')::smallint"
        "   FROM pl, jsonb_array_elements($4::jsonb) WITH ORDINALITY AS s (x, ord)"
        "   RETURNING *)"
        " SELECT jsonb_build_object('id', pl.id, 'name', pl.name,"
        " 'is_default', pl.is_default, 'stages', (SELECT jsonb_agg(jsonb_build_object("
        "   'name', st.name, 'probability', st.probability) ORDER BY st.position)"
        "   FROM st))::text FROM pl",
        1, cb);
}

int sales_store_pipeline_list(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p,
                          "SELECT " S_PIPELINE_J "::text FROM pipeline pl"
                          " ORDER BY pl.is_default DESC, pl.created_at, pl.id",
                          0, cb);
}

/* ---- deals -------------------------------------------------------------------- */

int sales_store_deal_context(crm_work_t *w, const char *person_id, const char *org_id,
                             const char *pipeline_id, const char *lead_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, person_id);
    crm_params_opt(&p, org_id);
    crm_params_opt(&p, pipeline_id);
    crm_params_opt(&p, lead_id);
    return crm_params_run(
        &p,
        "SELECT ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM person WHERE id = $1::uuid)),"
        " ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM organization WHERE id = $2::uuid)),"
        " (SELECT " S_PIPELINE_J " FROM pipeline pl WHERE CASE WHEN $3::uuid IS NULL"
        "   THEN pl.is_default ELSE pl.id = $3::uuid END)::text,"
        " ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM lead WHERE id = $4::uuid))",
        0, cb);
}

int sales_store_deal_insert(crm_work_t *w, const Crm__V1__Deal *d, const char *actor,
                            crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, d->id);
    crm_params_str(&p, d->title);
    crm_params_opt(&p, d->person_id);
    crm_params_opt(&p, d->organization_id);
    crm_params_str(&p, d->pipeline_id);
    crm_params_str(&p, d->stage);
    crm_params_i64(&p, d->amount_minor);
    crm_params_str(&p, d->currency);
    crm_params_i64(&p, d->probability);
    crm_params_opt(&p, d->expected_close_date);
    crm_params_str(&p, d->owner);
    crm_params_str(&p, d->next_step);
    crm_params_opt(&p, d->lead_id);
    crm_params_str(&p, actor);
    return crm_params_run(
        &p,
        "WITH d AS (INSERT INTO deal (id, title, person_id, organization_id, pipeline_id,"
        "   stage, amount_minor, currency, probability, expected_close_date, owner,"
        "   next_step, status, lead_id)"
        "   VALUES ($1::uuid, $2::text, $3::uuid, $4::uuid, $5::uuid, $6::text,"
        "   $7::bigint, $8::text, $9::smallint, $10::date, $11::text, $12::text, 1,"
        "   $13::uuid) RETURNING *),"
        " h AS (INSERT INTO deal_stage_history (deal_id, from_stage, to_stage,"
        "   probability, actor) SELECT d.id, '', d.stage, d.probability, $14::text FROM d)"
        " SELECT " S_DEAL_J "::text FROM d",
        1, cb);
}

int sales_store_deal_lock(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p,
                          "SELECT " S_DEAL_J "::text, " S_PIPELINE_J "::text"
                          " FROM deal d JOIN pipeline pl ON pl.id = d.pipeline_id"
                          " WHERE d.id = $1::uuid FOR UPDATE OF d",
                          0, cb);
}

int sales_store_deal_move(crm_work_t *w, const char *id, const char *from, const char *to,
                          int probability, const char *next_step, const char *actor, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, from);
    crm_params_str(&p, to);
    crm_params_i64(&p, probability);
    crm_params_add(&p, next_step);
    crm_params_str(&p, actor);
    return crm_params_run(
        &p,
        "WITH d AS (UPDATE deal SET stage = $3::text, probability = $4::smallint,"
        "   next_step = COALESCE($5::text, next_step), updated_at = now()"
        "   WHERE id = $1::uuid RETURNING *),"
        " h AS (INSERT INTO deal_stage_history (deal_id, from_stage, to_stage,"
        "   probability, actor) SELECT d.id, $2::text, d.stage, d.probability, $6::text"
        "   FROM d)"
        " SELECT " S_DEAL_J "::text FROM d",
        1, cb);
}

int sales_store_deal_close(crm_work_t *w, const char *id, int won, const char *reason,
                           crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_bool(&p, won);
    crm_params_str(&p, reason);
    return crm_params_run(&p,
                          "UPDATE deal AS d SET status = CASE WHEN $2::boolean THEN 2 ELSE 3 END,"
                          " probability = CASE WHEN $2::boolean THEN 100 ELSE 0 END,"
                          " lost_reason = $3::text, closed_at = now(), updated_at = now()"
                          " WHERE d.id = $1::uuid RETURNING " S_DEAL_J "::text",
                          1, cb);
}

int sales_store_deal_show(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    /* History entries carry the deal as it was after the move: its id,
     * stage, probability and the time of the move (updated_at_us). */
    return crm_params_run(
        &p,
        "SELECT jsonb_build_object('deal', " S_DEAL_J ","
        " 'history', COALESCE((SELECT jsonb_agg(jsonb_build_object("
        "   'deal', jsonb_build_object('id', h.deal_id, 'stage', h.to_stage,"
        "     'probability', h.probability, 'updated_at_us', sales_us(h.changed_at)),"
        "   'from_stage', h.from_stage, 'to_stage', h.to_stage) ORDER BY h.id)"
        "   FROM deal_stage_history h WHERE h.deal_id = d.id), '[]'))::text"
        " FROM deal d WHERE d.id = $1::uuid",
        0, cb);
}

int sales_store_deal_list(crm_work_t *w, const Crm__V1__ListDealsRequest *rq,
                          const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, rq->owner);
    crm_params_opt(&p, rq->pipeline_id);
    crm_params_opt(&p, rq->stage);
    crm_params_opt_i64(&p, rq->status);
    crm_params_opt(&p, rq->person_id);
    crm_params_opt(&p, rq->close_from);
    crm_params_opt(&p, rq->close_to);
    s_page(&p, page);
    return crm_params_run(
        &p,
        "SELECT " S_DEAL_J "::text, sales_us(d.created_at), d.id::text FROM deal d"
        " WHERE ($1::text IS NULL OR d.owner = $1::text)"
        " AND ($2::uuid IS NULL OR d.pipeline_id = $2::uuid)"
        " AND ($3::text IS NULL OR lower(d.stage) = lower($3::text))"
        " AND ($4::smallint IS NULL OR d.status = $4::smallint)"
        " AND ($5::uuid IS NULL OR d.person_id = $5::uuid)"
        " AND ($6::date IS NULL OR d.expected_close_date >= $6::date)"
        " AND ($7::date IS NULL OR d.expected_close_date <= $7::date)"
        " AND ($8::bigint IS NULL OR (d.created_at, d.id) > (sales_ts($8::bigint), $9::uuid))"
        " ORDER BY d.created_at, d.id LIMIT $10::int",
        0, cb);
}

int sales_store_open_deal(crm_work_t *w, const char *person_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, person_id);
    return crm_params_run(&p,
                          "SELECT " S_DEAL_J "::text FROM deal d"
                          " WHERE d.person_id = $1::uuid AND d.status = 1"
                          " ORDER BY d.updated_at DESC, d.id LIMIT 1",
                          0, cb);
}

/* ---- data-quality findings ------------------------------------------------------------ */

int sales_store_dq_target(crm_work_t *w, const char *kind, const char *record_id,
                          const char *default_owner, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, kind);
    crm_params_str(&p, record_id);
    crm_params_str(&p, default_owner);
    return crm_params_run(
        &p,
        "WITH t AS ("
        " SELECT p.id AS person_id, NULL::uuid AS deal_id,"
        "  COALESCE(NULLIF(p.owner, ''), NULLIF(o.owner, ''), $3::text) AS owner"
        "  FROM person p LEFT JOIN organization o ON o.id = p.organization_id"
        "  WHERE $1::text IN ('unreachable', 'duplicate', 'not_contacted') AND p.id = $2::uuid"
        " UNION ALL"
        " SELECT d.person_id, d.id,"
        "  COALESCE(NULLIF(d.owner, ''), NULLIF(p.owner, ''), $3::text)"
        "  FROM deal d JOIN person p ON p.id = d.person_id"
        "  WHERE $1::text = 'deal_without_next_step' AND d.id = $2::uuid"
        "  AND d.status = 1 AND d.next_step = ''"
        " UNION ALL"
        " SELECT a.person_id, a.deal_id,"
        "  COALESCE(NULLIF(a.owner, ''), NULLIF(p.owner, ''), $3::text)"
        "  FROM activity a JOIN person p ON p.id = a.person_id"
        "  WHERE $1::text = 'overdue_activity' AND a.id = $2::uuid AND a.status = 1)"
        " SELECT t.person_id::text, COALESCE(t.deal_id::text, ''), t.owner,"
        " EXISTS (SELECT 1 FROM dq_task q WHERE q.kind = $1::text AND q.record_id = $2::uuid)"
        " FROM t LIMIT 1",
        0, cb);
}

int sales_store_dq_task_put(crm_work_t *w, const char *kind, const char *record_id,
                            const char *activity_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, kind);
    crm_params_str(&p, record_id);
    crm_params_str(&p, activity_id);
    return crm_params_run(&p,
                          "INSERT INTO dq_task (kind, record_id, activity_id)"
                          " VALUES ($1::text, $2::uuid, $3::uuid)",
                          1, cb);
}

/* ---- orders --------------------------------------------------------------------- */

int sales_store_order_context(crm_work_t *w, const char *person_id, const char *org_id,
                              const char *deal_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, person_id);
    crm_params_opt(&p, org_id);
    crm_params_opt(&p, deal_id);
    return crm_params_run(
        &p,
        "SELECT ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM person WHERE id = $1::uuid)),"
        " ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM organization WHERE id = $2::uuid)),"
        " ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM deal WHERE id = $3::uuid))",
        0, cb);
}

int sales_store_order_insert(crm_work_t *w, const Crm__V1__Order *o, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    json_t *items = json_array();
    for (size_t i = 0; items && i < o->n_items; i++) {
        const Crm__V1__OrderItem *it = o->items[i];
        json_array_append_new(items,
                              json_pack("{s:s, s:s, s:i, s:I}", "product_code", it->product_code,
                                        "name", it->name, "quantity", it->quantity,
                                        "unit_price_minor", (json_int_t)it->unit_price_minor));
    }
    crm_params_str(&p, o->id);
    crm_params_str(&p, o->person_id);
    crm_params_opt(&p, o->organization_id);
    crm_params_opt(&p, o->deal_id);
    crm_params_i64(&p, o->total_minor);
    crm_params_str(&p, o->currency);
    crm_params_opt_i64(&p, o->ordered_at_us);
    crm_params_json(&p, items);
    return crm_params_run(
        &p,
        "WITH r AS (INSERT INTO sales_order (id, person_id, organization_id, deal_id,"
        "   total_minor, currency, ordered_at)"
        "   VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::bigint, $6::text,"
        "   COALESCE(sales_ts($7::bigint), now())) RETURNING *),"
        " i AS (INSERT INTO order_item (order_id, position, product_code, name, quantity,"
        "   unit_price_minor)"
        "   SELECT r.id, s.ord, s.x ->> 'product_code', s.x ->> 'name',"
        "   (s.x ->> 'quantity')::int, (s.x ->> 'unit_price_minor')::bigint"
        "   FROM r, jsonb_array_elements($8::jsonb) WITH ORDINALITY AS s (x, ord))"
        " SELECT " S_ORDER_J("$8::jsonb") "::text FROM r",
        1, cb);
}

int sales_store_order_list(crm_work_t *w, const Crm__V1__ListOrdersRequest *rq,
                           const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, rq->person_id);
    crm_params_opt(&p, rq->organization_id);
    crm_params_opt_i64(&p, rq->from_us);
    crm_params_opt_i64(&p, rq->to_us);
    s_page(&p, page);
    return crm_params_run(
        &p,
        "SELECT " S_ORDER_J(
            S_ORDER_ITEMS_J) "::text, sales_us(r.created_at), r.id::text"
                             " FROM sales_order r"
                             " WHERE ($1::uuid IS NULL OR r.person_id = $1::uuid)"
                             " AND ($2::uuid IS NULL OR r.organization_id = $2::uuid)"
                             " AND ($3::bigint IS NULL OR r.ordered_at >= sales_ts($3::bigint))"
                             " AND ($4::bigint IS NULL OR r.ordered_at <= sales_ts($4::bigint))"
                             " AND ($5::bigint IS NULL OR (r.created_at, r.id) > "
                             "(sales_ts($5::bigint), $6::uuid))"
                             " ORDER BY r.created_at, r.id LIMIT $7::int",
        0, cb);
}

/* ---- activities -------------------------------------------------------------------- */

int sales_store_activity_context(crm_work_t *w, const char *person_id, const char *deal_id,
                                 crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, person_id);
    crm_params_opt(&p, deal_id);
    return crm_params_run(
        &p,
        "SELECT ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM person WHERE id = $1::uuid)),"
        " ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM deal WHERE id = $2::uuid)),"
        " (SELECT person_id::text FROM deal WHERE id = $2::uuid)",
        0, cb);
}

int sales_store_activity_insert(crm_work_t *w, const Crm__V1__Activity *a, int64_t due_in_us,
                                crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, a->id);
    crm_params_i64(&p, a->kind);
    crm_params_str(&p, a->subject);
    crm_params_str(&p, a->body);
    crm_params_str(&p, a->person_id);
    crm_params_opt(&p, a->deal_id);
    crm_params_str(&p, a->owner);
    crm_params_i64(&p, a->status);
    crm_params_opt_i64(&p, a->due_at_us);
    crm_params_i64(&p, due_in_us);
    crm_params_str(&p, a->outcome);
    crm_params_str(&p, a->next_action);
    crm_params_opt_i64(&p, a->next_action_due_us);
    return crm_params_run(
        &p,
        "INSERT INTO activity AS a (id, kind, subject, body, person_id, deal_id, owner,"
        " status, due_at, completed_at, outcome, next_action, next_action_due)"
        " VALUES ($1::uuid, $2::smallint, $3::text, $4::text, $5::uuid, $6::uuid,"
        " $7::text, $8::smallint,"
        " CASE WHEN $8::smallint = 1 THEN COALESCE(sales_ts($9::bigint),"
        "   now() + $10::bigint * interval '1 microsecond') END,"
        " CASE WHEN $8::smallint = 2 THEN now() END,"
        " $11::text, $12::text, sales_ts($13::bigint))"
        " RETURNING " S_ACTIVITY_J "::text",
        1, cb);
}

int sales_store_activity_lock(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(
        &p, "SELECT " S_ACTIVITY_J "::text FROM activity a WHERE a.id = $1::uuid FOR UPDATE", 0,
        cb);
}

int sales_store_activity_complete(crm_work_t *w, const Crm__V1__CompleteActivityRequest *rq,
                                  crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, rq->id);
    crm_params_str(&p, rq->outcome);
    crm_params_str(&p, rq->next_action);
    crm_params_opt_i64(&p, rq->next_action_due_us);
    return crm_params_run(
        &p,
        "UPDATE activity AS a SET status = 2, completed_at = now(), outcome = $2::text,"
        " next_action = $3::text, next_action_due = sales_ts($4::bigint),"
        " updated_at = now()"
        " WHERE a.id = $1::uuid RETURNING " S_ACTIVITY_J "::text",
        1, cb);
}

int sales_store_activity_list(crm_work_t *w, const Crm__V1__ListActivitiesRequest *rq,
                              const sales_page_t *page, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, rq->owner);
    crm_params_opt(&p, rq->person_id);
    crm_params_opt(&p, rq->deal_id);
    crm_params_opt_i64(&p, rq->status);
    crm_params_opt_i64(&p, rq->due_before_us);
    crm_params_bool(&p, rq->overdue);
    s_page(&p, page);
    return crm_params_run(
        &p,
        "SELECT " S_ACTIVITY_J "::text, sales_us(a.created_at), a.id::text FROM activity a"
        " WHERE ($1::text IS NULL OR a.owner = $1::text)"
        " AND ($2::uuid IS NULL OR a.person_id = $2::uuid)"
        " AND ($3::uuid IS NULL OR a.deal_id = $3::uuid)"
        " AND ($4::smallint IS NULL OR a.status = $4::smallint)"
        " AND ($5::bigint IS NULL OR (a.status = 1 AND a.due_at < sales_ts($5::bigint)))"
        " AND (NOT $6::boolean OR (a.status = 1 AND a.due_at < now()))"
        " AND ($7::bigint IS NULL OR (a.created_at, a.id) > (sales_ts($7::bigint), $8::uuid))"
        " ORDER BY a.created_at, a.id LIMIT $9::int",
        0, cb);
}

int sales_store_activity_due(crm_work_t *w, int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    /* SKIP LOCKED: an activity being completed right now is left to the
     * next scan rather than waited for. */
    return crm_params_run(
        &p,
        "WITH a AS (UPDATE activity SET due_notified = true, updated_at = now()"
        "   WHERE id IN (SELECT id FROM activity WHERE status = 1 AND NOT due_notified"
        "     AND due_at <= now() ORDER BY due_at, id LIMIT $1::int"
        "     FOR UPDATE SKIP LOCKED)"
        "   RETURNING *)"
        " SELECT " S_ACTIVITY_J "::text FROM a ORDER BY a.due_at, a.id",
        1, cb);
}
