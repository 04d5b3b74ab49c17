/* auth.c: CURVE set-up, the ZAP handler and SIGHUP reloads on a
 * service's loop. */
#include "auth.h"

#include <crm/curve.h>
#include <crm/log.h>
#include <crm/zwatch.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct crm_auth {
    int plaintext;
    crm_keypair_t kp;
    crm_zap_t *zap;
    crm_zwatch_t *watch;
    uv_signal_t sighup;
    int sighup_started;
};

/* Stands in for every sender in plaintext mode, so commands still run. */
static const char *const s_none[] = {NULL};
static const crm_principal_t s_insecure = {"", "insecure", CRM_KIND_STAFF, s_none, s_none};

static int s_on_zap(crm_zwatch_t *zw, void *zsock, int cap, void *arg)
{
    (void)zw;
    (void)zsock;
    return crm_zap_handle(arg, cap);
}

static void s_on_sighup(uv_signal_t *h, int signum)
{
    (void)signum;
    crm_auth_t *self = h->data;
    crm_info("auth.sighup", "received SIGHUP; reading the directory again");
    crm_zap_reload(self->zap);
}

crm_auth_t *crm_auth_new(uv_loop_t *loop, void *zctx, const crm_config_t *cfg, char *err,
                         size_t errlen)
{
    crm_auth_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (crm_config_bool(cfg, "CRM_INSECURE_PLAINTEXT")) {
        crm_warn("auth.plaintext", "CRM_INSECURE_PLAINTEXT is set: no encryption and no "
                                   "authentication on any socket (development only)");
        self->plaintext = 1;
        return self;
    }
    const char *key = crm_config_str(cfg, "CRM_KEY_FILE");
    const char *dir = crm_config_str(cfg, "CRM_DIRECTORY_FILE");
    if (!*key || !*dir) {
        snprintf(err, errlen,
                 "CRM_KEY_FILE and CRM_DIRECTORY_FILE must name this process's key "
                 "file and the directory of principals (see docs/operations.md)");
        goto fail;
    }
    if (crm_keypair_read(key, 1, &self->kp, err, errlen) != 0)
        goto fail;
    self->zap = crm_zap_new(zctx, dir, err, errlen);
    if (!self->zap)
        goto fail;
    self->watch = crm_zwatch_new(loop, crm_zap_socket(self->zap), 64, s_on_zap, self->zap);
    if (!self->watch || uv_signal_init(loop, &self->sighup) != 0) {
        snprintf(err, errlen, "could not watch the ZAP socket");
        goto fail;
    }
    self->sighup.data = self;
    self->sighup_started = 1;
    uv_signal_start(&self->sighup, s_on_sighup, SIGHUP);
    crm_info("auth.ready", "CURVE on every socket; this process's public key is %s",
             self->kp.public_key);
    return self;
fail:
    crm_auth_destroy(&self);
    return NULL;
}

static void s_sighup_closed(uv_handle_t *h)
{
    crm_auth_t *self = h->data;
    explicit_bzero(&self->kp, sizeof self->kp);
    free(self);
}

void crm_auth_destroy(crm_auth_t **self_p)
{
    crm_auth_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    crm_zwatch_destroy(&self->watch);
    crm_zap_destroy(&self->zap);
    if (self->sighup_started) {
        uv_signal_stop(&self->sighup);
        uv_close((uv_handle_t *)&self->sighup, s_sighup_closed);
        return;
    }
    explicit_bzero(&self->kp, sizeof self->kp);
    free(self);
}

int crm_auth_server(crm_auth_t *self, void *sock, const char *domain)
{
    if (self->plaintext)
        return 0;
    if (crm_curve_server(sock, &self->kp, domain) != 0) {
        crm_error("auth.socket", "could not make a CURVE server socket: %s",
                  zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int crm_auth_client(crm_auth_t *self, void *sock, const char *server)
{
    if (self->plaintext)
        return 0;
    const crm_principal_t *p = crm_directory_by_name(crm_zap_directory(self->zap), server);
    if (!p || p->kind != CRM_KIND_SERVICE) {
        crm_error("auth.server_key",
                  "the directory lists no service \"%s\", so its public key is unknown", server);
        return -1;
    }
    if (crm_curve_client(sock, &self->kp, p->public_key) != 0) {
        crm_error("auth.socket", "could not make a CURVE client socket: %s",
                  zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

const crm_principal_t *crm_auth_sender(crm_auth_t *self, void *msg)
{
    return self->plaintext ? &s_insecure : crm_zap_sender(self->zap, msg);
}

const crm_directory_t *crm_auth_directory(crm_auth_t *self)
{
    return self->plaintext ? NULL : crm_zap_directory(self->zap);
}

void crm_auth_refuse(crm_auth_t *self, crm_auth_reason_t reason, const char *who, const char *what)
{
    if (!self->plaintext)
        crm_zap_refuse(self->zap, reason, who, what);
}

void crm_auth_metrics(crm_auth_t *self, crm_http_response_t *res, const char *service)
{
    crm_http_response_printf(res, "# HELP crm_auth_refused_total Connections and messages "
                                  "refused by authentication or authorisation.\n"
                                  "# TYPE crm_auth_refused_total counter\n");
    for (int r = 0; r < CRM_AUTH_REASONS; r++)
        crm_http_response_printf(
            res, "crm_auth_refused_total{crm_service=\"%s\",reason=\"%s\"} %" PRId64 "\n", service,
            crm_auth_reason_name((crm_auth_reason_t)r),
            self->plaintext ? 0 : crm_zap_refused(self->zap, r));
}
