/* service_command.c: a queued command to its reply.
 *
 * Queued commands go to the writer in batches, one command of each client
 * in turn, and each is answered once its batch has an outcome; a command
 * that waited past its deadline is answered UNAVAILABLE instead. The
 * requests come from the ROUTER (service_router.c), checked before they
 * are queued. The read-only stream commands are answered at once, outside
 * any batch (service_builtin.c). */
#include "access_int.h"
#include "auth.h"
#include "svc_int.h"

#include <crm/log.h>
#include <crm/pbcheck.h>
#include <crm/util.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ---- replies ------------------------------------------------------------ */

static void s_send_reply(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                         uint64_t request_id, const Crm__V1__Status *status, const uint8_t *body,
                         size_t blen, const char *etag)
{
    Crm__V1__CommandReply rep = CRM__V1__COMMAND_REPLY__INIT;
    rep.status = (Crm__V1__Status *)status;
    rep.body.data = (uint8_t *)body;
    rep.body.len = blen;
    rep.request_id = request_id;
    if (etag && *etag)
        rep.etag = (char *)etag;
    size_t n = crm__v1__command_reply__get_packed_size(&rep);
    uint8_t stack[4096];
    uint8_t *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf)
        return;
    crm__v1__command_reply__pack(&rep, buf);
    if (svc->router) {
        if (zmq_send(svc->router, identity, ilen, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            zmq_send(svc->router, buf, n, ZMQ_DONTWAIT);
        crm_zwatch_kick(svc->router_watch);
    }
    if (buf != stack)
        free(buf);
}

void crm_service_send_reply(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                            uint64_t request_id, const Crm__V1__Status *status, const uint8_t *body,
                            size_t blen)
{
    s_send_reply(svc, identity, ilen, request_id, status, body, blen, NULL);
}

void crm_service_reply_status(crm_service_t *svc, const uint8_t *identity, size_t ilen,
                              uint64_t request_id, Crm__V1__StatusCode code, const char *field,
                              const char *message, const char *detail, const char *hint)
{
    Crm__V1__Status st = CRM__V1__STATUS__INIT;
    st.code = code;
    st.field = (char *)(field ? field : "");
    st.message = (char *)(message ? message : "");
    st.detail = (char *)(detail ? detail : "");
    st.hint = (char *)(hint ? hint : "");
    crm_service_send_reply(svc, identity, ilen, request_id, &st, NULL, 0);
    svc->m.commands_total++;
    svc->m.commands_failed++;
}

void crm_service_reply(crm_service_t *svc, crm_work_t *w)
{
    if (w->replied || w->kind == CRM_WORK_EVT)
        return;
    w->replied = 1;
    if (!w->identity) {
        /* Submitted by the service itself: report to the submitter. */
        if (w->state == WS_FAILED)
            crm_warn("submit.failed", "%s: %s: %s", w->submit_def.name, w->status.message,
                     w->status.detail);
        if (w->submit_done)
            w->submit_done(svc, w->state == WS_OK ? 0 : -EIO, w->submit_done_arg);
        return;
    }
    const crm_work_t *src = w->dup_of ? w->dup_of : w;
    Crm__V1__Status ok = CRM__V1__STATUS__INIT;
    const Crm__V1__Status *st = src->state == WS_FAILED ? &src->status : &ok;
    if (src->state != WS_FAILED && src->state != WS_OK) {
        /* The batch ended without an outcome (connection lost): retryable. */
        ok.code = CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE;
        ok.message = "database unavailable, outcome unknown";
        ok.hint = "retry with the same idempotency key";
    }
    s_send_reply(svc, w->identity, w->identity_len, w->request_id, st, st->code ? NULL : src->reply,
                 st->code ? 0 : src->reply_len, st->code ? src->pre_now : NULL);
    svc->m.commands_total++;
    if (st->code)
        svc->m.commands_failed++;
    if (w->cached)
        svc->m.commands_cached++;
    crm_service_observe_latency(svc, crm_mono_us() - w->received_us);
}

/* ---- command batches ---------------------------------------------------- */

int crm_service_submit(crm_service_t *svc, const char *name, crm_work_fn fn, void *arg,
                       crm_submit_done_fn done)
{
    return crm_service_submit_to(svc, name, fn, arg, done, arg, 0, 0);
}

int crm_service_submit_to(crm_service_t *svc, const char *name, crm_work_fn fn, void *arg,
                          crm_submit_done_fn done, void *done_arg, int keyed, uint64_t key)
{
    if (svc->stopping)
        return -ESHUTDOWN;
    crm_work_t *w = crm_work_new(svc, CRM_WORK_CMD);
    if (!w)
        return -ENOMEM;
    w->submit_def.name = name;
    w->submit_def.fn = fn;
    w->cmd = &w->submit_def;
    w->fn = fn;
    w->submit_arg = arg;
    w->submit_done = done;
    w->submit_done_arg = done_arg;
    w->received_us = crm_mono_us();
    if (keyed) {
        w->keys[0] = key;
        w->n_keys = 1;
    }
    w->actor = strdup(crm_service_name(svc));
    w->correlation_id = strdup("");
    if (!w->actor || !w->correlation_id) {
        crm_work_destroy(&w);
        return -ENOMEM;
    }
    if (crm_fairq_push(svc->cmdq, w) < 0) {
        crm_work_destroy(&w);
        return -ENOMEM;
    }
    crm_service_cmd_kick(svc);
    return 0;
}

/* A transaction of the command batch b committed (or a command of it
 * failed alone): answer its clients, then hand its events to the relay. */
static void s_on_cmd_settled(crm_batch_t *b, void *arg, crm_work_t *const *works, size_t n,
                             crm_emit_t *emits)
{
    crm_service_t *svc = arg;
    /* An accepted command's latency in its parts: the queue (bounded by
     * the deadline) and the batch (what the deadline leaves room for). */
    int64_t now = crm_mono_us(), started = crm_batch_started_us(b);
    for (size_t i = 0; i < n; i++) {
        if (works[i]->outbox_rewritten && svc->relay)
            crm_relay_forget_recent(svc->relay);
        if (works[i]->identity && !works[i]->replied) {
            crm_service_observe_part(&svc->m.queued, started - works[i]->received_us);
            crm_service_observe_part(&svc->m.in_batch, now - started);
            crm_service_observe_part(&svc->m.accepted, now - works[i]->received_us);
        }
        crm_service_reply(svc, works[i]);
    }
    if (n)
        crm_service_batch_observed(svc, now - started);
    /* The batch in its two phases, once each: its statements, and its
     * COMMIT (the wait for the other writer's, then the flush). */
    for (int i = 0; i < svc->n_writers; i++)
        if (svc->cmd_batches[i] == b && svc->cmd_commit_us[i]) {
            crm_service_observe_part(&svc->m.batch_commit, now - svc->cmd_commit_us[i]);
            svc->cmd_commit_us[i] = 0;
        }
    if (emits)
        crm_relay_committed(svc->relay, emits);
}

/* Busy time of the drain rate's window this long: a few batches at the
 * ceiling, so a sample is not one batch's luck. */
#define CRM_DRAIN_WINDOW_US 20000

/* Adds the time since the last mark to the busy time if a batch ran
 * meanwhile and commands wait now (they came while it ran): the rate is
 * the writers' pace when they are the limit, not diluted by idle time or
 * measured on the small batches of a quiet service (which would look slow,
 * and refuse the first burst). Called before cmd_running changes and
 * before a batch takes its commands; returns whether the time counted. */
static int s_busy_mark(crm_service_t *svc, int64_t now)
{
    int counted = svc->cmd_running > 0 && (svc->cmd_held || crm_fairq_len(svc->cmdq) > 0);
    if (counted)
        svc->cmd_busy_us += now - svc->cmd_busy_mark_us;
    svc->cmd_busy_mark_us = now;
    return counted;
}

/* The most commands a batch takes: what the writers drain in
 * CRM_COMMAND_BATCH_MS at the measured rate, within 16 .. CRM_BATCH_MAX.
 * A batch's own time is a part of an accepted command's latency that the
 * deadline does not bound; on a slow database a whole CRM_BATCH_MAX
 * would take longer than the deadline itself. */
size_t crm_service_batch_cap(const crm_service_t *svc)
{
    if (svc->cmd_drain_rate <= 0)
        return svc->batch_max;
    double n = svc->cmd_drain_rate * (double)svc->cmd_batch_time_us / 1e6;
    size_t cap = n < 16 ? 16 : n > (double)svc->batch_max ? svc->batch_max : (size_t)n;
    return cap < svc->batch_max ? cap : svc->batch_max;
}

/* n commands came out of a batch (committed, or answered failed: either
 * way they left the queue's way). */
static void s_drained(crm_service_t *svc, size_t n)
{
    svc->cmd_drained += n;
    if (svc->cmd_busy_us < CRM_DRAIN_WINDOW_US)
        return;
    double sample = (double)svc->cmd_drained * 1e6 / (double)svc->cmd_busy_us;
    /* A window over a stall (the machine, a lock) would make the rate
     * tiny and the expected wait seconds: every client refused and told
     * to wait the 5 s maximum. A sample counts for at most half the
     * rate, so one window lowers it by an eighth at most; a database that
     * stays slow still brings it down within twenty windows.
     *
     * The first window is no exception: it is often the slowest (the
     * connections' first statements are planned and prepared), and a rate
     * learned from it alone was a trap. The rate was tens of commands a
     * second, so a pipelining client's burst past the 16-command batch was
     * refused, and a rate is learned only while commands wait, which the
     * refused client's retries then never made them do (the bench's
     * pre-load ran at 12 commands a second). Before the first window, the
     * rate is a full batch of CRM_BATCH_MAX a window; it comes down to the
     * real one under load. */
    double rate = svc->cmd_drain_rate;
    if (rate <= 0)
        rate = (double)svc->batch_max * 1e6 / CRM_DRAIN_WINDOW_US;
    if (sample < rate / 2)
        sample = rate / 2;
    svc->cmd_drain_rate = (3 * rate + sample) / 4;
    svc->cmd_busy_us = 0;
    svc->cmd_drained = 0;
}

int64_t crm_service_queue_wait_ms(const crm_service_t *svc)
{
    if (!svc->cmdq || svc->cmd_drain_rate <= 0)
        return 0;
    return (int64_t)((double)crm_fairq_len(svc->cmdq) * 1000.0 / svc->cmd_drain_rate);
}

static void s_on_cmd_batch(crm_batch_t *b, void *arg, int committed)
{
    crm_service_t *svc = arg;
    int counted = s_busy_mark(svc, crm_mono_us());
    for (int i = 0; i < svc->n_writers; i++)
        if (svc->cmd_batches[i] == b) {
            svc->cmd_batches[i] = NULL;
            svc->cmd_commit_us[i] = 0;
            svc->cmd_running--;
            if (!crm_batch_commit_sent(b))
                svc->cmd_open--;
        }
    svc->m.batches++;
    size_t n;
    crm_work_t **works = crm_batch_works(b, &n);
    if (counted)
        s_drained(svc, n);
    for (size_t i = 0; i < n; i++) {
        crm_work_t *w = works[i];
        /* Not committed (connection lost, maybe during COMMIT): whatever the
         * handler said, the outcome is unknown; the client retries with the
         * same key and the idempotency record tells. */
        if (!committed && !w->replied)
            crm_work_force_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE,
                                "database unavailable, outcome unknown", crm_batch_abort_reason(b),
                                "retry with the same idempotency key");
        crm_service_reply(svc, w); /* no-op for works answered at their commit */
        crm_work_destroy(&works[i]);
    }
    crm_batch_destroy(&b);
    crm_service_maybe_finish(svc);
    crm_service_cmd_kick(svc);
}

