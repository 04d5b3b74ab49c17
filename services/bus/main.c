/* crm-bus: the one well-known endpoint of the live event stream.
 *
 * A stateless XSUB/XPUB proxy: publishers connect to the XSUB side,
 * subscribers to the XPUB side, and subscriptions flow upstream so that
 * publishers filter at the source. It keeps nothing: losing it loses only
 * in-flight messages, which consumers detect by sequence and replay from the
 * producing service. Both sides are CURVE servers guarded by the ZAP
 * handler; only service keys may publish, each on its own topics
 * (proxy.c). The proxy runs on the main thread; a second thread waits for
 * signals and talks to it through its control socket: SIGTERM/SIGINT stop
 * it, so `docker stop` is prompt, and SIGHUP rereads the directory. A third
 * thread serves /livez, /readyz and /metrics (metrics.c). */
#include "metrics.h"
#include "proxy.h"

#include <crm/config.h>
#include <crm/curve.h>
#include <crm/log.h>
#include <crm/zap.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

static const crm_conf_def_t s_conf[] = {
    {"CRM_BUS_XSUB_BIND", CRM_CONF_STR, "tcp://127.0.0.1:7400",
     "where publishers connect (services publish here)", 0, 0, 0},
    {"CRM_BUS_XPUB_BIND", CRM_CONF_STR, "tcp://127.0.0.1:7401",
     "where subscribers connect (consumers, crmctl tail)", 0, 0, 0},
    {"CRM_BUS_HWM", CRM_CONF_INT, "100000", "messages queued per peer before dropping", 0, 1,
     100000000},
    {"CRM_BUS_MAX_EVENT_BYTES", CRM_CONF_INT, "4194304",
     "largest message a publisher may send; a larger one drops its connection", 0, 1024, 268435456},
    {"CRM_BUS_MAX_TOPIC", CRM_CONF_INT, "128",
     "longest subscription topic passed on; from 1024 bytes one drops the subscriber's connection",
     0, 16, 65536},
    {"CRM_BUS_MAX_SUBSCRIPTIONS", CRM_CONF_INT, "1000",
     "distinct topics passed upstream to publishers at once", 0, 1, 10000000},
    {"CRM_HTTP_HOST", CRM_CONF_STR, "127.0.0.1", "address of /livez, /readyz, /metrics", 0, 0, 0},
    {"CRM_HTTP_PORT", CRM_CONF_INT, "9400", "port of /livez, /readyz, /metrics (0 = any)", 0, 0,
     65535},
    {"CRM_HTTP_MAX_CONNECTIONS", CRM_CONF_INT, "256",
     "open HTTP connections; a new one past it closes the oldest", 0, 8, 65536},
    {"CRM_HTTP_MAX_CONNECTIONS_PER_ADDRESS", CRM_CONF_INT, "32",
     "open HTTP connections from one IP address; a new one past it closes that address's oldest", 0,
     1, 65536},
    {"CRM_HTTP_HEAD_TIMEOUT_MS", CRM_CONF_INT, "5000",
     "longest an HTTP request may take from its first byte (not reset by more bytes)", 0, 100,
     600000},
    {"CRM_HTTP_IDLE_TIMEOUT_MS", CRM_CONF_INT, "30000",
     "longest a keep-alive HTTP connection waits for its next request", 0, 100, 3600000},
    {"CRM_LOG_LEVEL", CRM_CONF_STR, "info", "debug, info, warn or error", 0, 0, 0},
    {"CRM_KEY_FILE", CRM_CONF_STR, "", "file of the bus's CURVE keypair (mode 0600)", 0, 0, 0},
    {"CRM_DIRECTORY_FILE", CRM_CONF_STR, "",
     "directory of principals: public keys, names, kinds (reread on SIGHUP)", 0, 0, 0},
    {"CRM_INSECURE_PLAINTEXT", CRM_CONF_BOOL, "0",
     "development only: no CURVE, no authentication on either side", 0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

typedef struct {
    void *zctx;
    sigset_t sigs;
} s_ctl_t;

static void *s_signal_thread(void *arg)
{
    s_ctl_t *ctl = arg;
    void *c = zmq_socket(ctl->zctx, ZMQ_PAIR);
    zmq_connect(c, "inproc://crm-bus-control");
    for (;;) {
        int sig = 0;
        sigwait(&ctl->sigs, &sig);
        if (sig == SIGHUP) {
            crm_info("bus.signal", "received SIGHUP; reading the directory again");
            zmq_send(c, "RELOAD", 6, 0);
            continue;
        }
        crm_info("bus.signal", "received %s; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        zmq_send(c, "TERMINATE", 9, 0);
        break;
    }
    zmq_close(c);
    return NULL;
}

/* Both sides as CURVE servers behind the ZAP handler (*zap_p), unless
 * CRM_INSECURE_PLAINTEXT. Returns 0 or -1 (logged). */
static int s_secure(const crm_config_t *cfg, void *zctx, void *xsub, void *xpub, crm_zap_t **zap_p)
{
    if (crm_config_bool(cfg, "CRM_INSECURE_PLAINTEXT")) {
        crm_warn("auth.plaintext", "CRM_INSECURE_PLAINTEXT is set: no encryption and no "
                                   "authentication on either side (development only)");
        return 0;
    }
    const char *key = crm_config_str(cfg, "CRM_KEY_FILE");
    const char *dir = crm_config_str(cfg, "CRM_DIRECTORY_FILE");
    char err[600];
    crm_keypair_t kp;
    if (!*key || !*dir) {
        crm_error("auth.start", "CRM_KEY_FILE and CRM_DIRECTORY_FILE must name the bus's key file "
                                "and the directory of principals (see docs/operations.md)");
        return -1;
    }
    if (crm_keypair_read(key, 1, &kp, err, sizeof err) != 0 ||
        !(*zap_p = crm_zap_new(zctx, dir, err, sizeof err))) {
        crm_error("auth.start", "%s", err);
        return -1;
    }
    /* A gateway (crm-api) is a service with a stream of its own too. */
    int rc = crm_zap_admit(*zap_p, CRM_ZAP_BUS_PUBLISH, CRM_KIND_SERVICE | CRM_KIND_GATEWAY) != 0 ||
                     crm_curve_server(xsub, &kp, CRM_ZAP_BUS_PUBLISH) != 0 ||
                     crm_curve_server(xpub, &kp, CRM_ZAP_BUS_SUBSCRIBE) != 0
                 ? -1
                 : 0;
    explicit_bzero(&kp, sizeof kp);
    if (rc != 0)
        crm_error("auth.start", "could not make the bus's sockets CURVE servers");
    else
        crm_info("auth.ready", "CURVE on both sides; only service keys may publish");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: crm-bus [healthcheck]\n\nSettings (environment):\n");
        crm_config_print_help(s_conf);
        return 0;
    }
    char err[512];
    crm_config_t *cfg = crm_config_load(s_conf, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "crm-bus: %s\n", err);
        return 2;
    }
    if (argc > 1 && !strcmp(argv[1], "healthcheck")) {
        int rc = crm_http_healthcheck(crm_config_str(cfg, "CRM_HTTP_HOST"),
                                      (int)crm_config_int(cfg, "CRM_HTTP_PORT"));
        crm_config_destroy(&cfg);
        return rc;
    }
    int level = crm_log_level_parse(crm_config_str(cfg, "CRM_LOG_LEVEL"));
    crm_log_init("bus", level < 0 ? CRM_LOG_INFO : (crm_log_level_t)level);
    crm_config_log(cfg);

    /* Block the signals before libzmq starts its threads, so only ours
     * receives them. */
    s_ctl_t ctl;
    sigemptyset(&ctl.sigs);
    sigaddset(&ctl.sigs, SIGTERM);
    sigaddset(&ctl.sigs, SIGINT);
    sigaddset(&ctl.sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &ctl.sigs, NULL);

    int rc = 1;
    crm_zap_t *zap = NULL;
    crm_bus_metrics_t *metrics = NULL;
    ctl.zctx = zmq_ctx_new();
    void *xsub = zmq_socket(ctl.zctx, ZMQ_XSUB);
    void *xpub = zmq_socket(ctl.zctx, ZMQ_XPUB);
    void *control = zmq_socket(ctl.zctx, ZMQ_PAIR);
    int hwm = (int)crm_config_int(cfg, "CRM_BUS_HWM"), linger = 0;
    zmq_setsockopt(xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xsub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(xpub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(control, ZMQ_LINGER, &linger, sizeof linger);
    /* Bounded before anything is buffered: libzmq checks a message's size
     * from its header and drops the connection of a peer that sends more.
     * Subscribers send only subscriptions to the XPUB, so its limit is the
     * longest topic plus the subscribe byte. */
    int64_t max_event = crm_config_int(cfg, "CRM_BUS_MAX_EVENT_BYTES");
    int64_t max_sub = crm_config_int(cfg, "CRM_BUS_MAX_TOPIC") + 1;
    /* Handshake commands pass the same check: a NULL handshake needs about
     * 40 bytes, a CURVE one about 270 (measured with libzmq 4.3.4), so the
     * floor is 1024; topics stay capped at CRM_BUS_MAX_TOPIC by the proxy's
     * own check (proxy.c, s_on_subscription). */
    if (max_sub < 1024)
        max_sub = 1024;
    int verbose = 1;
    zmq_setsockopt(xsub, ZMQ_MAXMSGSIZE, &max_event, sizeof max_event);
    zmq_setsockopt(xpub, ZMQ_MAXMSGSIZE, &max_sub, sizeof max_sub);
    zmq_setsockopt(xpub, ZMQ_XPUB_VERBOSER, &verbose, sizeof verbose);
    crm_bus_limits_t limits = {
        .max_topic = (size_t)crm_config_int(cfg, "CRM_BUS_MAX_TOPIC"),
        .max_subscriptions = (size_t)crm_config_int(cfg, "CRM_BUS_MAX_SUBSCRIPTIONS"),
    };
    crm_bus_stats_t stats = {0};
    const char *in = crm_config_str(cfg, "CRM_BUS_XSUB_BIND");
    const char *out = crm_config_str(cfg, "CRM_BUS_XPUB_BIND");
    if (s_secure(cfg, ctl.zctx, xsub, xpub, &zap) != 0)
        goto out;
    if (zmq_bind(xsub, in) != 0 || zmq_bind(xpub, out) != 0 ||
        zmq_bind(control, "inproc://crm-bus-control") != 0) {
        crm_error("bus.bind", "could not bind %s / %s: %s", in, out, zmq_strerror(errno));
        goto out;
    }
    const char *http_host = crm_config_str(cfg, "CRM_HTTP_HOST");
    metrics = crm_bus_metrics_start(
        http_host, (int)crm_config_int(cfg, "CRM_HTTP_PORT"),
        &(crm_http_limits_t){
            .max_conns = (size_t)crm_config_int(cfg, "CRM_HTTP_MAX_CONNECTIONS"),
            .max_conns_per_addr =
                (size_t)crm_config_int(cfg, "CRM_HTTP_MAX_CONNECTIONS_PER_ADDRESS"),
            .head_timeout_ms = (uint32_t)crm_config_int(cfg, "CRM_HTTP_HEAD_TIMEOUT_MS"),
            .idle_timeout_ms = (uint32_t)crm_config_int(cfg, "CRM_HTTP_IDLE_TIMEOUT_MS"),
        },
        err, sizeof err);
    if (!metrics) {
        crm_error("http.listen", "%s", err);
        goto out;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, s_signal_thread, &ctl) != 0)
        goto out;
    /* The endpoints as bound: with port 0 or * the system chose them. A
     * rebind after a revocation must take the same port again. */
    char in_b[256], out_b[256];
    size_t in_n = sizeof in_b, out_n = sizeof out_b;
    if (zmq_getsockopt(xsub, ZMQ_LAST_ENDPOINT, in_b, &in_n) < 0)
        snprintf(in_b, sizeof in_b, "%s", in);
    if (zmq_getsockopt(xpub, ZMQ_LAST_ENDPOINT, out_b, &out_n) < 0)
        snprintf(out_b, sizeof out_b, "%s", out);
    crm_info("bus.ready", "publishers connect to %s, subscribers to %s, http on %s:%d", in_b, out_b,
             http_host, crm_bus_metrics_port(metrics));
    rc = crm_bus_proxy_run(xsub, xpub, control, &limits, &stats, zap, out_b,
                           crm_bus_metrics_publish, metrics) == 0
             ? 0
             : 1;
    if (rc != 0)
        pthread_kill(th, SIGTERM); /* the signal thread waits for one */
    pthread_join(th, NULL);
    crm_info("bus.stats",
             "forwarded %lld, refused %lld, malformed %lld, unauthorised %lld;"
             " subscriptions refused %lld over the cap, %lld too long",
             (long long)stats.forwarded, (long long)stats.refused, (long long)stats.malformed,
             (long long)stats.unauthorised, (long long)stats.subs_over_cap,
             (long long)stats.subs_too_long);
out:
    crm_bus_metrics_stop(&metrics);
    crm_zap_destroy(&zap);
    zmq_close(xsub);
    zmq_close(xpub);
    zmq_close(control);
    zmq_ctx_term(ctl.zctx);
    crm_config_destroy(&cfg);
    crm_info("bus.exit", "exit code %d", rc);
    return rc;
}
