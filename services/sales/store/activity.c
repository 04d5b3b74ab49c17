/* store/activity.c: the SQL of activities, and the due scan that
 * announces scheduled ones once they fall due. */
#include "records.h"

#include <jansson.h>

int sales_store_activity_context(crm_work_t *w, const char *person_id, const char *deal_id,
                                 crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, person_id);
    crm_params_opt(&p, deal_id);
    return crm_params_run(
        &p,
        /* a merged id names its survivor (crm_alias) */
        "SELECT ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM person"
        "  WHERE id = crm_alias_of($1::uuid::text)::uuid)),"
        " ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM deal WHERE id = $2::uuid)),"
        " (SELECT person_id::text FROM deal WHERE id = $2::uuid),"
        " (SELECT to_jsonb(o.channels)::text FROM contact_opt_out o"
        "  WHERE o.person_id = COALESCE(crm_alias_of($1::uuid::text)::uuid,"
        "   (SELECT person_id FROM deal WHERE id = $2::uuid))),"
        /* The purposes whose marketing consent the person withdrew. */
        " (SELECT jsonb_agg(k.purpose ORDER BY k.purpose)::text FROM contact_consent k"
        "  WHERE NOT k.granted AND k.person_id = COALESCE(crm_alias_of($1::uuid::text)::uuid,"
        "   (SELECT person_id FROM deal WHERE id = $2::uuid)))",
        0, cb);
}

int sales_store_consent_put(crm_work_t *w, const char *person_id, int purpose, int granted,
                            int64_t at_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, person_id);
    crm_params_i64(&p, purpose);
    crm_params_bool(&p, granted);
    crm_params_i64(&p, at_us);
    return crm_params_run(
        &p,
        "INSERT INTO contact_consent AS t (person_id, purpose, granted, at)"
        " VALUES ($1::uuid, $2::int, $3::boolean,"
        "  'epoch'::timestamptz + $4::bigint * interval '1 microsecond')"
        " ON CONFLICT (person_id, purpose) DO UPDATE SET granted = EXCLUDED.granted,"
        "  at = EXCLUDED.at, updated_at = now() WHERE EXCLUDED.at >= t.at",
        1, cb);
}

int sales_store_opt_outs_put(crm_work_t *w, const char *person_id, const int *channels, size_t n,
                             crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer(channels[i]));
    crm_params_str(&p, person_id);
    crm_params_json(&p, a);
    return crm_params_run(
        &p,
        "INSERT INTO contact_opt_out AS t (person_id, channels)"
        " VALUES ($1::uuid, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)::int ORDER BY 1))"
        " ON CONFLICT (person_id) DO UPDATE SET channels = EXCLUDED.channels, updated_at = now()",
        1, cb);
}

/* $1..$14 the activity's values (sales_store_activity_insert). */
static void s_activity_params(crm_params_t *p, const Crm__V1__Activity *a, int64_t due_in_us)
{
    crm_params_str(p, a->id);
    crm_params_i64(p, a->kind);
    crm_params_str(p, a->subject);
    crm_params_str(p, a->body);
    crm_params_str(p, a->person_id);
    crm_params_opt(p, a->deal_id);
    crm_params_str(p, a->owner);
    crm_params_i64(p, a->status);
    crm_params_opt_i64(p, a->due_at_us);
    crm_params_i64(p, due_in_us);
    crm_params_str(p, a->outcome);
    crm_params_str(p, a->next_action);
    crm_params_opt_i64(p, a->next_action_due_us);
    crm_params_str(p, a->override_reason);
}

#define S_ACTIVITY_COLS                                                                            \
    "id, kind, subject, body, person_id, deal_id, owner, status, due_at, completed_at, outcome,"   \
    " next_action, next_action_due, override_reason"

#define S_ACTIVITY_VALUES                                                                          \
    "$1::uuid, $2::smallint, $3::text, $4::text, $5::uuid, $6::uuid, $7::text, $8::smallint,"      \
    " CASE WHEN $8::smallint = 1 THEN COALESCE(sales_ts($9::bigint),"                              \
    "   now() + $10::bigint * interval '1 microsecond') END,"                                      \
    " CASE WHEN $8::smallint = 2 THEN now() END,"                                                  \
    " $11::text, $12::text, sales_ts($13::bigint), $14::text"

int sales_store_activity_insert(crm_work_t *w, const Crm__V1__Activity *a, int64_t due_in_us,
                                crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    s_activity_params(&p, a, due_in_us);
    return crm_params_run(&p,
                          "INSERT INTO activity AS a (" S_ACTIVITY_COLS ")"
                          " VALUES (" S_ACTIVITY_VALUES ") RETURNING " SALES_ACTIVITY_J "::text",
                          1, cb);
}

