/* store/segment.c: the SQL of segments: their rules turned into SQL conditions
 * (the only SQL built from pieces, and only from numbers), their members,
 * and campaign targeting by segment. */
#include "store_int.h"

#include <crm/params.h>

#include <jansson.h>
#include <stdio.h>

#define S_SEGMENT_J                                                                                \
    "jsonb_build_object('id', g.id, 'name', g.name, 'rules', g.rules,"                             \
    " 'created_at_us', mkt_us(g.created_at))"

const char *mkt_store_rule_sql(int kind, const char **operands)
{
    *operands = "v";
    switch (kind) {
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_PERSON_KIND:
        *operands = "a";
        return "pe.kind = $%1$d::int";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_COUNTRY:
        return "pe.country = upper(btrim($%1$d::text))";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_INDUSTRY:
        return "lower(pe.industry) = lower(btrim($%1$d::text))";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TAG:
        return "EXISTS (SELECT 1 FROM unnest(pe.tags) AS t"
               " WHERE lower(t) = lower(btrim($%1$d::text)))";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_BOUGHT_PRODUCT:
        return "EXISTS (SELECT 1 FROM purchase o WHERE o.customer_id = pe.id"
               " AND btrim($%1$d::text) = ANY(o.product_codes))";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_TOTAL_SPENT_AT_LEAST:
        *operands = "va";
        return "(SELECT COALESCE(sum(o.total_minor), 0) FROM purchase o"
               " WHERE o.customer_id = pe.id AND o.currency = upper(btrim($%1$d::text)))"
               " >= $%2$d::bigint";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS:
        *operands = "a";
        return "EXISTS (SELECT 1 FROM purchase o WHERE o.customer_id = pe.id"
               " AND o.ordered_at >= now() - $%1$d::int * interval '1 day')";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_RESPONDED_TO_CAMPAIGN:
        return "EXISTS (SELECT 1 FROM response r WHERE r.customer_id = pe.id"
               " AND r.campaign_id = $%1$d::uuid AND r.response <> 7)";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_CONVERTED_IN_CAMPAIGN:
        return "(EXISTS (SELECT 1 FROM response r WHERE r.customer_id = pe.id"
               " AND r.campaign_id = $%1$d::uuid AND r.response = 8)"
               " OR EXISTS (SELECT 1 FROM conversion v WHERE v.customer_id = pe.id"
               " AND v.campaign_id = $%1$d::uuid))";
    /* Support signals (the ticket table, consumer marketing.support). The
     * kinds without operands still reference theirs, typed, as every
     * pushed parameter must be. */
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_OPEN_TICKET:
        return "EXISTS (SELECT 1 FROM ticket k WHERE k.customer_id = pe.id"
               " AND k.status NOT IN (5, 6) AND $%1$d::text IS NOT NULL)";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_OPEN_SUPPORT_COMPLAINT:
        return "EXISTS (SELECT 1 FROM ticket k WHERE k.customer_id = pe.id"
               " AND k.status NOT IN (5, 6) AND k.type = 5 AND $%1$d::text IS NOT NULL)";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LOW_SATISFACTION:
        *operands = "va";
        return "CASE WHEN btrim($%1$d::text) = 'any' THEN EXISTS (SELECT 1 FROM ticket k"
               " WHERE k.customer_id = pe.id AND k.rating <= $%2$d::int)"
               " ELSE COALESCE((SELECT k.rating FROM ticket k WHERE k.customer_id = pe.id"
               " AND k.rating IS NOT NULL ORDER BY k.rated_at DESC, k.id LIMIT 1)"
               " <= $%2$d::int, false) END";
    case CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_INTEREST_TAG:
        return "EXISTS (SELECT 1 FROM ticket k, unnest(k.tags) AS t WHERE k.customer_id = pe.id"
               " AND lower(t) = lower(btrim($%1$d::text)))";
    }
    return NULL;
}

/* "true AND (...) AND NOT (...)" for checked rules, their operands
 * appended to p. NULL when out of memory or a kind is unknown. */
static char *s_conditions(crm_params_t *p, Crm__V1__SegmentRule *const *rules, size_t n)
{
    char *sql = crm_work_strdup(p->w, "true");
    for (size_t i = 0; sql && i < n; i++) {
        const char *ops, *frag = mkt_store_rule_sql((int)rules[i]->kind, &ops);
        char cond[512];
        if (!frag)
            return NULL;
        int first = p->n + 1;
        for (const char *o = ops; *o; o++) {
            if (*o == 'v')
                crm_params_str(p, rules[i]->value);
            else
                crm_params_i64(p, rules[i]->amount);
        }
        snprintf(cond, sizeof cond, frag, first, first + 1);
        sql = crm_work_printf(p->w, "%s AND %s(%s)", sql, rules[i]->negate ? "NOT " : "", cond);
    }
    return sql;
}

static json_t *s_rules_json(Crm__V1__SegmentRule *const *rules, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:i, s:s, s:I, s:b}", "kind", (int)rules[i]->kind,
                                           "value", rules[i]->value, "amount",
                                           (json_int_t)rules[i]->amount, "negate",
                                           (int)rules[i]->negate));
    return a;
}