static void s_on_cmd_committing(crm_batch_t *b, void *arg)
{
    crm_service_t *svc = arg;
    svc->cmd_open--;
    int64_t now = crm_mono_us();
    for (int i = 0; i < svc->n_writers; i++)
        if (svc->cmd_batches[i] == b) {
            svc->cmd_commit_us[i] = now;
            crm_service_observe_part(&svc->m.batch_work, now - crm_batch_started_us(b));
        }
    crm_service_cmd_kick(svc);
}

static const crm_batch_owner_t s_cmd_owner = {
    .settled = s_on_cmd_settled,
    .committing = s_on_cmd_committing,
    .done = s_on_cmd_batch,
};

/* Commands wait for the database this long before "unavailable". */
#define CRM_CMD_WAIT_US 5000000

void crm_service_batch_observed(crm_service_t *svc, int64_t us)
{
    if (us >= svc->cmd_batch_est_us)
        svc->cmd_batch_est_us = us;
    else
        svc->cmd_batch_est_us -= (svc->cmd_batch_est_us - us) / 8;
}

int64_t crm_service_queue_deadline_us(const crm_service_t *svc)
{
    /* Not past the next batch: it takes every queued command, and refusing
     * one would shorten nobody's wait (a slow batch ahead is not overload). */
    if (!svc->cmd_deadline_batch || !svc->cmdq ||
        crm_fairq_len(svc->cmdq) <= crm_service_batch_cap(svc))
        return svc->cmd_deadline_us;
    int64_t d = svc->cmd_deadline_us - svc->cmd_batch_est_us;
    return d > svc->cmd_deadline_us / 4 ? d : svc->cmd_deadline_us / 4;
}

