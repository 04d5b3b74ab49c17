/* store.c: every SQL statement of support, and nothing else.
 *
 * Values travel as out-of-line text parameters collected in the work's
 * arena; arrays go as PostgreSQL array literals with proper quoting.
 * Records come back as one jsonb object per record, built by the S_*_J
 * expressions below, whose keys are the crm.v1 field names. */
#include "store.h"

#include <crm/params.h>

#include <assert.h>
#include <inttypes.h>
#include <string.h>

/* ---- records as JSON ------------------------------------------------------- */

#define S_TICKET_J                                                                                 \
    "(jsonb_build_object('id', t.id, 'customer_id', t.customer_id,"                                \
    " 'requester_email', t.requester_email, 'requester_name', t.requester_name,"                   \
    " 'channel', t.channel, 'type', t.type, 'priority', t.priority, 'status', t.status,"           \
    " 'assignee', t.assignee, 'team', t.team, 'tags', t.tags, 'subject', t.subject,"               \
    " 'description', t.description,"                                                               \
    " 'resolution', jsonb_build_object('category', t.resolution_category,"                         \
    "   'text', t.resolution_text),"                                                               \
    " 'satisfaction', jsonb_build_object('rating', t.rating, 'comment', t.rating_comment,"         \
    "   'rated_at_us', t.rated_us),"                                                               \
    " 'first_response_target_minutes', t.fr_target_min,"                                           \
    " 'resolution_target_minutes', t.res_target_min,"                                              \
    " 'first_response_due_us', t.fr_due_us, 'resolution_due_us', t.res_due_us,"                    \
    " 'first_response_at_risk_us', t.fr_risk_us, 'resolution_at_risk_us', t.res_risk_us)"          \
    " || jsonb_build_object('first_responded_at_us', t.first_responded_us,"                        \
    " 'resolved_at_us', t.resolved_us, 'sla_paused_at_us', t.paused_us,"                           \
    " 'first_response_remaining_us', t.fr_remaining_us,"                                           \
    " 'resolution_remaining_us', t.res_remaining_us,"                                              \
    " 'first_response_at_risk', t.fr_at_risk, 'first_response_breached', t.fr_breached,"           \
    " 'resolution_at_risk', t.res_at_risk, 'resolution_breached', t.res_breached,"                 \
    " 'created_at_us', t.created_us, 'updated_at_us', t.updated_us))"

#define S_MESSAGE_J                                                                                \
    "jsonb_build_object('id', m.id, 'ticket_id', m.ticket_id, 'kind', m.kind,"                     \
    " 'author', m.author, 'body', m.body, 'created_at_us', m.created_us)"

#define S_PERSON_J                                                                                 \
    "jsonb_build_object('id', p.id, 'name', p.name, 'emails', p.emails,"                           \
    " 'registered_by', p.registered_by, 'created_at_us', p.created_us,"                            \
    " 'updated_at_us', p.updated_us)"

#define S_POLICY_J                                                                                 \
    "jsonb_build_object('priority', s.priority,"                                                   \
    " 'first_response_minutes', s.first_response_minutes,"                                         \
    " 'resolution_minutes', s.resolution_minutes)"

/* The calendar and its zone table, four columns (sla_calendar c). */
#define S_CALENDAR_COLS "c.doc::text, c.zone_base, c.zone_change_us::text, c.zone_change_off::text"

/* ---- people ------------------------------------------------------------------- */

int support_store_open_context(crm_work_t *w, const char *customer_id, const char *email,
                               int priority, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt(&p, customer_id);
    crm_params_opt(&p, email);
    crm_params_i64(&p, priority);
    /* A PL/pgSQL function prepared by name, its plans kept for the
     * connection (sql/0007_open_plans.sql builds S_PERSON_J and S_POLICY_J
     * there: keep them alike); the columns are those of S_CALENDAR_COLS. */
    return crm_params_run_named(&p, "support_open_context",
                                "SELECT o_person, o_policy, o_calendar, o_zone_base,"
                                " o_zone_change_us, o_zone_change_off"
                                " FROM support_open_context($1::uuid, $2::text, $3::smallint)",
                                0, cb);
}

