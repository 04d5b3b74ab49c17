/* directory.c: the directory of principals, parsed whole or not at all. */
#include <crm/directory.h>

#include <crm/access.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_DIRECTORY_MAX (16 * 1024 * 1024)
#define S_NAME_MAX 100
#define S_FIELDS_MAX 64 /* a role line's name and cells */

struct crm_directory {
    crm_principal_t *p;
    size_t n;
    char *text; /* every string points into this copy of the file */
    char **lists;
    crm_roles_t *roles;
};

const char *crm_kind_name(crm_kind_t kind)
{
    switch (kind) {
    case CRM_KIND_SERVICE:
        return "service";
    case CRM_KIND_STAFF:
        return "staff";
    case CRM_KIND_SUBSCRIBER:
        return "subscriber";
    case CRM_KIND_GATEWAY:
        return "gateway";
    }
    return "unknown";
}

static int s_kind_parse(const char *s)
{
    for (int k = CRM_KIND_SERVICE; k <= CRM_KIND_GATEWAY; k <<= 1)
        if (!strcmp(s, crm_kind_name((crm_kind_t)k)))
            return k;
    return -1;
}

static int s_word_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > S_NAME_MAX)
        return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.' || *c == '@'))
            return 0;
    return 1;
}

/* Splits a comma list in place into a NULL-terminated array (one malloc,
 * remembered in self->lists). "-" is the empty list. */
static const char *const *s_list(crm_directory_t *self, size_t slot, char *s)
{
    size_t n = 1;
    if (!strcmp(s, "-"))
        n = 0;
    else
        for (char *c = s; *c; c++)
            n += *c == ',';
    char **out = calloc(n + 1, sizeof *out);
    if (!out)
        return NULL;
    self->lists[slot] = (char *)out;
    for (size_t i = 0; i < n; i++) {
        out[i] = s;
        char *comma = strchr(s, ',');
        if (comma)
            *comma = 0, s = comma + 1;
        if (!s_word_ok(out[i]))
            return NULL;
    }
    return (const char *const *)out;
}

