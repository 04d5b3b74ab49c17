/* zap.c: RFC 27 answered from the directory of principals, on a ROUTER
 * drained by the owner's loop. */
#include <crm/log.h>
#include <crm/util.h>
#include <crm/zap.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_ENDPOINT "inproc://zeromq.zap.01"
#define S_FRAMES 12
#define S_DOMAINS 8
#define S_LOG_SLOTS 256
#define S_LOG_PERIOD_US (60 * 1000000LL)
#define S_LOG_BUDGET 30 /* refusal lines per minute over all keys */
#define S_KEY_PROPERTY "X-Crm-Key"

typedef struct {
    char who[CRM_KEY_Z85_LEN + 64];
    int64_t last_us;
    int64_t suppressed;
} s_logged_t;

struct crm_zap {
    void *sock;
    char *path;
    crm_directory_t *dir;
    struct {
        char name[64];
        unsigned kinds;
    } domains[S_DOMAINS];
    size_t n_domains;
    int64_t refused[CRM_AUTH_REASONS];
    unsigned generation;
    s_logged_t logged[S_LOG_SLOTS];
    int64_t budget_start_us;
    int budget_used;
    int64_t budget_suppressed;
};

static const char *const s_reason_names[CRM_AUTH_REASONS] = {"unknown_key", "kind", "revoked",
                                                             "forbidden", "topic"};

const char *crm_auth_reason_name(crm_auth_reason_t reason)
{
    return (unsigned)reason < CRM_AUTH_REASONS ? s_reason_names[reason] : "unknown";
}

crm_zap_t *crm_zap_new(void *zctx, const char *path, char *err, size_t errlen)
{
    crm_zap_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->dir = crm_directory_load(path, err, errlen);
    if (!self->dir) {
        crm_zap_destroy(&self);
        return NULL;
    }
    self->sock = zmq_socket(zctx, ZMQ_ROUTER);
    int linger = 0;
    if (!self->sock || zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(self->sock, S_ENDPOINT) != 0) {
        snprintf(err, errlen, "could not bind the ZAP handler at %s: %s", S_ENDPOINT,
                 zmq_strerror(errno));
        crm_zap_destroy(&self);
        return NULL;
    }
    crm_info("auth.directory", "directory \"%s\" read: %zu keys", path,
             crm_directory_size(self->dir));
    return self;
}

void crm_zap_destroy(crm_zap_t **self_p)
{
    crm_zap_t *self = *self_p;
    if (!self)
        return;
    if (self->sock)
        zmq_close(self->sock);
    crm_directory_destroy(&self->dir);
    free(self->path);
    free(self);
    *self_p = NULL;
}

int crm_zap_admit(crm_zap_t *self, const char *domain, unsigned kinds)
{
    if (self->n_domains == S_DOMAINS || strlen(domain) >= sizeof self->domains[0].name)
        return -1;
    snprintf(self->domains[self->n_domains].name, sizeof self->domains[0].name, "%s", domain);
    self->domains[self->n_domains++].kinds = kinds;
    return 0;
}

void *crm_zap_socket(crm_zap_t *self)
{
    return self->sock;
}

unsigned crm_zap_generation(const crm_zap_t *self)
{
    return self->generation;
}

const crm_directory_t *crm_zap_directory(const crm_zap_t *self)
{
    return self->dir;
}

int64_t crm_zap_refused(const crm_zap_t *self, crm_auth_reason_t reason)
{
    return (unsigned)reason < CRM_AUTH_REASONS ? self->refused[reason] : 0;
}

void crm_zap_refuse(crm_zap_t *self, crm_auth_reason_t reason, const char *who, const char *what)
{
    if ((unsigned)reason >= CRM_AUTH_REASONS)
        return;
    self->refused[reason]++;
    int64_t now = crm_mono_us();
    s_logged_t *slot = &self->logged[crm_hash64(CRM_HASH_SEED, who, strlen(who)) % S_LOG_SLOTS];
    int same = !strcmp(slot->who, who);
    if (same && now - slot->last_us < S_LOG_PERIOD_US) {
        slot->suppressed++;
        return;
    }
    /* Many different keys (a scanner) share one budget per minute. */
    if (now - self->budget_start_us >= S_LOG_PERIOD_US) {
        if (self->budget_suppressed)
            crm_warn("auth.refused", "%" PRId64 " more refusals were not logged in the last minute",
                     self->budget_suppressed);
        self->budget_start_us = now;
        self->budget_used = 0;
        self->budget_suppressed = 0;
    }
    if (self->budget_used >= S_LOG_BUDGET) {
        self->budget_suppressed++;
        return;
    }
    self->budget_used++;
    int64_t before = same ? slot->suppressed : 0;
    snprintf(slot->who, sizeof slot->who, "%s", who);
    slot->last_us = now;
    slot->suppressed = 0;
    crm_warn("auth.refused",
             "refused %s from \"%s\": %s (%" PRId64 " refused for this reason so far; %" PRId64
             " more from it in the last minute not logged)",
             what, who, crm_auth_reason_name(reason), self->refused[reason], before);
}

/* Which kinds the socket's ZAP domain admits. */
static unsigned s_kinds(const crm_zap_t *self, const char *domain, size_t len)
{
    for (size_t i = 0; i < self->n_domains; i++)
        if (strlen(self->domains[i].name) == len && !memcmp(self->domains[i].name, domain, len))
            return self->domains[i].kinds;
    return CRM_KIND_ANY;
}