/* The retry hint: the queue's expected wait, within 5 ms .. 5 s. */
int64_t crm_service_retry_ms(const crm_service_t *svc)
{
    int64_t ms = crm_service_queue_wait_ms(svc);
    return ms < 5 ? 5 : ms > 5000 ? 5000 : ms;
}

/* A command that waited past CRM_COMMAND_DEADLINE_MS is answered, not
 * executed late. It was never acknowledged, and its idempotency key was
 * never recorded: the retry the hint asks for applies it once. */
static void s_expire(crm_service_t *svc, crm_work_t *w, int64_t now)
{
    int64_t retry = crm_service_retry_ms(svc);
    char detail[256], hint[120];
    snprintf(detail, sizeof detail,
             "the command waited %lld ms in the queue, past CRM_COMMAND_DEADLINE_MS (%lld)"
             " less a batch's recent time (%lld); %zu commands queued, about %lld ms of work",
             (long long)((now - w->received_us) / 1000), (long long)(svc->cmd_deadline_us / 1000),
             (long long)((svc->cmd_deadline_us - crm_service_queue_deadline_us(svc)) / 1000),
             crm_fairq_len(svc->cmdq), (long long)crm_service_queue_wait_ms(svc));
    snprintf(hint, sizeof hint, "retry after %lld ms with the same idempotency key",
             (long long)retry);
    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL,
                  svc->cmd_running || crm_db_connected(svc->writer) ? "service overloaded"
                                                                    : "database unavailable",
                  detail, hint);
    w->status.retry_after_ms = (uint32_t)retry;
    svc->m.commands_expired++;
    crm_service_reply(svc, w);
    crm_work_destroy(&w);
}

