/* store/person.c: the SQL of people: lookup by email, insert, the
 * per-field last-writer-wins update and merge (sales_fv_* in sql/), lists.
 * Custom fields travel as JSON built with jansson. */
#include "records.h"

#include "rules.h"

#include <jansson.h>

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

static json_t *s_custom_fields(const Crm__V1__Person *p)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < p->n_custom_fields; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "key", p->custom_fields[i]->key, "value",
                                           p->custom_fields[i]->value));
    return a;
}

/* $1..$13 the person's values, $14 the changed fields, $15 the version
 * time, $16 the source, $17 the fax number. */
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
    crm_params_str(q, p->fax);
}

#define S_PERSON_COLS                                                                              \
    "id, kind, name, emails, phones, organization_id, title, address, country, industry, tags,"    \
    " owner, custom_fields, registered_by, field_versions, fax"

#define S_PERSON_VALUES                                                                            \
    "$1::uuid, $2::smallint, $3::text, $4::text[], $5::text[], $6::uuid, $7::text, $8::text,"      \
    " $9::text, $10::text, $11::text[], $12::text, $13::jsonb, $16::text,"                         \
    " sales_fv_stamp('{}', $14::text[], $15::bigint, $16::text), $17::text"

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
    S_LWW("fax", "$17::text")                                                                      \
    "field_versions = sales_fv_stamp(p.field_versions, $14::text[], $15::bigint, $16::text),"      \
    " updated_at = CASE WHEN sales_fv_stamp(p.field_versions, $14::text[], $15::bigint,"           \
    " $16::text) = p.field_versions THEN p.updated_at ELSE now() END"

int sales_store_person_register(crm_work_t *w, const Crm__V1__Person *p, unsigned changed,
                                int64_t version_us, const char *source, crm_work_cb cb)
{
    crm_params_t q = CRM_PARAMS(w);
    s_person_params(&q, p, changed, version_us, source);
    /* The lookup, the organisation's check and the insert in one round
     * trip, through a PL/pgSQL function so that their plans are kept
     * (sql/0014, 0015), prepared by name so that the call is not parsed and
     * planned each time either. Two registrations of one email never
     * run interleaved (commands.c keys them by email), and the id the
     * customer-id rule derives from the first email makes a racing peer's
     * insert of the same person a conflict, which answers the row that won.
     * A person inserted comes back as its creation instant only (0016): the
     * handler builds it from what it sent. */
    return crm_params_run_named(
        &q, "sales_person_register",
        "SELECT o_found, o_org_ok, o_person, o_created, o_now_us FROM sales_person_register("
        "$1::uuid, $2::smallint, $3::text, $4::text[], $5::text[], $6::uuid,"
        " $7::text, $8::text, $9::text, $10::text, $11::text[], $12::text,"
        " $13::jsonb, $14::text[], $15::bigint, $16::text, $17::text)",
        1, cb);
}

/* A text[] literal of v[0..n) as one value, for an element of a text[]
 * of literals; NULL when out of memory. */
static char *s_literal(crm_work_t *w, char *const *v, size_t n)
{
    crm_params_t t = CRM_PARAMS(w);
    crm_params_textv(&t, v, n);
    return t.oom ? NULL : (char *)t.v[0];
}

/* The same for the names of the fields in `bits`. */
static char *s_fields_literal(crm_work_t *w, unsigned bits)
{
    char *names[SALES_PF_COUNT];
    size_t n = 0;
    for (int i = 0; i < SALES_PF_COUNT; i++)
        if (bits & (1u << i))
            names[n++] = (char *)sales_person_field_name(i);
    return s_literal(w, names, n);
}

