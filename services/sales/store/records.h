/* store/records.h: what the store files share, private to them.
 *
 * Records leave the database as one jsonb object per record whose keys are
 * the crm.v1 field names (store.h); the expressions that build them are
 * here, once, because a statement in one file often returns a record that
 * belongs to another (a lead's conversion reads a person, an organisation
 * and a pipeline). Each expects its table under the alias named in it. */
#ifndef SALES_STORE_RECORDS_H
#define SALES_STORE_RECORDS_H

#include "store.h"

#include <crm/params.h>

/* The id of the person of any of the emails `arr` (a text[] expression):
 * the oldest of them, by a btree probe of person_email per email
 * (sql/0013_person_email.sql), whatever the number of people. The email's
 * rows first (MATERIALIZED): with "ORDER BY created_at LIMIT 1" alone the
 * planner may walk person in that order and probe person_email for each,
 * which for an email nobody has reads every person. */
#define SALES_PERSON_BY_EMAILS(arr)                                                                \
    "(WITH pe AS MATERIALIZED (SELECT person_id FROM person_email WHERE email = ANY (" arr "))"    \
    " SELECT pe_p.id FROM pe JOIN person pe_p ON pe_p.id = pe.person_id"                           \
    " ORDER BY pe_p.created_at, pe_p.id LIMIT 1)"

/* sql/0014_person_register.sql has the same as sales_person_j(): keep them alike. */
#define SALES_PERSON_J                                                                             \
    "jsonb_build_object('id', p.id, 'kind', p.kind, 'name', p.name, 'emails', p.emails,"           \
    " 'phones', p.phones, 'organization_id', p.organization_id, 'title', p.title,"                 \
    " 'address', p.address, 'country', p.country, 'industry', p.industry, 'tags', p.tags,"         \
    " 'owner', p.owner, 'custom_fields', p.custom_fields,"                                         \
    " 'created_at_us', sales_us(p.created_at), 'updated_at_us', sales_us(p.updated_at),"           \
    " 'registered_by', p.registered_by, 'fax', p.fax)"

#define SALES_ORG_J                                                                                \
    "jsonb_build_object('id', o.id, 'name', o.name, 'domain', o.domain, 'industry', o.industry,"   \
    " 'country', o.country, 'owner', o.owner, 'tags', o.tags,"                                     \
    " 'created_at_us', sales_us(o.created_at))"

#define SALES_LEAD_J                                                                               \
    "jsonb_build_object('id', l.id, 'name', l.name, 'email', l.email, 'phone', l.phone,"           \
    " 'company', l.company, 'source', l.source, 'campaign_id', l.campaign_id,"                     \
    " 'status', l.status, 'owner', l.owner, 'notes', l.notes,"                                     \
    " 'qualification', l.qualification, 'disqualify_reason', l.disqualify_reason,"                 \
    " 'person_id', l.person_id, 'organization_id', l.organization_id, 'deal_id', l.deal_id,"       \
    " 'created_at_us', sales_us(l.created_at), 'updated_at_us', sales_us(l.updated_at))"

#define SALES_PIPELINE_J                                                                           \
    "jsonb_build_object('id', pl.id, 'name', pl.name, 'is_default', pl.is_default,"                \
    " 'stages', (SELECT jsonb_agg(jsonb_build_object('name', s.name,"                              \
    "   'probability', s.probability) ORDER BY s.position)"                                        \
    "   FROM pipeline_stage s WHERE s.pipeline_id = pl.id))"

#define SALES_DEAL_J                                                                               \
    "jsonb_build_object('id', d.id, 'title', d.title, 'person_id', d.person_id,"                   \
    " 'organization_id', d.organization_id, 'pipeline_id', d.pipeline_id, 'stage', d.stage,"       \
    " 'amount_minor', d.amount_minor, 'currency', d.currency, 'probability', d.probability,"       \
    " 'expected_close_date', d.expected_close_date, 'owner', d.owner,"                             \
    " 'next_step', d.next_step, 'status', d.status, 'lost_reason', d.lost_reason,"                 \
    " 'closed_at_us', sales_us(d.closed_at), 'created_at_us', sales_us(d.created_at),"             \
    " 'updated_at_us', sales_us(d.updated_at), 'lead_id', d.lead_id)"

/* An order, its items given as a jsonb expression. */
/* sql/0014_person_register.sql builds the same in sales_order_create(): keep them alike. */
#define SALES_ORDER_J(items)                                                                       \
    "jsonb_build_object('id', r.id, 'person_id', r.person_id,"                                     \
    " 'organization_id', r.organization_id, 'deal_id', r.deal_id, 'items', " items ","             \
    " 'total_minor', r.total_minor, 'currency', r.currency,"                                       \
    " 'ordered_at_us', sales_us(r.ordered_at), 'refunded_minor', r.refunded_minor,"                \
    " 'cancelled_at_us', sales_us(r.cancelled_at))"

#define SALES_ORDER_ITEMS_J                                                                        \
    "COALESCE((SELECT jsonb_agg(jsonb_build_object('product_code', i.product_code,"                \
    " 'name', i.name, 'quantity', i.quantity, 'unit_price_minor', i.unit_price_minor,"             \
    " 'refunded_quantity', i.refunded_quantity)"                                                   \
    " ORDER BY i.position) FROM order_item i WHERE i.order_id = r.id), '[]')"

/* sql/0014_person_register.sql builds the same in sales_activity_log(): keep them alike. */
#define SALES_ACTIVITY_J                                                                           \
    "jsonb_build_object('id', a.id, 'kind', a.kind, 'subject', a.subject, 'body', a.body,"         \
    " 'person_id', a.person_id, 'deal_id', a.deal_id, 'owner', a.owner, 'status', a.status,"       \
    " 'due_at_us', sales_us(a.due_at), 'completed_at_us', sales_us(a.completed_at),"               \
    " 'outcome', a.outcome, 'next_action', a.next_action,"                                         \
    " 'next_action_due_us', sales_us(a.next_action_due),"                                          \
    " 'created_at_us', sales_us(a.created_at), 'due_notified', a.due_notified,"                    \
    " 'override_reason', a.override_reason)"

#define SALES_SUBSCRIPTION_J                                                                       \
    "jsonb_build_object('id', s.id, 'person_id', s.person_id, 'plan', s.plan,"                     \
    " 'amount_minor', s.amount_minor, 'currency', s.currency, 'period', s.period,"                 \
    " 'start_date', s.start_date, 'renewal_date', s.renewal_date, 'status', s.status,"             \
    " 'owner', s.owner, 'cancel_reason', s.cancel_reason,"                                         \
    " 'cancelled_at_us', sales_us(s.cancelled_at), 'created_at_us', sales_us(s.created_at),"       \
    " 'updated_at_us', sales_us(s.updated_at), 'renewal_task_id', s.renewal_task_id)"

/* Keyset position and limit of a list: three parameters. */
static inline void sales_store_page(crm_params_t *p, const sales_page_t *page)
{
    crm_params_opt_i64(p, page->after_us);
    crm_params_opt(p, page->after_id);
    crm_params_i64(p, page->limit);
}

#endif
