/* crm-bridge-nats: mirrors every service's stream into NATS JetStream, for
 * teams that outgrow one ZeroMQ bus or need many consumer groups (issue
 * #18). It is a service on the backbone like any other: one consumer per
 * source, its positions in its own PostgreSQL database, so nothing is lost
 * or doubled across restarts. It has no commands of its own beyond the
 * built-in ones (stream.info shows its consumers' lag in `crmctl status`)
 * and publishes no events. This file is wiring only: the settings table,
 * the consumers, and the bridge started in on_start; bridge.c does NATS. */
#include "bridge.h"

#include <crm/log.h>

#include <nats/nats.h>
#include <stdio.h>
#include <string.h>

static const crm_conf_def_t s_config[] = {
    {"CRM_NATS_URL", CRM_CONF_STR, "nats://127.0.0.1:4222",
     "NATS server(s) to publish to, comma-separated nats:// URLs", 1, 0, 0},
    {"CRM_BRIDGE_STREAM", CRM_CONF_STR, "CRM",
     "JetStream stream the bridge creates or updates at start, on subjects crm.>", 0, 0, 0},
    {"CRM_BRIDGE_REPLICAS", CRM_CONF_INT, "1",
     "replicas of the stream (at most the JetStream cluster's size)", 0, 1, 5},
    {"CRM_BRIDGE_MAX_AGE_S", CRM_CONF_INT, "0",
     "how long JetStream keeps a message (s); 0 keeps everything", 0, 0, 315360000},
    {"CRM_BRIDGE_DUPLICATE_WINDOW_S", CRM_CONF_INT, "3600",
     "JetStream's duplicate window (s): an event published again within it is dropped", 0, 1,
     604800},
    {"CRM_BRIDGE_ACK_TIMEOUT_MS", CRM_CONF_INT, "5000",
     "wait for JetStream's acknowledgement before publishing the event again (ms)", 0, 10, 600000},
    {"CRM_BRIDGE_RETRY_MS", CRM_CONF_INT, "500",
     "pause before publishing again after an error (ms)", 0, 10, 60000},
    {"CRM_BRIDGE_FORMAT", CRM_CONF_STR, "crm",
     "message body: crm (the crm.v1.Event bytes, as on the bus) or cloudevents "
     "(io.cloudevents.v1.CloudEvent, the CloudEvents protobuf format)",
     0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* Static: consumers' handlers reach the bridge from the start hook's state. */
static bridge_t *s_bridge_p;

static void s_apply(crm_work_t *w)
{
    if (!s_bridge_p) {
        crm_work_fail(w, CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE, NULL,
                      "bridge is not running", NULL, NULL);
        return;
    }
    bridge_publish(s_bridge_p, w);
}

/* One consumer per source: each has its own position, batch and database
 * connection, so sources are published side by side and a source that lags
 * does not hold the others back. */
static const char *const s_sales[] = {"crm.sales.", NULL};
static const char *const s_marketing[] = {"crm.marketing.", NULL};
static const char *const s_support[] = {"crm.support.", NULL};
static const char *const s_analytics[] = {"crm.analytics.", NULL};

static const crm_consumer_def_t s_consumers[] = {
    {"bridge.sales", s_sales, s_apply},
    {"bridge.marketing", s_marketing, s_apply},
    {"bridge.support", s_support, s_apply},
    {"bridge.analytics", s_analytics, s_apply},
    {NULL, NULL, NULL},
};

static const crm_command_def_t s_commands[] = {
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};

static int s_on_start(crm_service_t *svc)
{
    const crm_config_t *cfg = crm_service_config(svc);
    bridge_opts_t o = {
        .url = crm_config_str(cfg, "CRM_NATS_URL"),
        .stream = crm_config_str(cfg, "CRM_BRIDGE_STREAM"),
        .replicas = (int)crm_config_int(cfg, "CRM_BRIDGE_REPLICAS"),
        .max_age_s = crm_config_int(cfg, "CRM_BRIDGE_MAX_AGE_S"),
        .dup_window_s = crm_config_int(cfg, "CRM_BRIDGE_DUPLICATE_WINDOW_S"),
        .ack_timeout_ms = crm_config_int(cfg, "CRM_BRIDGE_ACK_TIMEOUT_MS"),
        .retry_ms = crm_config_int(cfg, "CRM_BRIDGE_RETRY_MS"),
    };
    const char *format = crm_config_str(cfg, "CRM_BRIDGE_FORMAT");
    if (!strcmp(format, "cloudevents"))
        o.cloudevents = 1;
    else if (strcmp(format, "crm") != 0) {
        crm_error("config", "CRM_BRIDGE_FORMAT \"%s\" is not supported: use crm or cloudevents",
                  format);
        return -1;
    }
    if (!o.stream[0] || strpbrk(o.stream, " \t.*>")) {
        crm_error("config", "CRM_BRIDGE_STREAM \"%s\" is not a valid stream name", o.stream);
        return -1;
    }
    s_bridge_p = bridge_new(crm_service_loop(svc), &o);
    if (!s_bridge_p) {
        crm_error("bridge.start", "could not start the bridge: out of memory");
        return -1;
    }
    return 0;
}

static void s_on_stop(crm_service_t *svc)
{
    (void)svc;
    bridge_destroy(&s_bridge_p);
}

int main(int argc, char **argv)
{
    crm_service_def_t def = {
        .name = "bridge",
        .default_bind = "tcp://127.0.0.1:7450",
        .default_http_port = 9450,
        .commands = s_commands,
        .consumers = s_consumers,
        .config = s_config,
        .on_start = s_on_start,
        .on_stop = s_on_stop,
    };
    int rc = crm_service_main(&def, argc, argv);
    /* libnats' threads and global state, once the connection is closed. */
    nats_Close();
    return rc;
}
