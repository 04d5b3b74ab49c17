/* config.c: the environment read through a declarative table. */
#include <crm/check.h>
#include <crm/config.h>
#include <crm/log.h>

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crm_config {
    const crm_conf_def_t *defs;
    size_t n;
    char **values;
};

static int s_read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    *out = strdup(buf);
    return *out ? 0 : -ENOMEM;
}

static int s_parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        *out = 1;
    else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
             !strcasecmp(v, "off") || !*v)
        *out = 0;
    else
        return -1;
    return 0;
}

crm_config_t *crm_config_load(const crm_conf_def_t *defs, char *err, size_t errlen)
{
    crm_config_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->defs = defs;
    while (defs[self->n].name)
        self->n++;
    self->values = calloc(self->n + 1, sizeof(char *));
    if (!self->values)
        goto fail_mem;
    for (size_t i = 0; i < self->n; i++) {
        const crm_conf_def_t *d = &defs[i];
        const char *v = getenv(d->name);
        char fname[160];
        snprintf(fname, sizeof fname, "%s_FILE", d->name);
        const char *file = getenv(fname);
        if (!v && file && *file) {
            int rc = s_read_file(file, &self->values[i]);
            if (rc < 0) {
                snprintf(err, errlen, "could not read %s \"%s\": %s", fname, file, strerror(-rc));
                goto fail;
            }
        } else if (v) {
            self->values[i] = strdup(v);
        } else if (d->def) {
            self->values[i] = strdup(d->def);
        } else {
            snprintf(err, errlen, "missing required setting %s (%s)", d->name, d->help);
            goto fail;
        }
        if (!self->values[i])
            goto fail_mem;
        const char *val = self->values[i];
        if (d->type == CRM_CONF_INT) {
            char *end;
            errno = 0;
            long long x = strtoll(val, &end, 10);
            if (errno || end == val || *end) {
                snprintf(err, errlen, "invalid value for %s: \"%s\" is not an integer", d->name,
                         val);
                goto fail;
            }
            if ((d->min || d->max) && (x < d->min || x > d->max)) {
                snprintf(err, errlen, "invalid value for %s: %lld is outside %lld..%lld", d->name,
                         x, (long long)d->min, (long long)d->max);
                goto fail;
            }
        } else if (d->type == CRM_CONF_BOOL) {
            int b;
            if (s_parse_bool(val, &b) < 0) {
                snprintf(err, errlen, "invalid value for %s: \"%s\" is not a boolean", d->name,
                         val);
                goto fail;
            }
        }
    }
    return self;
fail_mem:
    snprintf(err, errlen, "out of memory");
fail:
    crm_config_destroy(&self);
    return NULL;
}

void crm_config_destroy(crm_config_t **self_p)
{
    crm_config_t *self = *self_p;
    if (!self)
        return;
    if (self->values)
        for (size_t i = 0; i < self->n; i++)
            free(self->values[i]);
    free(self->values);
    free(self);
    *self_p = NULL;
}

static size_t s_index(const crm_config_t *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++)
        if (!strcmp(self->defs[i].name, name))
            return i;
    assert(!"configuration name not in the table");
    return 0;
}

const char *crm_config_str(const crm_config_t *self, const char *name)
{
    return self->values[s_index(self, name)];
}

int64_t crm_config_int(const crm_config_t *self, const char *name)
{
    return strtoll(self->values[s_index(self, name)], NULL, 10);
}

int crm_config_bool(const crm_config_t *self, const char *name)
{
    int b = 0;
    s_parse_bool(self->values[s_index(self, name)], &b);
    return b;
}

void crm_config_log(const crm_config_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        const crm_conf_def_t *d = &self->defs[i];
        const char *v = self->values[i];
        if (d->secret)
            v = (v && *v) ? "(set)" : "(unset)";
        crm_info("config", "%s=%s", d->name, v);
    }
}

void crm_config_print_help(const crm_conf_def_t *defs)
{
    for (size_t i = 0; defs[i].name; i++)
        printf("  %-28s %-24s %s\n", defs[i].name, defs[i].def ? defs[i].def : "(required)",
               defs[i].help);
}

int crm_config_list(const crm_config_t *self, const char *name, char ***items, size_t *n)
{
    const char *list = crm_config_str(self, name);
    char *copy = strdup(list ? list : ""), *save = NULL;
    size_t cap = 1;
    *items = NULL;
    *n = 0;
    if (!copy)
        return -ENOMEM;
    for (const char *c = copy; *c; c++)
        cap += *c == ',';
    char **v = calloc(cap, sizeof *v);
    if (!v) {
        free(copy);
        return -ENOMEM;
    }
    size_t k = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const char *s;
        size_t len = crm_trim(t, &s);
        if (len == 0)
            continue;
        if (!(v[k] = strndup(s, len))) {
            free(copy);
            crm_config_list_free(&v, k);
            return -ENOMEM;
        }
        k++;
    }
    free(copy);
    *items = v;
    *n = k;
    return 0;
}

void crm_config_list_free(char ***items, size_t n)
{
    if (!*items)
        return;
    for (size_t i = 0; i < n; i++)
        free((*items)[i]);
    free(*items);
    *items = NULL;
}