crm_directory_t *crm_directory_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "could not open directory \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > S_DIRECTORY_MAX) {
        fclose(f);
        snprintf(err, errlen, "directory \"%s\" is larger than %d bytes", path, S_DIRECTORY_MAX);
        return NULL;
    }
    crm_directory_t *self = calloc(1, sizeof *self);
    size_t size = (size_t)st.st_size;
    if (self)
        self->text = malloc(size + 1);
    size_t got = self && self->text ? fread(self->text, 1, size, f) : 0;
    fclose(f);
    if (!self || !self->text || got != size) {
        snprintf(err, errlen, "could not read directory \"%s\"", path);
        crm_directory_destroy(&self);
        return NULL;
    }
    self->text[size] = 0;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += self->text[i] == '\n';
    self->p = calloc(lines, sizeof *self->p);
    self->lists = calloc(2 * lines, sizeof *self->lists);
    self->roles = crm_roles_new();
    if (!self->p || !self->lists || !self->roles) {
        snprintf(err, errlen, "out of memory reading directory \"%s\"", path);
        crm_directory_destroy(&self);
        return NULL;
    }
    size_t lineno = 0;
    for (char *line = self->text, *next; line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        /* A Z85 key may hold '#', never a blank: a comment is a '#' that
         * stands alone as a word ("# note"). */
        for (char *h = strchr(line, '#'); h; h = strchr(h + 1, '#'))
            if ((h == line || h[-1] == ' ' || h[-1] == '\t') &&
                (!h[1] || h[1] == ' ' || h[1] == '\t' || h[1] == '\r')) {
                *h = 0;
                break;
            }
        char *field[S_FIELDS_MAX];
        int nf = 0;
        for (char *tok = strtok(line, " \t\r"); tok && nf < S_FIELDS_MAX;
             tok = strtok(NULL, " \t\r"))
            field[nf++] = tok;
        if (nf == 0)
            continue;
        if (!strcmp(field[0], "role")) {
            char why[200];
            if (nf < 2 || !s_word_ok(field[1]))
                snprintf(why, sizeof why, "expected: role name type.action=level ...");
            else if (strtok(NULL, " \t\r"))
                snprintf(why, sizeof why, "a role line holds at most %d cells", S_FIELDS_MAX - 2);
            else if (crm_roles_define(self->roles, field[1], (const char *const *)field + 2,
                                      (size_t)nf - 2, why, sizeof why) == 0)
                continue;
            snprintf(err, errlen, "directory \"%s\" line %zu: %s", path, lineno, why);
            crm_directory_destroy(&self);
            return NULL;
        }
        const char *why = NULL;
        crm_principal_t *p = &self->p[self->n];
        int kind = nf >= 3 ? s_kind_parse(field[2]) : -1;
        if (nf < 3 || nf > 5)
            why = "expected: public-key name kind [teams [roles]]";
        else if (!crm_key_valid(field[0]))
            why = "the public key is not 40 characters of Z85";
        else if (!s_word_ok(field[1]))
            why = "the name must be 1 to 100 letters, digits, '-', '_', '.' or '@'";
        else if (kind < 0)
            why = "the kind must be service, staff, subscriber or gateway";
        else if (!(p->teams = s_list(self, 2 * self->n, nf > 3 ? field[3] : (char[]){"-"})))
            why = "teams: a comma-separated list of names, or -";
        else if (!(p->roles = s_list(self, 2 * self->n + 1, nf > 4 ? field[4] : (char[]){"-"})))
            why = "roles: a comma-separated list of names, or -";
        else if (crm_directory_by_key(self, field[0]))
            why = "the public key is listed twice";
        if (!why) {
            const crm_principal_t *same = crm_directory_by_name(self, field[1]);
            if (same && same->kind != (crm_kind_t)kind)
                why = "the name is listed before with another kind";
        }
        if (why) {
            snprintf(err, errlen, "directory \"%s\" line %zu: %s", path, lineno, why);
            crm_directory_destroy(&self);
            return NULL;
        }
        memcpy(p->public_key, field[0], CRM_KEY_Z85_LEN + 1);
        p->name = field[1];
        p->kind = (crm_kind_t)kind;
        self->n++;
    }
    /* Checked once every role line is read: a role may be defined below
     * the staff that hold it. */
    for (size_t i = 0; i < self->n; i++)
        for (const char *const *r = self->p[i].roles; *r; r++)
            if (crm_roles_level(self->roles, *r, CRM_REC_PERSON, CRM_ACT_READ) < 0) {
                snprintf(err, errlen,
                         "directory \"%s\": %s has role \"%s\", which is neither built in nor "
                         "defined by a role line",
                         path, self->p[i].name, *r);
                crm_directory_destroy(&self);
                return NULL;
            }
    return self;
}

void crm_directory_destroy(crm_directory_t **self_p)
{
    crm_directory_t *self = *self_p;
    if (!self)
        return;
    if (self->lists)
        for (size_t i = 0; i < 2 * (self->n + 1); i++)
            free(self->lists[i]);
    free(self->lists);
    crm_roles_destroy(&self->roles);
    free(self->p);
    free(self->text);
    free(self);
    *self_p = NULL;
}

const crm_principal_t *crm_directory_by_key(const crm_directory_t *self, const char *z85)
{
    for (size_t i = 0; self && i < self->n; i++)
        if (!strcmp(self->p[i].public_key, z85))
            return &self->p[i];
    return NULL;
}

const crm_principal_t *crm_directory_by_name(const crm_directory_t *self, const char *name)
{
    for (size_t i = 0; self && i < self->n; i++)
        if (!strcmp(self->p[i].name, name))
            return &self->p[i];
    return NULL;
}

size_t crm_directory_size(const crm_directory_t *self)
{
    return self ? self->n : 0;
}

const crm_principal_t *crm_directory_at(const crm_directory_t *self, size_t i)
{
    return i < self->n ? &self->p[i] : NULL;
}

const struct crm_roles *crm_directory_roles(const crm_directory_t *self)
{
    return self ? self->roles : NULL;
}

static int s_in(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (!strcmp(*list, s))
            return 1;
    return 0;
}

int crm_principal_has_role(const crm_principal_t *p, const char *role)
{
    return s_in(p->roles, role);
}

int crm_principal_in_team(const crm_principal_t *p, const char *team)
{
    return s_in(p->teams, team);
}