int support_store_person_upsert(crm_work_t *w, const Crm__V1__Person *src, const char *source,
                                int64_t now_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, src->id);
    crm_params_str(&p, src->name);
    crm_params_textv(&p, src->emails, src->n_emails);
    crm_params_str(&p, source);
    crm_params_i64(&p, src->created_at_us ? src->created_at_us : now_us);
    crm_params_i64(&p, now_us);
    return crm_params_run(
        &p,
        "INSERT INTO person AS p (id, name, emails, registered_by, created_us, updated_us)"
        " VALUES ($1::uuid, $2::text, $3::text[], $4::text, $5::bigint, $6::bigint)"
        " ON CONFLICT (id) DO UPDATE SET"
        /* An event about a merged id lands on the survivor (the alias
         * trigger, crm/alias.h), whose row then differs from the event's id:
         * such a late event follows the merge's conflict rule
         * (docs/architecture.md, "Merge"): the survivor's name wins when
         * set, and the emails are the union, the survivor's first. */
        " name = CASE WHEN p.id <> $1::uuid AND p.name <> '' THEN p.name"
        "   WHEN excluded.name <> '' THEN excluded.name ELSE p.name END,"
        " emails = CASE WHEN p.id <> $1::uuid THEN p.emails || ARRAY(SELECT e FROM"
        "   unnest(excluded.emails) WITH ORDINALITY u(e, o) WHERE NOT e = ANY (p.emails)"
        "   ORDER BY o)"
        "   WHEN cardinality(excluded.emails) > 0 THEN excluded.emails ELSE p.emails END,"
        " updated_us = excluded.updated_us"
        /* an erased person is never filled in again (handlers/erasure.c) */
        " WHERE NOT EXISTS (SELECT 1 FROM person_erasure e WHERE e.id = p.id)",
        1, cb);
}

int support_store_preferences(crm_work_t *w, const char *customer_id, char *const *opted_out,
                              size_t n, const char *preferred, int64_t now_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, customer_id);
    crm_params_textv(&p, opted_out, n);
    crm_params_str(&p, preferred);
    crm_params_i64(&p, now_us);
    return crm_params_run(
        &p,
        "INSERT INTO person AS p (id, registered_by, do_not_contact, preferred_channel,"
        " created_us, updated_us)"
        " VALUES ($1::uuid, 'marketing', $2::text[], $3, $4::bigint, $4::bigint)"
        /* Preferences about a merged id (landing on the survivor, as in
         * support_store_person_upsert) add their opt-outs to the
         * survivor's (the union, the stricter) and fill an empty channel. */
        " ON CONFLICT (id) DO UPDATE SET do_not_contact = CASE WHEN p.id <> $1::uuid THEN"
        "   ARRAY(SELECT DISTINCT x FROM unnest(p.do_not_contact || excluded.do_not_contact) x"
        "   ORDER BY x) ELSE excluded.do_not_contact END,"
        " preferred_channel = CASE WHEN p.id <> $1::uuid AND p.preferred_channel <> ''"
        "   THEN p.preferred_channel ELSE excluded.preferred_channel END,"
        " updated_us = excluded.updated_us",
        1, cb);
}

/* ---- tickets ----------------------------------------------------------------------- */