int sales_store_person_register_run(crm_work_t *w, const Crm__V1__Person *const *people,
                                    const unsigned *changed, const int64_t *version_us, size_t n,
                                    const char *source, crm_work_cb cb)
{
    crm_params_t q = CRM_PARAMS(w);
    enum {
        ID,
        NAME,
        EMAILS,
        PHONES,
        ORG,
        TITLE,
        ADDRESS,
        COUNTRY,
        INDUSTRY,
        TAGS,
        OWNER,
        CHANGED,
        FAX,
        NTEXT
    };
    char **t = crm_work_alloc(w, NTEXT * n * sizeof *t);
    int64_t *kinds = crm_work_alloc(w, n * sizeof *kinds);
    json_t *custom = json_array();
    int oom = !t || !kinds || !custom;
    for (size_t i = 0; !oom && i < n; i++) {
        const Crm__V1__Person *p = people[i];
        char *v[NTEXT] = {
            [ID] = p->id,
            [NAME] = p->name,
            [EMAILS] = s_literal(w, p->emails, p->n_emails),
            [PHONES] = s_literal(w, p->phones, p->n_phones),
            [ORG] = p->organization_id,
            [TITLE] = p->title,
            [ADDRESS] = p->address,
            [COUNTRY] = p->country,
            [INDUSTRY] = p->industry,
            [TAGS] = s_literal(w, p->tags, p->n_tags),
            [OWNER] = p->owner,
            [CHANGED] = s_fields_literal(w, changed[i]),
            [FAX] = p->fax,
        };
        oom = !v[EMAILS] || !v[PHONES] || !v[TAGS] || !v[CHANGED];
        for (size_t c = 0; c < NTEXT; c++)
            t[c * n + i] = v[c] ? v[c] : (char *)"";
        kinds[i] = p->kind ? p->kind : CRM__V1__PERSON_KIND__PERSON_KIND_PROSPECT;
        json_t *cf = s_custom_fields(p);
        oom = oom || !cf || json_array_append_new(custom, cf) < 0;
    }
    if (oom) {
        json_decref(custom);
        crm_work_fail_nomem(w);
        return -1;
    }
    static const int s_order[] = {ID,    -1,      NAME,    EMAILS,   PHONES, ORG,
                                  TITLE, ADDRESS, COUNTRY, INDUSTRY, TAGS,   OWNER};
    for (size_t k = 0; k < sizeof s_order / sizeof s_order[0]; k++) {
        if (s_order[k] < 0)
            crm_params_i64v(&q, kinds, n); /* $2 */
        else
            crm_params_textv(&q, t + (size_t)s_order[k] * n, n);
    }
    crm_params_json(&q, custom);              /* $13 */
    crm_params_textv(&q, t + CHANGED * n, n); /* $14 */
    crm_params_i64v(&q, version_us, n);       /* $15 */
    crm_params_str(&q, source);               /* $16 */
    crm_params_textv(&q, t + FAX * n, n);     /* $17 */
    /* One call for the run, its plans kept like the one-command form's. */
    return crm_params_run_named(
        &q, "sales_person_register_run",
        "SELECT o_ord, o_found, o_org_ok, o_person, o_created, o_now_us"
        " FROM sales_person_register_run($1::uuid[], $2::smallint[], $3::text[], $4::text[],"
        " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],"
        " $12::text[], $13::jsonb, $14::text[], $15::bigint[], $16::text, $17::text[])",
        1, cb);
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
                          " RETURNING " SALES_PERSON_J "::text, (p.xmax = 0)",
                          1, cb);
}

int sales_store_person_get(crm_work_t *w, const char *id, const char *email, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    if (id && *id) {
        crm_params_str(&p, id);
        return crm_params_run(&p,
                              /* a merged id shows its survivor (crm_alias) */
                              "SELECT " SALES_PERSON_J
                              "::text FROM person p WHERE p.id = crm_alias_of($1)::uuid",
                              0, cb);
    }
    crm_params_str(&p, email);
    return crm_params_run(&p,
                          "SELECT " SALES_PERSON_J "::text FROM person p"
                          " WHERE p.id = " SALES_PERSON_BY_EMAILS("ARRAY[$1::text]"),
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
        "SELECT " SALES_PERSON_J "::text,"
        " (WITH pe AS MATERIALIZED (SELECT person_id FROM person_email"
        "   WHERE email = ANY ($2::text[]))"
        "  SELECT o.id::text FROM pe JOIN person o ON o.id = pe.person_id WHERE o.id <> p.id"
        "  ORDER BY o.created_at, o.id LIMIT 1),"
        " ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM organization WHERE id = $3::uuid)),"
        " EXISTS (SELECT 1 FROM person_erasure e WHERE e.id = p.id)"
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
                          " RETURNING " SALES_PERSON_J "::text",
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
                          ", COALESCE(sales_ts($18::bigint), now()))"
                          " ON CONFLICT (id) DO UPDATE SET " S_PERSON_MERGE
                          /* an erased person is never filled in again */
                          " WHERE NOT EXISTS (SELECT 1 FROM person_erasure e WHERE e.id = p.id)",
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
    sales_store_page(&p, page);
    crm_params_reach(&p, CRM_REC_PERSON, CRM_ACT_READ);
    return crm_params_run(
        &p,
        "SELECT " SALES_PERSON_J "::text, sales_us(p.created_at), p.id::text FROM person p"
        " WHERE ($1::smallint IS NULL OR p.kind = $1::smallint)"
        " AND ($2::text IS NULL OR p.owner = $2::text)"
        /* "tags <> '{}'": the tags' index holds only people with tags (0015) */
        " AND ($3::text IS NULL OR (p.tags @> ARRAY[$3::text] AND p.tags <> '{}'))"
        " AND ($4::uuid IS NULL OR p.organization_id = $4::uuid)"
        " AND ($5::text IS NULL OR p.name ILIKE sales_contains($5::text)"
        "      OR EXISTS (SELECT 1 FROM unnest(p.emails) e"
        "                 WHERE e ILIKE sales_contains($5::text)))"
        " AND ($6::bigint IS NULL OR p.created_at >= sales_ts($6::bigint))"
        " AND ($7::bigint IS NULL OR p.created_at <= sales_ts($7::bigint))"
        " AND ($8::bigint IS NULL OR (p.created_at, p.id) > (sales_ts($8::bigint), $9::uuid))"
        " AND ($11::text[] IS NULL OR p.owner = ANY($11::text[]))"
        " ORDER BY p.created_at, p.id LIMIT $10::int",
        0, cb);
}
