/* crm-marketing: campaigns, budgets and the expense ledger, contact
 * preferences and consent, messages, sending, responses, attribution of
 * orders and results (issue #4). This file is wiring only: the settings
 * table, the service definition, and the timer that drives the send scan
 * and the delivery pump (whose SMTP transactions run on libuv's thread
 * pool, never on the loop). The commands and consumers are listed in
 * commands.c and handled in handlers/, the rules are in rules.c, the SQL
 * in store/, the email adapter in common (crm/smtp.h). */
#include "marketing.h"

#include "mail.h"
#include "rules.h"
#include <crm/smtp.h>

#include <crm/log.h>
#include <crm/util.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const crm_migration_t marketing_migrations[];

static const crm_conf_def_t s_config[] = {
    {"MARKETING_SEND_SCAN_MS", CRM_CONF_INT, "1000",
     "how often running campaigns, segments and pending emails are looked at (ms)", 0, 10, 3600000},
    {"MARKETING_SEND_BATCH", CRM_CONF_INT, "1000",
     "most recipients the send scan decides in one transaction; a full batch is followed by"
     " the next at once",
     0, 1, 10000},
    {"MARKETING_SEND_SCANS", CRM_CONF_INT, "2",
     "send scans deciding at once, each over a range of customer ids of its own, in"
     " transactions of their own on the writers (CRM_WRITERS)",
     0, 1, MKT_SEND_SCANS_MAX},
    {"MARKETING_SMTP_URL", CRM_CONF_STR, "",
     "SMTP relay for email, smtp://host:port (empty: emails stay pending)", 1, 0, 0},
    {"MARKETING_MAIL_FROM", CRM_CONF_STR, "marketing@crm.invalid",
     "sender address of campaign emails", 0, 0, 0},
    {"MARKETING_FREQUENCY_CAP", CRM_CONF_INT, "0",
     "most marketing messages per customer in MARKETING_FREQUENCY_DAYS, across campaigns"
     " (0: no cap)",
     0, 0, 1000},
    {"MARKETING_FREQUENCY_DAYS", CRM_CONF_INT, "7", "the frequency cap's window (days)", 0, 1, 365},
    {"MARKETING_SMTP_MAX_ATTEMPTS", CRM_CONF_INT, "5",
     "attempts of an email whose failures are transient before it is given up", 0, 1, 100},
    {"MARKETING_SMTP_RETRY_MS", CRM_CONF_INT, "60000",
     "wait before the second attempt of an email; doubled each time, at most 64 times (ms)", 0, 10,
     86400000},
    {"MARKETING_SOFT_BOUNCES", CRM_CONF_INT, "3",
     "emails in a row given up after transient failures that make an address undeliverable", 0, 1,
     100},
    {"MARKETING_CHANNEL_POLICY", CRM_CONF_STR, MKT_POLICY_DEFAULT,
     "per channel, opt-in (a send needs recorded consent for the purpose) or opt-out (allowed"
     " unless opted out): CHANNEL=opt-in|opt-out,...; channels left out are opt-out",
     0, 0, 0},
    {"MARKETING_TRACK_KEY", CRM_CONF_STR, "",
     "key of the signed tracking links, at least 32 bytes, given only as MARKETING_TRACK_KEY_FILE"
     " (empty: no tracking links, no one-click unsubscribe)",
     1, 0, 0},
    {"CRM_TRACK_BASE_URL", CRM_CONF_STR, "",
     "public https base URL of the HTTP gateway (crm-api) that serves /t/o, /t/c and /t/u"
     " (empty: no tracking links)",
     0, 0, 0},
    {"MARKETING_TRACK_DAYS", CRM_CONF_INT, "90", "how long tracking links work (days)", 0, 1, 3650},
    {"MARKETING_MAIL_FROM_NAME", CRM_CONF_STR, "",
     "display name of the sender of campaign emails (UTF-8; empty: none)", 0, 0, 0},
    {"MARKETING_UNSUBSCRIBE_MAILTO", CRM_CONF_STR, "",
     "address of the List-Unsubscribe mailto (empty: MARKETING_MAIL_FROM)", 0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* The context has static storage: it outlives the loop, so no callback can
 * see it freed. */
static mkt_t s_mkt;

/* ---- the scans ------------------------------------------------------------- */

/* The gate of both scans: nothing new once on_stop has run. */
static int s_running(void *arg)
{
    return !((mkt_t *)arg)->stopping;
}

static int s_part_running(void *arg)
{
    return !((mkt_send_part_t *)arg)->ctx->stopping;
}

/* ---- the delivery pump: claim (work), SMTP (thread), outcome (work) --------- */

static void s_outcome_done(crm_service_t *svc, int status, void *arg)
{
    mkt_t *ctx = arg;
    if (status != 0)
        crm_warn("marketing.delivery", "could not record delivery outcomes; the emails stay"
                                       " pending and will be sent again");
    free(ctx->outcomes);
    ctx->outcomes = NULL;
    mkt_batch_clear(ctx);
    ctx->pump_busy = 0;
}

/* On a pool thread: only the batch and the settings are touched. */
static void s_smtp_job(uv_work_t *job)
{
    mkt_t *ctx = job->data;
    mkt_mail_conf_t conf = {.from = ctx->mail_from,
                            .from_name = ctx->from_name,
                            .unsubscribe_to = ctx->unsubscribe_to,
                            .key = ctx->track_key,
                            .keylen = ctx->track_keylen,
                            .base_url = ctx->track_base_url,
                            .token_ttl_s = ctx->track_ttl_s};
    for (size_t i = 0; i < ctx->n_batch; i++) {
        mkt_delivery_t *d = &ctx->batch[i];
        mkt_mail_in_t in = {.delivery_id = d->id,
                            .campaign_id = d->campaign_id,
                            .customer_id = d->customer_id,
                            .address = d->address,
                            .subject = d->subject,
                            .body = d->body,
                            .name = d->name};
        size_t len = 0;
        char *msg = mkt_mail_compose(&conf, &in, ctx->batch_now_us, d->message_id, &len, d->error,
                                     sizeof d->error);
        /* A message that cannot be built will not be built later either. */
        int rc = msg ? crm_smtp_send(ctx->smtp_url, ctx->mail_from, d->address, msg, len, d->error,
                                     sizeof d->error)
                     : CRM_SMTP_PERMANENT;
        free(msg);
        d->status = rc == 0 ? MKT_DELIVERED : rc == CRM_SMTP_PERMANENT ? MKT_BOUNCED : MKT_RETRY;
    }
}

static void s_smtp_after(uv_work_t *job, int status)
{
    mkt_t *ctx = job->data;
    json_t *a = json_array();
    for (size_t i = 0; a && i < ctx->n_batch; i++) {
        mkt_delivery_t *d = &ctx->batch[i];
        if (d->status != MKT_DELIVERED)
            crm_warn("marketing.delivery", "email %s %s: %s", d->id,
                     d->status == MKT_BOUNCED ? "bounced" : "failed, to be tried again", d->error);
        json_array_append_new(a, json_pack("{s:s, s:i, s:s, s:s}", "id", d->id, "status", d->status,
                                           "error", d->error, "message_id", d->message_id));
    }
    ctx->outcomes = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (status != 0 || ctx->stopping || !ctx->outcomes ||
        crm_service_submit(ctx->svc, "marketing.delivery.outcome", mkt_delivery_outcome, ctx,
                           s_outcome_done) < 0)
        s_outcome_done(ctx->svc, -1, ctx);
}

static void s_claim_done(crm_service_t *svc, int status, void *arg)
{
    mkt_t *ctx = arg;
    if (status != 0 || ctx->n_batch == 0 || ctx->stopping) {
        mkt_batch_clear(ctx);
        ctx->pump_busy = 0;
        return;
    }
    ctx->smtp_job.data = ctx;
    ctx->batch_now_us = crm_now_us(); /* read on the loop: the test clock is the loop's */
    if (uv_queue_work(crm_service_loop(svc), &ctx->smtp_job, s_smtp_job, s_smtp_after) < 0) {
        mkt_batch_clear(ctx);
        ctx->pump_busy = 0;
    }
}

static void s_pump(mkt_t *ctx)
{
    if (ctx->pump_busy || ctx->stopping || !*ctx->smtp_url)
        return;
    if (crm_service_submit(ctx->svc, "marketing.delivery.claim", mkt_delivery_claim, ctx,
                           s_claim_done) == 0)
        ctx->pump_busy = 1;
}

static void s_on_timer(crm_service_t *svc, void *arg)
{
    s_pump(arg);
}

/* Tracking links need the key (from its file only: a key in the
 * environment is refused, as the database password is) and the base URL;
 * with neither they are off. */
static int s_track_init(mkt_t *ctx, const crm_config_t *cfg)
{
    const char *key = crm_config_str(cfg, "MARKETING_TRACK_KEY");
    ctx->track_base_url = crm_config_str(cfg, "CRM_TRACK_BASE_URL");
    ctx->track_ttl_s = crm_config_int(cfg, "MARKETING_TRACK_DAYS") * 86400;
    ctx->unsubscribe_to = crm_config_str(cfg, "MARKETING_UNSUBSCRIBE_MAILTO");
    if (getenv("MARKETING_TRACK_KEY")) {
        crm_error("config.invalid", "MARKETING_TRACK_KEY is refused in the environment; put the"
                                    " key in a file and name it in MARKETING_TRACK_KEY_FILE");
        return -1;
    }
    if (!*key && !*ctx->track_base_url)
        return 0;
    if (strlen(key) < 32 || !*ctx->track_base_url ||
        (strncmp(ctx->track_base_url, "https://", 8) &&
         strncmp(ctx->track_base_url, "http://", 7))) {
        crm_error("config.invalid", "tracking needs MARKETING_TRACK_KEY_FILE (a key of at least"
                                    " 32 bytes) and CRM_TRACK_BASE_URL (an http(s) URL)");
        return -1;
    }
    size_t n = strlen(ctx->track_base_url);
    if (ctx->track_base_url[n - 1] == '/') {
        crm_error("config.invalid", "CRM_TRACK_BASE_URL: give it without a trailing slash");
        return -1;
    }
    ctx->track_key = (const uint8_t *)key;
    ctx->track_keylen = strlen(key);
    return 0;
}

/* The send scan as n scans over the customer ids split in n ranges by
 * their first 16 bits (ids are UUIDv5 of an email or random: evenly
 * spread), each keyed, so that two of them decide at once on the two
 * writers (crm_scan_set_key); the frequency cap stays per scan, since a
 * customer's decisions all fall to one. Returns 0 or -1 (ENOMEM). */
static int s_send_parts(crm_service_t *svc, mkt_t *ctx, int n, uint64_t ms)
{
    for (int i = 0; i < n; i++) {
        mkt_send_part_t *part = &ctx->send_parts[i];
        /* Masked to the 16 bits they hold, so that gcc at -O0 sees the
         * ids fit (-Wformat-truncation). */
        unsigned lo = (unsigned)(i * 65536 / n) & 0xffffu;
        unsigned hi = (unsigned)((i + 1) * 65536 / n - 1) & 0xffffu;
        part->ctx = ctx;
        part->index = i;
        snprintf(part->lo, sizeof part->lo, "%04x0000-0000-0000-0000-000000000000", lo);
        snprintf(part->hi, sizeof part->hi, "%04xffff-ffff-ffff-ffff-ffffffffffff", hi);
        part->scan = crm_service_scan(svc, "marketing.send.scan", ms, 0, mkt_send_scan, part,
                                      s_part_running);
        if (!part->scan)
            return -1;
        /* Different from any other key of this service's works. */
        crm_scan_set_key(part->scan, crm_hash64(CRM_HASH_SEED, part->lo, strlen(part->lo)));
        ctx->n_send_parts = i + 1;
    }
    return 0;
}

static int s_on_start(crm_service_t *svc)
{
    mkt_t *ctx = &s_mkt;
    const crm_config_t *cfg = crm_service_config(svc);
    ctx->svc = svc;
    ctx->smtp_url = crm_config_str(cfg, "MARKETING_SMTP_URL");
    ctx->mail_from = crm_config_str(cfg, "MARKETING_MAIL_FROM");
    ctx->from_name = crm_config_str(cfg, "MARKETING_MAIL_FROM_NAME");
    ctx->freq_cap = (int)crm_config_int(cfg, "MARKETING_FREQUENCY_CAP");
    ctx->freq_days = (int)crm_config_int(cfg, "MARKETING_FREQUENCY_DAYS");
    ctx->send_batch = (int)crm_config_int(cfg, "MARKETING_SEND_BATCH");
    ctx->max_attempts = (int)crm_config_int(cfg, "MARKETING_SMTP_MAX_ATTEMPTS");
    ctx->retry_ms = crm_config_int(cfg, "MARKETING_SMTP_RETRY_MS");
    ctx->soft_bounces = (int)crm_config_int(cfg, "MARKETING_SOFT_BOUNCES");
    if (s_track_init(ctx, cfg) < 0)
        return -1;
    if (*ctx->smtp_url && strncmp(ctx->smtp_url, "smtp://", 7) &&
        strncmp(ctx->smtp_url, "smtps://", 8)) {
        crm_error("config.invalid", "MARKETING_SMTP_URL: not an smtp:// or smtps:// URL");
        return -1;
    }
    char why[160];
    if (mkt_policy_parse(crm_config_str(cfg, "MARKETING_CHANNEL_POLICY"), &ctx->opt_in, why,
                         sizeof why) < 0) {
        crm_error("config.invalid", "MARKETING_CHANNEL_POLICY: %s", why);
        return -1;
    }
    crm_service_set_user(svc, ctx);
    uint64_t ms = (uint64_t)crm_config_int(cfg, "MARKETING_SEND_SCAN_MS");
    if (s_send_parts(svc, ctx, (int)crm_config_int(cfg, "MARKETING_SEND_SCANS"), ms) < 0) {
        crm_error("service.start", "out of memory");
        return -1;
    }
    ctx->segment_scan =
        crm_service_scan(svc, "marketing.segment.scan", ms, 0, mkt_segment_scan, ctx, s_running);
    if (!ctx->segment_scan || crm_service_every(svc, ms, 0, s_on_timer, ctx) < 0) {
        crm_error("service.start", "out of memory");
        return -1;
    }
    crm_info("marketing.start", "send scan every %llu ms; email relay %s", (unsigned long long)ms,
             *ctx->smtp_url ? "configured" : "not configured");
    return 0;
}

static void s_on_stop(crm_service_t *svc)
{
    mkt_t *ctx = &s_mkt;
    ctx->stopping = 1;
}

int main(int argc, char **argv)
{
    crm_service_def_t def = {
        .name = "marketing",
        .default_bind = "tcp://127.0.0.1:7420",
        .default_http_port = 9420,
        .commands = mkt_commands,
        .consumers = mkt_consumers,
        .migrations = marketing_migrations,
        .config = s_config,
        .on_start = s_on_start,
        .on_stop = s_on_stop,
    };
    /* Before any thread exists (libcurl's rule). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || sodium_init() < 0)
        return 1;
    int rc = crm_service_main(&def, argc, argv);
    mkt_batch_clear(&s_mkt);
    free(s_mkt.outcomes);
    curl_global_cleanup();
    return rc;
}
