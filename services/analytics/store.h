/* store.h: every statement analytics runs. The fold of an event into the
 * projections and the reports are SQL functions in sql/ (one place for the
 * logic that live application and rebuild share); these calls pass them
 * out-of-line parameters. Each result is one row unless said otherwise. */
#ifndef ANALYTICS_STORE_H
#define ANALYTICS_STORE_H

#include <crm/service.h>
#include <stdint.h>

/* Records and projects one event given as JSON. At most one row, when the
 * event is about a customer: (customer, at_us, health inputs JSON, stored
 * score or NULL, stored churn state or NULL, publish). */
int an_store_apply(crm_work_t *w, const char *source, uint64_t seq, const char *event_json,
                   crm_work_cb cb);

/* Stores a customer's health (reasons: a JSON array of strings), as the
 * work's last write: the caller ends the work right after (its answer
 * comes with the transaction's closing statements, crm_work_exec_last). */
int an_store_health_put(crm_work_t *w, const char *customer_id, int score, const char *reasons_json,
                        int churn_high, int64_t at_us);

/* A run of events in one statement (sql/R_apply.sql an_apply_run):
 * [{"s": source, "q": sequence, "e": event JSON}, ...]. A row per event
 * about a customer: (place in the run from 1, then an_store_apply's). */
int an_store_apply_run(crm_work_t *w, const char *run_json, crm_work_cb cb);

/* Stores the health of a run's customers, the last given per customer:
 * [{"c": customer, "s": score, "r": reasons, "h": churn high, "t": at_us}],
 * as the carrier's last write (an_store_health_put). */
int an_store_health_put_run(crm_work_t *w, const char *health_json);

/* One jsonb column, NULL when the customer is unknown (by as_of_us when
 * it is not 0). Instants in microseconds; at_us is never 0 here. */
int an_store_customer_show(crm_work_t *w, const char *customer_id, int64_t as_of_us, int64_t at_us,
                           int64_t per_ticket, int64_t per_hour, crm_work_cb cb);
int an_store_customer_timeline(crm_work_t *w, const char *customer_id, int64_t at_us,
                               crm_work_cb cb);

/* Reports: one jsonb column each. */
int an_store_report_kpis(crm_work_t *w, int64_t at_us, int64_t per_ticket, int64_t per_hour,
                         crm_work_cb cb);
int an_store_report_health(crm_work_t *w, int64_t at_us, crm_work_cb cb);
/* Customers, revenue, churn and retention per `period` ("week", "month",
 * "quarter", "year") from from_us to to_us (sql/0012_trends.sql). */
int an_store_report_trends(crm_work_t *w, int64_t from_us, int64_t to_us, const char *period,
                           crm_work_cb cb);
/* Average LTV and CAC per acquisition channel at at_us. */
int an_store_report_channels(crm_work_t *w, int64_t at_us, crm_work_cb cb);
int an_store_report_potential(crm_work_t *w, int64_t at_us, const char *thresholds, crm_work_cb cb);
int an_store_report_pipeline(crm_work_t *w, crm_work_cb cb);
int an_store_report_forecast(crm_work_t *w, int64_t at_us, crm_work_cb cb);
int an_store_report_weekly(crm_work_t *w, int64_t week_start_us, const char *rep, crm_work_cb cb);
int an_store_report_campaigns(crm_work_t *w, const char *campaign_id, crm_work_cb cb);
int an_store_report_data_quality(crm_work_t *w, int64_t at_us, crm_work_cb cb);

/* Rows (kind, record_id, customer_id, team, detail) of findings at at_us
 * not published before, at most `limit`, now recorded as published.
 * Nothing while a rebuild replays. */
/* analytics.data_quality.resolve: records the resolution of the pair
 * unless either customer is unknown; returns (record known, original
 * known, inserted) as booleans. */
int an_store_dq_resolve(crm_work_t *w, const char *record_id, const char *original_id,
                        int resolution, const char *note, crm_work_cb cb);
int an_store_dq_claim(crm_work_t *w, int64_t at_us, int limit, crm_work_cb cb);

/* Drops the projections and rewinds the consumers; one row: events
 * dropped. */
int an_store_rebuild(crm_work_t *w, crm_work_cb cb);

/* Rows (consumer, source, seq) of analytics' consumers, then one row
 * (events, customers, rebuilding, rebuilt_at_us) from the second call. */
int an_store_positions(crm_work_t *w, crm_work_cb cb);
int an_store_counts(crm_work_t *w, crm_work_cb cb);

#endif