int sales_store_activity_log(crm_work_t *w, const Crm__V1__Activity *a, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    s_activity_params(&p, a, 0);
    /* The checks and the insert in one round trip, inserted only when the
     * person and the deal (if any) exist, through a PL/pgSQL function so
     * that the plans are kept (sql/0014_person_register.sql); prepared by
     * name, so that the call is not parsed and planned each time either. */
    return crm_params_run_named(&p, "sales_activity_log",
                                "SELECT o_person_ok, o_deal_ok, o_person_id, o_deal_id,"
                                " o_due_at_us, o_completed_at_us, o_next_action_due_us,"
                                " o_created_at_us FROM sales_activity_log("
                                "$1::uuid, $2::smallint, $3::text, $4::text, $5::uuid, $6::uuid,"
                                " $7::text, $8::smallint, $9::bigint, $10::bigint, $11::text,"
                                " $12::text, $13::bigint, $14::text)",
                                1, cb);
}

int sales_store_activity_log_run(crm_work_t *w, Crm__V1__Activity *const *acts, size_t n,
                                 crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    char **t = crm_work_alloc(w, 8 * n * sizeof *t);
    int64_t *nums = crm_work_alloc(w, 2 * n * sizeof *nums);
    if (!t || !nums) {
        crm_work_fail_nomem(w);
        return -1;
    }
    /* text columns, each n long: id, subject, body, person, deal, owner,
     * outcome, next action ("" for no deal) */
    for (size_t i = 0; i < n; i++) {
        const Crm__V1__Activity *a = acts[i];
        char *const v[8] = {a->id,      a->subject, a->body,    a->person_id,
                            a->deal_id, a->owner,   a->outcome, a->next_action};
        for (size_t c = 0; c < 8; c++)
            t[c * n + i] = v[c] ? v[c] : (char *)"";
        nums[i] = a->kind;
        nums[n + i] = a->next_action_due_us;
    }
    crm_params_textv(&p, t, n);         /* $1 ids */
    crm_params_i64v(&p, nums, n);       /* $2 kinds */
    crm_params_textv(&p, t + n, n);     /* $3 subjects */
    crm_params_textv(&p, t + 2 * n, n); /* $4 bodies */
    crm_params_textv(&p, t + 3 * n, n); /* $5 persons */
    crm_params_textv(&p, t + 4 * n, n); /* $6 deals */
    crm_params_textv(&p, t + 5 * n, n); /* $7 owners */
    crm_params_textv(&p, t + 6 * n, n); /* $8 outcomes */
    crm_params_textv(&p, t + 7 * n, n); /* $9 next actions */
    crm_params_i64v(&p, nums + n, n);   /* $10 next actions' due times, 0 = none */
    /* One call for the run, its plans kept like the one-command form's. */
    return crm_params_run_named(
        &p, "sales_activity_log_run",
        "SELECT o_ord, o_person_ok, o_deal_ok, o_person_id, o_deal_id, o_due_at_us,"
        " o_completed_at_us, o_next_action_due_us, o_created_at_us FROM sales_activity_log_run("
        "$1::uuid[], $2::smallint[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[],"
        " $8::text[], $9::text[], $10::bigint[])",
        1, cb);
}

int sales_store_activity_lock(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(
        &p, "SELECT " SALES_ACTIVITY_J "::text FROM activity a WHERE a.id = $1::uuid FOR UPDATE", 0,
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
        " WHERE a.id = $1::uuid RETURNING " SALES_ACTIVITY_J "::text",
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
    sales_store_page(&p, page);
    crm_params_reach(&p, CRM_REC_ACTIVITY, CRM_ACT_READ);
    return crm_params_run(
        &p,
        "SELECT " SALES_ACTIVITY_J "::text, sales_us(a.created_at), a.id::text FROM activity a"
        " WHERE ($1::text IS NULL OR a.owner = $1::text)"
        " AND ($2::uuid IS NULL OR a.person_id = $2::uuid)"
        " AND ($3::uuid IS NULL OR a.deal_id = $3::uuid)"
        " AND ($4::smallint IS NULL OR a.status = $4::smallint)"
        " AND ($5::bigint IS NULL OR (a.status = 1 AND a.due_at < sales_ts($5::bigint)))"
        " AND (NOT $6::boolean OR (a.status = 1 AND a.due_at < now()))"
        " AND ($7::bigint IS NULL OR (a.created_at, a.id) > (sales_ts($7::bigint), $8::uuid))"
        " AND ($10::text[] IS NULL OR a.owner = ANY($10::text[]))"
        " ORDER BY a.created_at, a.id LIMIT $9::int",
        0, cb);
}

int sales_store_activity_due(crm_work_t *w, int limit, int64_t now_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    crm_params_i64(&p, now_us);
    /* SKIP LOCKED: an activity being completed right now is left to the
     * next scan rather than waited for. */
    return crm_params_run(
        &p,
        "WITH a AS (UPDATE activity SET due_notified = true, updated_at = now()"
        "   WHERE id IN (SELECT id FROM activity WHERE status = 1 AND NOT due_notified"
        "     AND due_at <= sales_ts($2::bigint) ORDER BY due_at, id LIMIT $1::int"
        "     FOR UPDATE SKIP LOCKED)"
        "   RETURNING *)"
        " SELECT " SALES_ACTIVITY_J "::text FROM a ORDER BY a.due_at, a.id",
        1, cb);
}
