/* service_metrics.c: what a service counts, as Prometheus text for
 * /metrics: commands and their latency, batches, the stream, the bus, and
 * each consumer's position per source. */
#include "auth.h"
#include "svc_int.h"

#include <crm/metrics.h>

#include <inttypes.h>
#include <stdint.h>

static const double s_lat_bounds[CRM_LAT_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                     0.1,    0.2,   0.5,   1,     2,    5,    10};

void crm_service_observe_latency(crm_service_t *svc, int64_t us)
{
    double s = (double)us / 1e6;
    int i = 0;
    while (i < CRM_LAT_BUCKETS && s > s_lat_bounds[i])
        i++;
    svc->m.lat_buckets[i]++;
    svc->m.lat_sum += s;
    svc->m.lat_count++;
}

/* Milliseconds apart up to the deadline's range (80 ms by default), so
 * the parts of a tail near 100 ms can be told apart. */
static const double s_part_bounds[CRM_PART_BUCKETS] = {0.001, 0.002, 0.005, 0.01, 0.015, 0.02,
                                                       0.03,  0.04,  0.05,  0.06, 0.07,  0.08,
                                                       0.09,  0.1,   0.12,  0.15, 0.2,   0.5};

void crm_service_observe_part(crm_part_hist_t *h, int64_t us)
{
    double s = (double)us / 1e6;
    int i = 0;
    while (i < CRM_PART_BUCKETS && s > s_part_bounds[i])
        i++;
    h->buckets[i]++;
    h->sum += s;
    h->count++;
}