int mkt_store_segment_insert(crm_work_t *w, const Crm__V1__Segment *g, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, g->id);
    crm_params_str(&p, g->name);
    crm_params_json(&p, s_rules_json(g->rules, g->n_rules));
    return crm_params_run(&p,
                          "WITH g AS (INSERT INTO segment (id, name, rules)"
                          " VALUES ($1::uuid, btrim($2), $3::jsonb) RETURNING *)"
                          " SELECT " S_SEGMENT_J " FROM g",
                          1, cb);
}

int mkt_store_segment_get(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(&p, "SELECT " S_SEGMENT_J " FROM segment g WHERE g.id = $1::uuid", 0, cb);
}

int mkt_store_segment_list(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(
        &p, "SELECT " S_SEGMENT_J " FROM segment g ORDER BY g.created_at DESC, g.id LIMIT 500", 0,
        cb);
}

int mkt_store_segment_list_timed(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, CRM__V1__SEGMENT_RULE_KIND__SEGMENT_RULE_KIND_LAST_ORDER_WITHIN_DAYS);
    return crm_params_run(&p,
                          "SELECT " S_SEGMENT_J " FROM segment g"
                          " WHERE g.rules @> jsonb_build_array(jsonb_build_object('kind', $1::int))"
                          " ORDER BY g.created_at DESC, g.id LIMIT 500",
                          0, cb);
}

int mkt_store_segment_members(crm_work_t *w, Crm__V1__SegmentRule *const *rules, size_t n,
                              int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    char *cond = s_conditions(&p, rules, n);
    char *sql = cond ? crm_work_printf(w,
                                       "SELECT count(*) OVER (), pe.id::text FROM person pe"
                                       " WHERE %s ORDER BY pe.id LIMIT $1::int",
                                       cond)
                     : NULL;
    if (!sql)
        p.oom = 1;
    return crm_params_run(&p, sql, 0, cb);
}

int mkt_store_segment_stored(crm_work_t *w, const char *id, int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, limit);
    return crm_params_run(&p,
                          "SELECT count(*) OVER (), customer_id::text FROM segment_member"
                          " WHERE segment_id = $1::uuid ORDER BY customer_id LIMIT $2::int",
                          0, cb);
}

int mkt_store_target_segment(crm_work_t *w, const char *campaign_id, const char *segment_id,
                             int always_on, Crm__V1__SegmentRule *const *rules, size_t n,
                             crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, campaign_id);
    crm_params_str(&p, segment_id);
    crm_params_bool(&p, always_on);
    char *cond = s_conditions(&p, rules, n);
    /* `ao` runs although nothing reads it (PostgreSQL runs every
     * data-modifying WITH exactly once). */
    char *sql =
        cond ? crm_work_printf(
                   w,
                   "WITH ao AS (UPDATE campaign SET always_on_segment_id = $2::uuid,"
                   " updated_at = now() WHERE id = $1::uuid AND $3::boolean RETURNING 1),"
                   " ins AS (INSERT INTO campaign_recipient (campaign_id,"
                   " customer_id) SELECT $1::uuid, pe.id FROM person pe WHERE %s"
                   " ON CONFLICT DO NOTHING RETURNING customer_id)"
                   " SELECT (SELECT count(*) FROM ins),"
                   " (SELECT count(*) FROM ins) + (SELECT count(*)"
                   "  FROM campaign_recipient WHERE campaign_id = $1::uuid), " MKT_SQL_TARGETED,
                   cond)
             : NULL;
    if (!sql)
        p.oom = 1;
    return crm_params_run(&p, sql, 1, cb);
}

int mkt_store_segment_refresh(crm_work_t *w, const char *id, Crm__V1__SegmentRule *const *rules,
                              size_t n, const char *customer_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_opt(&p, customer_id);
    char *cond = s_conditions(&p, rules, n);
    char *sql = cond ? crm_work_printf(
                           w,
                           "WITH cur AS (SELECT pe.id FROM person pe WHERE %s"
                           "  AND ($2::uuid IS NULL OR pe.id = $2::uuid)),"
                           " joined AS (INSERT INTO segment_member (segment_id, customer_id)"
                           "  SELECT $1::uuid, id FROM cur ON CONFLICT DO NOTHING"
                           "  RETURNING customer_id),"
                           " left_ AS (DELETE FROM segment_member m WHERE m.segment_id = $1::uuid"
                           "  AND ($2::uuid IS NULL OR m.customer_id = $2::uuid)"
                           "  AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.id = m.customer_id)"
                           "  RETURNING customer_id),"
                           /* Always-on campaigns that run enrol whoever joined,
                            * once: the recipient row stays when they leave, so
                            * re-entering conflicts and adds nothing. */
                           " enrolled AS (INSERT INTO campaign_recipient (campaign_id,"
                           "  customer_id) SELECT c.id, j.customer_id FROM joined j"
                           "  JOIN campaign c ON c.always_on_segment_id = $1::uuid"
                           "  AND c.status = 3 ON CONFLICT DO NOTHING"
                           "  RETURNING campaign_id, customer_id)"
                           " SELECT true, customer_id::text, NULL::text FROM joined"
                           " UNION ALL SELECT false, customer_id::text, NULL FROM left_"
                           " UNION ALL SELECT true, customer_id::text, campaign_id::text"
                           "  FROM enrolled"
                           " ORDER BY 3 NULLS FIRST, 2, 1",
                           cond)
                     : NULL;
    if (!sql)
        p.oom = 1;
    return crm_params_run(&p, sql, 1, cb);
}