int support_store_ticket_insert(crm_work_t *w, const Crm__V1__Ticket *t, int register_customer,
                                crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, t->id);
    crm_params_str(&p, t->customer_id);
    crm_params_str(&p, t->requester_email);
    crm_params_str(&p, t->requester_name);
    crm_params_i64(&p, t->channel);
    crm_params_i64(&p, t->type);
    crm_params_i64(&p, t->priority);
    crm_params_i64(&p, t->status);
    crm_params_str(&p, t->assignee);
    crm_params_str(&p, t->team);
    crm_params_textv(&p, t->tags, t->n_tags);
    crm_params_str(&p, t->subject);
    crm_params_str(&p, t->description);
    crm_params_i64(&p, t->first_response_target_minutes);
    crm_params_i64(&p, t->resolution_target_minutes);
    crm_params_i64(&p, t->first_response_due_us);
    crm_params_i64(&p, t->resolution_due_us);
    crm_params_i64(&p, t->first_response_at_risk_us);
    crm_params_i64(&p, t->resolution_at_risk_us);
    crm_params_i64(&p, t->created_at_us);
    crm_params_bool(&p, register_customer);
    /* One round trip for both: the requester's person row (when $21) goes
     * in first, within the statement, so the ticket's foreign key, checked
     * at its end, finds it. Prepared by name: its text never changes.
     * Nothing comes back as JSON: the ticket's JSON alone cost 0.05 ms of
     * the backend's time a row (thirty-odd values typed at every call,
     * written out and parsed back), for values the caller sent. */
    return crm_params_run_named(
        &p, "support_ticket_insert",
        "WITH np AS (INSERT INTO person AS p (id, name, emails, registered_by, created_us,"
        "   updated_us)"
        "  SELECT $2::uuid, $4::text,"
        "   CASE WHEN $3::text <> '' THEN ARRAY[$3::text] ELSE '{}' END, 'support',"
        "   $20::bigint, $20::bigint WHERE $21::boolean"
        "  ON CONFLICT (id) DO NOTHING RETURNING p.id)"
        " INSERT INTO ticket AS t (id, customer_id, requester_email, requester_name,"
        " channel, type, priority, status, assignee, team, tags, subject, description,"
        " fr_target_min, res_target_min, fr_due_us, res_due_us, fr_risk_us, res_risk_us,"
        " created_us, updated_us) VALUES ($1::uuid, $2::uuid, $3::text, $4::text, $5::smallint,"
        " $6::smallint, $7::smallint, $8::smallint, $9::text, $10::text, $11::text[], $12::text,"
        " $13::text, $14::int, $15::int, $16::bigint, $17::bigint, $18::bigint, $19::bigint,"
        " $20::bigint, $20::bigint) RETURNING t.customer_id::text, (SELECT np.id::text FROM np)",
        1, cb);
}

/* ---- support.ticket.open's set-based form (handlers/ticket_run.c) ---------------- */

int support_store_open_context_run(crm_work_t *w, char *const *customers, char *const *emails,
                                   const int64_t *priorities, size_t n, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_textv(&p, customers, n);
    crm_params_textv(&p, emails, n);
    crm_params_i64v(&p, priorities, n);
    /* Prepared by name, as support_open_context: sql/0010_open_run.sql. */
    return crm_params_run_named(
        &p, "support_open_context_run",
        "SELECT r_o, r_person_id, r_person_name, r_fr_minutes, r_res_minutes, r_calendar,"
        " r_zone_base, r_zone_change_us, r_zone_change_off"
        " FROM support_open_context_run($1::text[], $2::text[], $3::smallint[])",
        0, cb);
}

/* The columns of support_store_ticket_insert_run, each an array of n. */
enum { S_RUN_TEXT = 9, S_RUN_INT = 12 };