static void s_part_hist(crm_http_response_t *res, const char *svc_name, const char *name,
                        const char *help, const crm_part_hist_t *h)
{
    crm_http_response_printf(res, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    int64_t cum = 0;
    for (int i = 0; i < CRM_PART_BUCKETS; i++) {
        cum += h->buckets[i];
        crm_http_response_printf(res, "%s_bucket{crm_service=\"%s\",le=\"%g\"} %" PRId64 "\n", name,
                                 svc_name, s_part_bounds[i], cum);
    }
    cum += h->buckets[CRM_PART_BUCKETS];
    crm_http_response_printf(
        res,
        "%s_bucket{crm_service=\"%s\",le=\"+Inf\"} %" PRId64
        "\n%s_sum{crm_service=\"%s\"} %.6f\n%s_count{crm_service=\"%s\"} %" PRId64 "\n",
        name, svc_name, cum, name, svc_name, h->sum, name, svc_name, h->count);
}

void crm_service_metrics(crm_service_t *svc, crm_http_response_t *res)
{
    const char *n = crm_service_name(svc);
    const crm_metrics_t *m = &svc->m;
    crm_http_response_content_type(res, "text/plain; version=0.0.4; charset=utf-8");
    crm_metrics_write_std(res);
#define COUNTER(name, help, v)                                                                     \
    crm_http_response_printf(res,                                                                  \
                             "# HELP " name " " help "\n# TYPE " name " counter\n" name            \
                             "{crm_service=\"%s\"} %" PRId64 "\n",                                 \
                             n, (int64_t)(v))
/* A gauge in seconds (Prometheus' unit), to the microsecond. */
#define GAUGE_S(name, help, v)                                                                     \
    crm_http_response_printf(res,                                                                  \
                             "# HELP " name " " help "\n# TYPE " name " gauge\n" name              \
                             "{crm_service=\"%s\"} %.6f\n",                                        \
                             n, (double)(v))
#define GAUGE(name, help, v)                                                                       \
    crm_http_response_printf(res,                                                                  \
                             "# HELP " name " " help "\n# TYPE " name " gauge\n" name              \
                             "{crm_service=\"%s\"} %" PRId64 "\n",                                 \
                             n, (int64_t)(v))
    crm_auth_metrics(svc->auth, res, n);
    COUNTER("crm_commands_total", "Commands answered.", m->commands_total);
    COUNTER("crm_commands_failed_total", "Commands answered with an error.", m->commands_failed);
    COUNTER("crm_commands_idempotent_replays_total", "Retried commands answered from the record.",
            m->commands_cached);
    COUNTER("crm_commands_rejected_total", "Malformed, oversized or unknown requests.",
            m->commands_rejected);
    COUNTER("crm_frames_dropped_total", "Malformed frames dropped on any socket.",
            m->frames_dropped);
    COUNTER("crm_bus_events_refused_total",
            "Live events or heartbeats whose topic does not match their source and type.",
            m->events_refused);
    COUNTER("crm_batches_total", "Command transactions committed or ended.", m->batches);
    COUNTER("crm_batch_retries_total", "Batches rolled back and retried one by one.",
            svc->batch_env.retries);
    COUNTER("crm_command_runs_total",
            "Runs of commands applied together by their set-based form (attempts).",
            svc->batch_env.command_runs);
    COUNTER("crm_command_run_works_total", "Commands in those runs.",
            svc->batch_env.command_run_works);
    COUNTER("crm_events_emitted_total", "Events committed to the outbox.",
            svc->batch_env.events_emitted);
    COUNTER("crm_events_published_total", "Events sent to the bus.",
            svc->relay ? crm_relay_events_published(svc->relay) : 0);
    COUNTER("crm_events_consumed_total", "Events applied or dead-lettered by consumers.",
            m->events_consumed);
    COUNTER("crm_heartbeats_sent_total", "Stream heartbeats sent.",
            svc->relay ? crm_relay_heartbeats_sent(svc->relay) : 0);
    COUNTER("crm_replays_served_total", "Replay requests answered.", m->replays_served);
    COUNTER("crm_replays_refused_total",
            "Replay requests refused: too many in flight for the client or in all.",
            m->replays_refused);
    GAUGE("crm_stream_head_sequence", "Highest committed sequence known.",
          svc->relay ? crm_relay_head(svc->relay) : 0);
    GAUGE("crm_stream_published_sequence", "Highest sequence published.",
          svc->relay ? crm_relay_published(svc->relay) : 0);
    GAUGE("crm_bus_connected", "1 when connected to the bus.", svc->bus_connected);
    GAUGE("crm_db_up", "1 when the writer connection is up.", crm_db_connected(svc->writer));
    GAUGE("crm_command_queue", "Commands waiting for the next batch.",
          svc->cmdq ? crm_fairq_len(svc->cmdq) : 0);
    GAUGE_S(
        "crm_command_queue_wait_seconds",
        "The queue's expected wait: its length over the drain rate (CRM_COMMAND_QUEUE_WAIT_MS).",
        (double)crm_service_queue_wait_ms(svc) / 1e3);
    GAUGE("crm_command_drain_rate",
          "Commands out of the batches a second while the writers are the limit.",
          (int64_t)svc->cmd_drain_rate);
    const crm_work_t *oldest = svc->cmdq ? crm_fairq_oldest(svc->cmdq) : NULL;
    GAUGE_S("crm_command_queue_oldest_seconds", "How long the oldest queued command has waited.",
            oldest ? (double)(crm_mono_us() - oldest->received_us) / 1e6 : 0.0);
    COUNTER("crm_commands_expired_total",
            "Commands answered UNAVAILABLE after waiting past CRM_COMMAND_DEADLINE_MS.",
            m->commands_expired);
    COUNTER("crm_commands_shed_total",
            "Commands answered UNAVAILABLE at once: past CRM_COMMAND_QUEUE_MAX or"
            " CRM_COMMAND_QUEUE_WAIT_MS.",
            m->commands_shed);
    crm_http_response_printf(res, "# HELP crm_command_latency_seconds Receive to reply.\n"
                                  "# TYPE crm_command_latency_seconds histogram\n");
    int64_t cum = 0;
    for (int i = 0; i < CRM_LAT_BUCKETS; i++) {
        cum += m->lat_buckets[i];
        crm_http_response_printf(res,
                                 "crm_command_latency_seconds_bucket{crm_service=\"%s\",le=\"%g\"} "
                                 "%" PRId64 "\n",
                                 n, s_lat_bounds[i], cum);
    }
    cum += m->lat_buckets[CRM_LAT_BUCKETS];
    crm_http_response_printf(res,
                             "crm_command_latency_seconds_bucket{crm_service=\"%s\",le=\"+Inf\"} "
                             "%" PRId64
                             "\ncrm_command_latency_seconds_sum{crm_service=\"%s\"} %.6f\n"
                             "crm_command_latency_seconds_count{crm_service=\"%s\"} %" PRId64 "\n",
                             n, cum, n, m->lat_sum, n, m->lat_count);
    s_part_hist(res, n, "crm_command_queued_seconds",
                "Accepted commands: receive to the start of their batch.", &m->queued);
    s_part_hist(res, n, "crm_command_batch_seconds",
                "Accepted commands: the start of their batch to their reply.", &m->in_batch);
    s_part_hist(res, n, "crm_command_accepted_seconds",
                "Accepted commands: receive to reply (the queue and the batch together).",
                &m->accepted);
    s_part_hist(res, n, "crm_command_batch_work_seconds",
                "Command batches: their start to their COMMIT sent (the statements).",
                &m->batch_work);
    s_part_hist(res, n, "crm_command_batch_commit_seconds",
                "Command batches: their COMMIT sent to their replies (the other writer's commit,"
                " then the flush).",
                &m->batch_commit);
    GAUGE_S("crm_command_batch_estimate_seconds",
            "A batch's start to its reply, recent: what the queue's deadline leaves for it.",
            (double)svc->cmd_batch_est_us / 1e6);
    GAUGE_S("crm_command_queue_deadline_seconds",
            "How long a command may wait in the queue: CRM_COMMAND_DEADLINE_MS less the batch"
            " estimate.",
            (double)crm_service_queue_deadline_us(svc) / 1e6);
    static const char *const per[] = {
        "crm_consumer_position",
        "gauge",
        "Last applied sequence per source.",
        "crm_consumer_lag",
        "gauge",
        ("Events of the source not yet applied (events the consumer's filter skips count once "
         "passed)."),
        "crm_consumer_replays_total",
        "counter",
        "Replay requests sent.",
        "crm_consumer_gaps_total",
        "counter",
        "Gaps detected on the live stream.",
        "crm_consumer_lost_events_total",
        "counter",
        "Events gone past retention before applied.",
        "crm_consumer_conflicts_total",
        "counter",
        "Applied events the source does not have (the consumer stopped applying the source).",
        "crm_consumer_forged_total",
        "counter",
        "Live events whose id differs from the source's event at that sequence (dropped).",
    };
    for (int k = 0; k < 7; k++) {
        crm_http_response_printf(res, "# HELP %s %s\n# TYPE %s %s\n", per[3 * k], per[3 * k + 2],
                                 per[3 * k], per[3 * k + 1]);
        for (size_t i = 0; i < svc->n_consumers; i++)
            for (size_t j = 0; j < svc->consumers[i].n_pos; j++) {
                const crm_src_pos_t *p = &svc->consumers[i].pos[j];
                int64_t v = k == 0   ? (int64_t)p->applied
                            : k == 1 ? (int64_t)crm__pos_lag(p)
                            : k == 2 ? p->replays
                            : k == 3 ? p->gaps
                            : k == 4 ? p->lost
                            : k == 5 ? p->conflicts
                                     : p->forged;
                crm_http_response_printf(
                    res, "%s{crm_service=\"%s\",consumer=\"%s\",source=\"%s\"} %" PRId64 "\n",
                    per[3 * k], n, svc->consumers[i].def->name, p->source, v);
            }
    }
    crm_http_response_printf(res, "# HELP crm_consumer_dead_letters_total Events dead-lettered.\n"
                                  "# TYPE crm_consumer_dead_letters_total counter\n");
    for (size_t i = 0; i < svc->n_consumers; i++)
        crm_http_response_printf(
            res,
            "crm_consumer_dead_letters_total{crm_service=\"%s\",consumer=\"%s\"} "
            "%" PRId64 "\n",
            n, svc->consumers[i].def->name, svc->consumers[i].dead_letters_total);
    crm_http_metrics(svc->http, n, res);
    if (svc->def->metrics)
        svc->def->metrics(svc, res);
#undef COUNTER
#undef GAUGE
}