static void s_send(void *sock, const void *data, size_t len, int more)
{
    zmq_send(sock, data, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0));
}

/* ZMTP metadata: name length (1 byte), name, value length (4 bytes, big
 * endian), value. */
static size_t s_metadata(uint8_t *out, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), n = 0;
    out[n++] = (uint8_t)nl;
    memcpy(out + n, name, nl);
    n += nl;
    out[n++] = (uint8_t)(vl >> 24);
    out[n++] = (uint8_t)(vl >> 16);
    out[n++] = (uint8_t)(vl >> 8);
    out[n++] = (uint8_t)vl;
    memcpy(out + n, value, vl);
    return n + vl;
}

static void s_answer(crm_zap_t *self, zmq_msg_t *f, int nf)
{
    /* [peer][""][version][request id][domain][address][identity][mechanism][key] */
    if (nf < 8 || zmq_msg_size(&f[1]) != 0)
        return; /* not from libzmq: nothing sensible to answer */
    const char *status = "400", *text = "refused", *user = "";
    uint8_t meta[128];
    size_t meta_len = 0;
    char key[CRM_KEY_Z85_LEN + 1] = "";
    int is_curve = zmq_msg_size(&f[7]) == 5 && !memcmp(zmq_msg_data(&f[7]), "CURVE", 5);
    if (!is_curve || nf < 9 || zmq_msg_size(&f[8]) != 32) {
        text = "only CURVE is accepted";
        crm_zap_refuse(self, CRM_AUTH_UNKNOWN_KEY, "(no key)", "a client without CURVE");
    } else {
        zmq_z85_encode(key, zmq_msg_data(&f[8]), 32);
        const crm_principal_t *p = crm_directory_by_key(self->dir, key);
        unsigned kinds = s_kinds(self, zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
        if (!p) {
            text = "unknown key";
            crm_zap_refuse(self, CRM_AUTH_UNKNOWN_KEY, key, "a connection");
        } else if (!(p->kind & kinds)) {
            text = "this kind of principal may not use this socket";
            char what[96];
            snprintf(what, sizeof what, "a %s connection on \"%.40s\"", crm_kind_name(p->kind),
                     (const char *)zmq_msg_data(&f[4]));
            crm_zap_refuse(self, CRM_AUTH_KIND, key, what);
        } else {
            status = "200";
            text = "OK";
            user = p->name;
            meta_len = s_metadata(meta, S_KEY_PROPERTY, key);
        }
    }
    s_send(self->sock, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), 1);
    s_send(self->sock, "", 0, 1);
    s_send(self->sock, "1.0", 3, 1);
    s_send(self->sock, zmq_msg_data(&f[3]), zmq_msg_size(&f[3]), 1);
    s_send(self->sock, status, 3, 1);
    s_send(self->sock, text, strlen(text), 1);
    s_send(self->sock, user, strlen(user), 1);
    s_send(self->sock, meta, meta_len, 0);
}

int crm_zap_handle(crm_zap_t *self, int cap)
{
    int n = 0;
    for (; n < cap; n++) {
        zmq_msg_t f[S_FRAMES];
        int nf = 0, more = 1;
        zmq_msg_init(&f[0]);
        if (zmq_msg_recv(&f[0], self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f[0]);
            break;
        }
        more = zmq_msg_more(&f[0]);
        nf = 1;
        while (more) {
            zmq_msg_t *m = &f[nf < S_FRAMES ? nf : S_FRAMES - 1];
            if (nf >= S_FRAMES)
                zmq_msg_close(m); /* too many frames: keep reading, answer nothing */
            zmq_msg_init(m);
            zmq_msg_recv(m, self->sock, 0);
            more = zmq_msg_more(m);
            if (nf < S_FRAMES)
                nf++;
        }
        s_answer(self, f, nf);
        for (int i = 0; i < nf; i++)
            zmq_msg_close(&f[i]);
    }
    return n;
}

int crm_zap_reload(crm_zap_t *self)
{
    char err[512];
    crm_directory_t *dir = crm_directory_load(self->path, err, sizeof err);
    if (!dir) {
        crm_error("auth.reload", "%s; keeping the directory read before", err);
        return -1;
    }
    int removed = 0;
    for (size_t i = 0; i < crm_directory_size(self->dir); i++) {
        /* A key gone, or now held by another principal or kind. */
        const crm_principal_t *was = crm_directory_at(self->dir, i);
        const crm_principal_t *now = crm_directory_by_key(dir, was->public_key);
        if (!now || strcmp(now->name, was->name) != 0 || now->kind != was->kind)
            removed = 1;
    }
    crm_directory_destroy(&self->dir);
    self->dir = dir;
    self->generation++;
    crm_info("auth.reload", "directory \"%s\" read again: %zu keys", self->path,
             crm_directory_size(dir));
    return removed;
}

const crm_principal_t *crm_zap_sender(crm_zap_t *self, void *msg)
{
    const char *user = zmq_msg_gets(msg, "User-Id");
    const char *key = zmq_msg_gets(msg, S_KEY_PROPERTY);
    if (!user || !key)
        return NULL;
    const crm_principal_t *p = crm_directory_by_key(self->dir, key);
    return p && !strcmp(p->name, user) ? p : NULL;
}