int support_store_ticket_insert_run(crm_work_t *w, Crm__V1__Ticket *const *tickets,
                                    const int *register_customer, size_t n, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    char **s[S_RUN_TEXT];
    int64_t *v[S_RUN_INT];
    size_t m = n ? n : 1;
    int oom = 0;
    for (size_t k = 0; k < S_RUN_TEXT; k++)
        oom |= !(s[k] = crm_work_alloc(w, m * sizeof **s));
    for (size_t k = 0; k < S_RUN_INT; k++)
        oom |= !(v[k] = crm_work_alloc(w, m * sizeof **v));
    for (size_t i = 0; i < n && !oom; i++) {
        const Crm__V1__Ticket *t = tickets[i];
        /* Each ticket's tags as a text[] literal, an element of a text[]
         * read back with ::text[] (an array of arrays must be rectangular). */
        crm_params_t tp = CRM_PARAMS(w);
        crm_params_textv(&tp, t->tags, t->n_tags);
        oom |= tp.oom || !tp.v[0];
        const char *text[S_RUN_TEXT] = {
            t->id,   t->customer_id, t->requester_email, t->requester_name, t->assignee,
            t->team, tp.v[0],        t->subject,         t->description};
        const int64_t num[S_RUN_INT] = {t->channel,
                                        t->type,
                                        t->priority,
                                        t->status,
                                        t->first_response_target_minutes,
                                        t->resolution_target_minutes,
                                        t->first_response_due_us,
                                        t->resolution_due_us,
                                        t->first_response_at_risk_us,
                                        t->resolution_at_risk_us,
                                        t->created_at_us,
                                        register_customer[i] ? 1 : 0};
        for (size_t k = 0; k < S_RUN_TEXT; k++)
            s[k][i] = (char *)text[k];
        for (size_t k = 0; k < S_RUN_INT; k++)
            v[k][i] = num[k];
    }
    if (oom) {
        crm_work_fail_nomem(w);
        return -1;
    }
    for (size_t k = 0; k < 4; k++)
        crm_params_textv(&p, s[k], n);
    for (size_t k = 0; k < 4; k++)
        crm_params_i64v(&p, v[k], n);
    for (size_t k = 4; k < S_RUN_TEXT; k++)
        crm_params_textv(&p, s[k], n);
    for (size_t k = 4; k < S_RUN_INT; k++)
        crm_params_i64v(&p, v[k], n);
    /* support_store_ticket_insert for a run: the same rows from arrays,
     * the requesters to register first, in the run's order (so that of two
     * commands whose requesters' ids a merge made one, the first registers
     * it, as one at a time). Each row comes back with its ordinal in the
     * arrays, the ticket's customer as stored (crm_alias) and the
     * registered person's id (NULL when none: not asked, or there
     * already). */
    return crm_params_run_named(
        &p, "support_ticket_insert_run",
        "WITH u AS MATERIALIZED (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[],"
        " $4::text[], $5::smallint[], $6::smallint[], $7::smallint[], $8::smallint[], $9::text[],"
        " $10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::int[],"
        " $16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[], $21::int[])"
        " WITH ORDINALITY AS u(id, cu, em, nm, ch, ty, pr, st, asg, tm, tg, sj, ds, frt, rst,"
        " frd, rsd, frr, rsr, cr, reg, o)),"
        " np AS (INSERT INTO person AS p (id, name, emails, registered_by, created_us,"
        "   updated_us)"
        "  SELECT u.cu, u.nm, CASE WHEN u.em <> '' THEN ARRAY[u.em] ELSE '{}' END, 'support',"
        "   u.cr, u.cr FROM u WHERE u.reg = 1 ORDER BY u.o"
        "  ON CONFLICT (id) DO NOTHING RETURNING p.id),"
        " t AS (INSERT INTO ticket AS t (id, customer_id, requester_email, requester_name,"
        " channel, type, priority, status, assignee, team, tags, subject, description,"
        " fr_target_min, res_target_min, fr_due_us, res_due_us, fr_risk_us, res_risk_us,"
        " created_us, updated_us) SELECT u.id, u.cu, u.em, u.nm, u.ch, u.ty, u.pr, u.st, u.asg,"
        " u.tm, u.tg::text[], u.sj, u.ds, u.frt, u.rst, u.frd, u.rsd, u.frr, u.rsr, u.cr, u.cr"
        " FROM u ORDER BY u.o RETURNING t.id, t.customer_id)"
        " SELECT x.o, x.customer_id::text, CASE WHEN x.reg = 1 AND x.o = min(x.o) FILTER"
        "  (WHERE x.reg = 1) OVER (PARTITION BY x.customer_id) THEN np.id::text END"
        " FROM (SELECT u.o, u.reg, t.customer_id FROM u JOIN t ON t.id = u.id) x"
        " LEFT JOIN np ON np.id = x.customer_id ORDER BY x.o",
        1, cb);
}

int support_store_ticket_lock(crm_work_t *w, const char *id, int priority, const char *sender,
                              crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_i64(&p, priority);
    crm_params_opt(&p, sender);
    return crm_params_run(&p,
                          "SELECT " S_TICKET_J "::text, " S_CALENDAR_COLS ", (SELECT " S_POLICY_J
                          "::text FROM sla_policy s WHERE s.priority = $2::smallint),"
                          " ($3::text = t.requester_email OR EXISTS (SELECT 1 FROM person p"
                          "   WHERE p.id = t.customer_id AND $3::text = ANY (p.emails)))"
                          " FROM ticket t, sla_calendar c WHERE t.id = $1::uuid AND c.id = 1"
                          " FOR UPDATE OF t",
                          0, cb);
}

