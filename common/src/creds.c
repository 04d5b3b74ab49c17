/* creds.c: a tool's keypair and the servers' public keys, from files. */
#include <crm/creds.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct crm_creds {
    int plaintext;
    crm_keypair_t kp;
    crm_directory_t *dir;
};

char *crm_creds_config_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, len, "%s/crm", xdg);
    else if (home && *home)
        snprintf(buf, len, "%s/.config/crm", home);
    else
        return NULL;
    return buf;
}

static int s_truthy(const char *v)
{
    return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"));
}

crm_creds_t *crm_creds_from_env(char *err, size_t errlen)
{
    crm_creds_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (s_truthy(getenv("CRM_INSECURE_PLAINTEXT"))) {
        fprintf(stderr, "warning: CRM_INSECURE_PLAINTEXT is set: no encryption, no "
                        "authentication (development only)\n");
        self->plaintext = 1;
        return self;
    }
    char conf[3000], key[3100], dir[3100];
    const char *kf = getenv("CRM_KEY_FILE"), *df = getenv("CRM_DIRECTORY_FILE");
    int have_conf = crm_creds_config_dir(conf, sizeof conf) != NULL;
    if (!(kf && *kf) && have_conf)
        snprintf(key, sizeof key, "%s/key", conf), kf = key;
    if (!(df && *df) && have_conf)
        snprintf(dir, sizeof dir, "%s/directory", conf), df = dir;
    if (!kf || !df) {
        snprintf(err, errlen, "no key: set CRM_KEY_FILE and CRM_DIRECTORY_FILE (HOME is unset)");
        crm_creds_destroy(&self);
        return NULL;
    }
    char why[600];
    if (crm_keypair_read(kf, 1, &self->kp, why, sizeof why) != 0) {
        snprintf(err, errlen,
                 "%s (make a key with `crmctl keys new NAME`, have it added to the "
                 "directory, and point CRM_KEY_FILE at NAME.key)",
                 why);
        crm_creds_destroy(&self);
        return NULL;
    }
    self->dir = crm_directory_load(df, why, sizeof why);
    if (!self->dir) {
        snprintf(err, errlen,
                 "%s (the servers' public keys are read from it; set "
                 "CRM_DIRECTORY_FILE)",
                 why);
        crm_creds_destroy(&self);
        return NULL;
    }
    return self;
}

void crm_creds_destroy(crm_creds_t **self_p)
{
    crm_creds_t *self = *self_p;
    if (!self)
        return;
    crm_directory_destroy(&self->dir);
    explicit_bzero(&self->kp, sizeof self->kp);
    free(self);
    *self_p = NULL;
}

int crm_creds_client(const crm_creds_t *self, void *sock, const char *server, char *err,
                     size_t errlen)
{
    if (self->plaintext)
        return 0;
    const crm_principal_t *p = crm_directory_by_name(self->dir, server);
    /* A gateway (crm-api) serves commands of its own too (api.token.*). */
    if (!p || (p->kind != CRM_KIND_SERVICE && p->kind != CRM_KIND_GATEWAY)) {
        snprintf(err, errlen, "the directory lists no service \"%.100s\", so its key is unknown",
                 server);
        return -1;
    }
    if (sock && crm_curve_client(sock, &self->kp, p->public_key) != 0) {
        snprintf(err, errlen, "could not set CURVE options: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

const crm_principal_t *crm_creds_principal(const crm_creds_t *self)
{
    return self->plaintext ? NULL : crm_directory_by_key(self->dir, self->kp.public_key);
}

const crm_directory_t *crm_creds_directory(const crm_creds_t *self)
{
    return self->plaintext ? NULL : self->dir;
}

const char *crm_creds_public_key(const crm_creds_t *self)
{
    return self->kp.public_key;
}

int crm_creds_plaintext(const crm_creds_t *self)
{
    return self->plaintext;
}