static void s_cmd_fail(crm_service_t *svc, crm_work_t *w, const char *message, const char *detail,
                       const char *hint)
{
    crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL, message, detail, hint);
    crm_service_reply(svc, w);
    crm_work_destroy(&w);
}

/* Whether w may touch what batch b's works touch: always, unless both
 * declare their keys (crm_command_keys_t) and share none. The second
 * writer's transaction runs beside the first's, each seeing only what was
 * committed before: commands that read and then write the same record
 * must not be split between them. */
static int s_overlaps(const crm_batch_t *b, const crm_work_t *w)
{
    if (w->n_keys < 0)
        return 1;
    size_t n;
    crm_work_t *const *works = crm_batch_works(b, &n);
    for (size_t i = 0; i < n; i++) {
        const crm_work_t *o = works[i];
        if (o->n_keys < 0)
            return 1;
        for (int k = 0; k < w->n_keys; k++)
            for (int j = 0; j < o->n_keys; j++)
                if (w->keys[k] == o->keys[j])
                    return 1;
    }
    return 0;
}

static void s_kick(crm_service_t *svc);

/* Whether the work taken next is the service's own keyed work (a keyed
 * scan's run, crm_scan_set_key) that touches nothing of the batches
 * running: it may start in a transaction of its own while they still run
 * their statements, so that scans over disjoint records keep two database
 * connections busy at once. Commands from clients keep waiting for the
 * COMMIT of the batch before them, as s_gathering explains. */