int support_store_ticket_save(crm_work_t *w, const Crm__V1__Ticket *t, crm_work_cb cb)
{
    /* priority and the targets change with support.ticket.prioritize. */
    const Crm__V1__TicketResolution *r = t->resolution;
    const Crm__V1__TicketSatisfaction *s = t->satisfaction;
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, t->id);
    crm_params_i64(&p, t->status);
    crm_params_str(&p, t->assignee);
    crm_params_str(&p, t->team);
    crm_params_textv(&p, t->tags, t->n_tags);
    crm_params_str(&p, r ? r->category : "");
    crm_params_str(&p, r ? r->text : "");
    crm_params_i64(&p, s ? s->rating : 0);
    crm_params_str(&p, s ? s->comment : "");
    crm_params_i64(&p, s ? s->rated_at_us : 0);
    crm_params_i64(&p, t->first_response_due_us);
    crm_params_i64(&p, t->resolution_due_us);
    crm_params_i64(&p, t->first_response_at_risk_us);
    crm_params_i64(&p, t->resolution_at_risk_us);
    crm_params_i64(&p, t->first_responded_at_us);
    crm_params_i64(&p, t->resolved_at_us);
    crm_params_i64(&p, t->sla_paused_at_us);
    crm_params_i64(&p, t->first_response_remaining_us);
    crm_params_i64(&p, t->resolution_remaining_us);
    crm_params_i64(&p, t->updated_at_us);
    crm_params_i64(&p, t->priority);
    crm_params_i64(&p, t->first_response_target_minutes);
    crm_params_i64(&p, t->resolution_target_minutes);
    return crm_params_run(
        &p,
        "UPDATE ticket t SET status = $2::smallint, assignee = $3, team = $4,"
        " tags = $5::text[], resolution_category = $6, resolution_text = $7,"
        " rating = $8::smallint, rating_comment = $9, rated_us = $10::bigint,"
        " fr_due_us = $11::bigint, res_due_us = $12::bigint, fr_risk_us = $13::bigint,"
        " res_risk_us = $14::bigint, first_responded_us = $15::bigint,"
        " resolved_us = $16::bigint, paused_us = $17::bigint,"
        " fr_remaining_us = $18::bigint, res_remaining_us = $19::bigint,"
        " updated_us = $20::bigint, priority = $21::smallint, fr_target_min = $22::int,"
        " res_target_min = $23::int WHERE t.id = $1::uuid RETURNING " S_TICKET_J "::text",
        1, cb);
}

int support_store_message_insert(crm_work_t *w, const Crm__V1__TicketMessage *m, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, m->id);
    crm_params_str(&p, m->ticket_id);
    crm_params_i64(&p, m->kind);
    crm_params_str(&p, m->author);
    crm_params_str(&p, m->body);
    crm_params_i64(&p, m->created_at_us);
    return crm_params_run(
        &p,
        "INSERT INTO ticket_message AS m (id, ticket_id, kind, author, body, created_us)"
        " VALUES ($1::uuid, $2::uuid, $3::smallint, $4, $5, $6::bigint)"
        " RETURNING " S_MESSAGE_J "::text",
        1, cb);
}

int support_store_ticket_show(crm_work_t *w, const char *id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    return crm_params_run(
        &p,
        "SELECT jsonb_build_object('ticket', " S_TICKET_J ", 'messages',"
        " (SELECT COALESCE(jsonb_agg(" S_MESSAGE_J " ORDER BY m.created_us, m.id), '[]')"
        "  FROM ticket_message m WHERE m.ticket_id = t.id),"
        " 'do_not_contact', p.do_not_contact, 'preferred_channel', p.preferred_channel)::text"
        " FROM ticket t JOIN person p ON p.id = t.customer_id WHERE t.id = $1::uuid",
        0, cb);
}

int support_store_ticket_list(crm_work_t *w, const Crm__V1__ListTicketsRequest *rq,
                              int64_t after_us, const char *after_id, int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_opt_i64(&p, rq->status);
    crm_params_opt_i64(&p, rq->priority);
    crm_params_opt(&p, rq->assignee);
    crm_params_add(&p, rq->breached ? "true" : "false");
    crm_params_opt(&p, rq->customer_id);
    crm_params_i64(&p, limit);
    crm_params_opt_i64(&p, after_us);
    crm_params_opt(&p, after_id);
    crm_params_reach(&p, CRM_REC_TICKET, CRM_ACT_READ);
    return crm_params_run(
        &p,
        "SELECT " S_TICKET_J "::text, t.created_us, t.id::text FROM ticket t"
        " WHERE ($1::smallint IS NULL OR t.status = $1::smallint)"
        " AND ($2::smallint IS NULL OR t.priority = $2::smallint)"
        " AND ($3::text IS NULL OR t.assignee = $3::text)"
        " AND (NOT $4::boolean OR t.fr_breached OR t.res_breached)"
        " AND ($5::uuid IS NULL OR t.customer_id = $5::uuid)"
        " AND ($7::bigint IS NULL OR (t.created_us, t.id) > ($7::bigint, $8::uuid))"
        " AND ($9::text[] IS NULL OR t.assignee = ANY($9::text[]))"
        " ORDER BY t.created_us, t.id LIMIT $6::int",
        0, cb);
}