static int s_beside(crm_service_t *svc)
{
    const crm_work_t *w = svc->cmd_held ? svc->cmd_held : crm_fairq_next(svc->cmdq);
    if (!w || w->cmd != &w->submit_def || w->n_keys < 0)
        return 0;
    for (int i = 0; i < svc->n_writers; i++)
        if (svc->cmd_batches[i] && s_overlaps(svc->cmd_batches[i], w))
            return 0;
    return 1;
}

/* Whether a writer other than `slot` is free and connected. */
static int s_free_writer(const crm_service_t *svc, int slot)
{
    for (int i = 0; i < svc->n_writers; i++)
        if (i != slot && !svc->cmd_batches[i] && crm_db_connected(svc->writers[i]))
            return 1;
    return 0;
}

static void s_on_deadline(uv_timer_t *t)
{
    crm_service_cmd_kick(t->data);
}

/* Whatever else happens (a kick comes with every read of the ROUTER and
 * every batch's end, but the writers may be stuck and the clients quiet),
 * the oldest queued command is answered at its deadline, not at the next
 * housekeeping pass. */
void crm_service_cmd_kick(crm_service_t *svc)
{
    if (!svc->cmdq)
        return;
    s_kick(svc);
    uv_timer_t *t = &svc->deadline_timer;
    if (t->type != UV_TIMER || uv_is_closing((uv_handle_t *)t))
        return; /* not started yet, or stopping */
    const crm_work_t *oldest = crm_fairq_oldest_client(svc->cmdq);
    if (!oldest) {
        uv_timer_stop(t);
        return;
    }
    int64_t due_us = oldest->received_us + crm_service_queue_deadline_us(svc);
    if (svc->cmd_gather_due_us && svc->cmd_gather_due_us < due_us)
        due_us = svc->cmd_gather_due_us;
    due_us -= crm_mono_us();
    uv_timer_start(t, s_on_deadline, due_us > 0 ? (uint64_t)(due_us / 1000 + 1) : 1, 0);
}

/* Whether the next batch waits for more commands. Beside a batch that is
 * committing, a new one starts only with as many commands as it holds
 * (or a full one): the clients that batch answers send again meanwhile,
 * and a batch started with the first few of them would split them into
 * ever smaller cohorts, each paying a whole transaction (bench/README,
 * "Issue 15: backbone (ninth session)": 15.5 against 11.8 commands a
 * transaction and 11% less CPU a command at 32 clients). An open-loop
 * command that comes alone waits at most CRM_COMMAND_GATHER_MS for
 * company, and never past the other batch's end, which kicks again; its
 * own batch could not have committed before that one anyway (the
 * crm_stream row lock keeps commit order). */
static int s_gathering(crm_service_t *svc, int64_t now, size_t cap)
{
    if (svc->cmd_running == 0 || svc->cmd_gather_us <= 0)
        return 0;
    size_t q = crm_fairq_len(svc->cmdq) + (svc->cmd_held ? 1 : 0), most = 0;
    for (int i = 0; i < svc->n_writers; i++)
        if (svc->cmd_batches[i]) {
            size_t bn;
            crm_batch_works(svc->cmd_batches[i], &bn);
            most = bn > most ? bn : most;
        }
    if (q >= (most < cap ? most : cap))
        return 0;
    /* The first queued command's arrival starts the wait: the held one,
     * or the oldest of the queue's. */
    const crm_work_t *first = svc->cmd_held;
    const crm_work_t *o = crm_fairq_oldest(svc->cmdq);
    if (!first || (o && o->received_us < first->received_us))
        first = o;
    if (!first || now - first->received_us >= svc->cmd_gather_us)
        return 0;
    svc->cmd_gather_due_us = first->received_us + svc->cmd_gather_us;
    return 1;
}

static void s_kick(crm_service_t *svc)
{
    /* The deadline at dequeue: whatever the admission's estimate said, a
     * command that waited past the deadline less a batch's recent time is
     * answered, not executed late, so an accepted command's wait and its
     * batch fit in the deadline together. */
    int64_t now = crm_mono_us();
    crm_work_t *w;
    svc->cmd_gather_due_us = 0;
    while ((w = crm_fairq_expired(svc->cmdq, now - crm_service_queue_deadline_us(svc))))
        s_expire(svc, w, now);
    if (!svc->cmd_held && crm_fairq_len(svc->cmdq) == 0)
        return;
    /* A free writer whose connection is up; the first one first. */
    int slot = -1, beside = svc->cmd_open && s_beside(svc);
    /* A new batch once the others have sent COMMIT: it overlaps their
     * flush, and meanwhile commands gather for it instead of each
     * starting a small batch of its own. A keyed scan's run starts at
     * once beside them (s_beside). */
    for (int i = 0; i < svc->n_writers && slot < 0 && (!svc->cmd_open || beside); i++)
        if (!svc->cmd_batches[i] && crm_db_connected(svc->writers[i]))
            slot = i;
    if (slot < 0 || svc->stopping) {
        if (svc->cmd_running)
            return; /* its COMMIT or its end kicks again */
        /* While the database reconnects, commands wait a little: most
         * outages are a restart. The housekeeping timer calls us again. */
        crm_work_t *oldest = svc->cmd_held ? svc->cmd_held : crm_fairq_oldest(svc->cmdq);
        if (!svc->stopping && now - oldest->received_us < CRM_CMD_WAIT_US &&
            crm_fairq_len(svc->cmdq) < 100000)
            return;
        if ((w = svc->cmd_held)) {
            svc->cmd_held = NULL;
            s_cmd_fail(svc, w, svc->stopping ? "service is shutting down" : "database unavailable",
                       NULL, "retry the command with the same idempotency key");
        }
        while ((w = crm_fairq_pop(svc->cmdq)))
            s_cmd_fail(svc, w, svc->stopping ? "service is shutting down" : "database unavailable",
                       NULL, "retry the command with the same idempotency key");
        return;
    }
    size_t n = 0, cap = crm_service_batch_cap(svc);
    int own_only = 1; /* the batch holds only the service's own keyed works */
    if (!beside && s_gathering(svc, now, cap))
        return; /* the other batch's end, a client's command or the timer kicks again */
    crm_batch_t *b =
        crm_batch_new(&svc->batch_env, svc->writers[slot], CRM_WORK_CMD, NULL, &s_cmd_owner, svc);
    if (!b)
        return;
    s_busy_mark(svc, now);
    /* One command from each client in turn. Beside running batches only
     * commands that touch none of their records: the first that might
     * waits (held) for the next batch, and nothing after it overtakes it. */
    while (n < cap) {
        w = svc->cmd_held ? svc->cmd_held : crm_fairq_pop(svc->cmdq);
        svc->cmd_held = NULL;
        if (!w)
            break;
        /* Beside open batches, only the service's own keyed works; and
         * a second one of those after the first goes to a free writer of
         * its own, to run beside this batch rather than inside it. */
        int own = w->cmd == &w->submit_def && w->n_keys >= 0;
        int clash = (beside && !own) || (own && n > 0 && own_only && s_free_writer(svc, slot));
        own_only &= own;
        for (int i = 0; i < svc->n_writers && !clash; i++)
            clash = svc->cmd_batches[i] && s_overlaps(svc->cmd_batches[i], w);
        if (clash) {
            svc->cmd_held = w;
            break;
        }
        if (crm_batch_add(b, w) == 0)
            n++;
    }
    if (n == 0) {
        crm_batch_destroy(&b);
        return;
    }
    svc->cmd_batches[slot] = b;
    svc->cmd_running++;
    svc->cmd_open++;
    crm_batch_start(b);
    if (svc->cmd_held && svc->cmd_batches[slot] == b && s_beside(svc))
        s_kick(svc);
}