/* ---- SLA settings -------------------------------------------------------------------- */

int support_store_policy_set(crm_work_t *w, const Crm__V1__SlaPolicy *pol, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, pol->priority);
    crm_params_i64(&p, pol->first_response_minutes);
    crm_params_i64(&p, pol->resolution_minutes);
    return crm_params_run(&p,
                          "INSERT INTO sla_policy AS s VALUES ($1::smallint, $2::int, $3::int)"
                          " ON CONFLICT (priority) DO UPDATE SET"
                          " first_response_minutes = excluded.first_response_minutes,"
                          " resolution_minutes = excluded.resolution_minutes RETURNING " S_POLICY_J
                          "::text",
                          1, cb);
}

int support_store_policy_list(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p, "SELECT " S_POLICY_J "::text FROM sla_policy s ORDER BY s.priority",
                          0, cb);
}

int support_store_zone_known(crm_work_t *w, const char *zone, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, zone);
    return crm_params_run(
        &p, "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1::text)", 0, cb);
}

int support_store_calendar_lock(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(
        &p, "SELECT " S_CALENDAR_COLS " FROM sla_calendar c WHERE c.id = 1 FOR UPDATE", 0, cb);
}

int support_store_calendar_set(crm_work_t *w, const char *json, const char *zone, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, json);
    if (!*zone)
        return crm_params_run(&p,
                              "UPDATE sla_calendar c SET doc = $1::jsonb, zone_base = 0,"
                              " zone_change_us = '{}', zone_change_off = '{}'"
                              " WHERE c.id = 1 RETURNING " S_CALENDAR_COLS,
                              1, cb);
    crm_params_str(&p, zone);
    return crm_params_run(&p,
                          "UPDATE sla_calendar c SET doc = $1::jsonb,"
                          " (zone_base, zone_change_us, zone_change_off) ="
                          " (SELECT z.base, z.change_us, z.change_off"
                          "  FROM support_zone_changes($2::text) z)"
                          " WHERE c.id = 1 RETURNING " S_CALENDAR_COLS,
                          1, cb);
}

int support_store_running(crm_work_t *w, int64_t now_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, now_us);
    return crm_params_run(&p,
                          "SELECT " S_TICKET_J "::text FROM ticket t"
                          " WHERE t.status IN (1, 2) AND t.paused_us = 0"
                          " AND ((t.first_responded_us = 0 AND t.fr_due_us > $1::bigint)"
                          "  OR t.res_due_us > $1::bigint)"
                          " ORDER BY t.id FOR UPDATE",
                          0, cb);
}

int support_store_rearm(crm_work_t *w, char *const *ids, char *const *fr_due, char *const *fr_risk,
                        char *const *res_due, char *const *res_risk, size_t n, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_textv(&p, ids, n);
    crm_params_textv(&p, fr_due, n);
    crm_params_textv(&p, fr_risk, n);
    crm_params_textv(&p, res_due, n);
    crm_params_textv(&p, res_risk, n);
    return crm_params_run(&p,
                          "UPDATE ticket t SET fr_due_us = u.fd, fr_risk_us = u.fr,"
                          " res_due_us = u.rd, res_risk_us = u.rr"
                          " FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[],"
                          "  $5::bigint[]) AS u(id, fd, fr, rd, rr) WHERE t.id = u.id",
                          1, cb);
}

int support_store_calendar_show(crm_work_t *w, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    return crm_params_run(&p, "SELECT doc::text FROM sla_calendar WHERE id = 1", 0, cb);
}

/* Whether the instant `at` passed by $1 while the clock ran and before the
 * target was met (`met` = 0 when not met). */
#define S_PASSED(at, met)                                                                          \
    "(" at " > 0 AND " at " <= $1::bigint AND (" met " = 0 OR " met " > " at ")"                   \
    " AND (t.paused_us = 0 OR t.paused_us > " at "))"

/* The four instants a scan raises, each once. */
#define S_A1 "(NOT t.fr_at_risk AND " S_PASSED("t.fr_risk_us", "t.first_responded_us") ")"
#define S_B1 "(NOT t.fr_breached AND " S_PASSED("t.fr_due_us", "t.first_responded_us") ")"
#define S_A2 "(NOT t.res_at_risk AND " S_PASSED("t.res_risk_us", "0") ")"
#define S_B2 "(NOT t.res_breached AND " S_PASSED("t.res_due_us", "0") ")"

int support_store_sla_scan(crm_work_t *w, int64_t now_us, int limit, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, now_us);
    crm_params_i64(&p, limit);
    /* SKIP LOCKED: a ticket being changed right now is left to the next
     * scan rather than waited for. */
    return crm_params_run(
        &p,
        "WITH c AS (SELECT t.id, " S_A1 " AS a1, " S_B1 " AS b1, " S_A2 " AS a2,"
        " " S_B2 " AS b2 FROM ticket t"
        " WHERE t.sla_next_us <= $1::bigint"
        " AND (" S_A1 " OR " S_B1 " OR " S_A2 " OR " S_B2 ")"
        " ORDER BY t.sla_next_us, t.id LIMIT $2::int FOR UPDATE OF t SKIP LOCKED)"
        " UPDATE ticket t SET fr_at_risk = t.fr_at_risk OR c.a1,"
        " fr_breached = t.fr_breached OR c.b1, res_at_risk = t.res_at_risk OR c.a2,"
        " res_breached = t.res_breached OR c.b2 FROM c WHERE t.id = c.id"
        " RETURNING " S_TICKET_J "::text, c.a1, c.b1, c.a2, c.b2",
        1, cb);
}

int support_store_figures(crm_work_t *w, int64_t from_us, int64_t to_us, int64_t at_us,
                          crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, from_us);
    crm_params_i64(&p, to_us);
    crm_params_i64(&p, at_us);
    return crm_params_run(&p, "SELECT support_figures($1::bigint, $2::bigint, $3::bigint)::text", 0,
                          cb);
}

int support_store_reply_mail_thread(crm_work_t *w, const char *ticket_id, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, ticket_id);
    return crm_params_run(&p,
                          "SELECT message_id FROM reply_mail WHERE ticket_id = $1::uuid"
                          " ORDER BY created_us, id",
                          0, cb);
}

int support_store_reply_mail_put(crm_work_t *w, const char *id, const char *ticket_id,
                                 const char *message_id, const char *to, const char *raw,
                                 int64_t now_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, id);
    crm_params_str(&p, ticket_id);
    crm_params_str(&p, message_id);
    crm_params_str(&p, to);
    crm_params_str(&p, raw);
    crm_params_i64(&p, now_us);
    return crm_params_run(&p,
                          "INSERT INTO reply_mail (id, ticket_id, message_id, to_addr, raw,"
                          " created_us) VALUES ($1::uuid, $2::uuid, $3::text, $4::text, $5::text,"
                          " $6::bigint)",
                          1, cb);
}

int support_store_reply_mail_due(crm_work_t *w, int limit, int64_t now_us, crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_i64(&p, limit);
    crm_params_i64(&p, now_us);
    return crm_params_run(&p,
                          "SELECT id::text, to_addr, raw FROM reply_mail"
                          " WHERE sent_us = 0 AND next_try_us <= $2::bigint AND attempts < 20"
                          " ORDER BY next_try_us, created_us, id LIMIT $1::int",
                          0, cb);
}

int support_store_reply_mail_outcome(crm_work_t *w, const char *outcomes, int64_t now_us,
                                     crm_work_cb cb)
{
    crm_params_t p = CRM_PARAMS(w);
    crm_params_str(&p, outcomes);
    crm_params_i64(&p, now_us);
    /* A failure is tried again after 2^attempts seconds (at most an hour). */
    return crm_params_run(
        &p,
        "UPDATE reply_mail m SET attempts = m.attempts + 1,"
        " sent_us = CASE WHEN (o ->> 'ok')::boolean THEN $2::bigint ELSE 0 END,"
        " last_error = COALESCE(o ->> 'error', ''),"
        " next_try_us = $2::bigint + least(3600, power(2, m.attempts))::bigint * 1000000"
        " FROM jsonb_array_elements($1::jsonb) o WHERE m.id = (o ->> 'id')::uuid",
        1, cb);
}
