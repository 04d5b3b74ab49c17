/* context.c: named contexts, so that an operator switches between the
 * services of `make run` and those of a compose deployment with one word
 * (`crmctl --context compose ...`, or `crmctl context use compose`), as
 * kubectl does with its kubeconfig.
 *
 * The file is CRM_CONFIG, else $XDG_CONFIG_HOME/crm/config, else
 * ~/.config/crm/config:
 *
 *     # which context applies when none is named
 *     current-context = local
 *
 *     [local]
 *     services = sales=tcp://127.0.0.1:7410,marketing=tcp://127.0.0.1:7420
 *     bus = tcp://127.0.0.1:7401
 *
 *     [compose]
 *     services = sales=tcp://crm.example:7410
 *     timeout = 3s
 *
 * `context use` rewrites only the current-context line, keeping the rest of
 * the file (comments too), and replaces the file by rename so that a crash
 * leaves the old file or the new one, never half of one. */
#include "main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const crmctl_opt_t crmctl_context_list_opts[] = {{NULL, 0, NULL, NULL, 0}};
const crmctl_opt_t crmctl_context_use_opts[] = {{NULL, 0, NULL, NULL, 0}};

#define S_LINE_MAX 4096

static char *s_config_path(void)
{
    const char *env = getenv("CRM_CONFIG");
    if (env && *env)
        return strdup(env);
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char buf[4096];
    if (xdg && *xdg)
        snprintf(buf, sizeof buf, "%s/crm/config", xdg);
    else if (home && *home)
        snprintf(buf, sizeof buf, "%s/.config/crm/config", home);
    else
        return strdup("");
    return strdup(buf);
}

/* The line without leading and trailing white space (in place). */
static char *s_strip(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static int s_file_error(const crmctl_cfile_t *cf, int line, const char *hint, const char *what)
{
    char detail[4200];
    snprintf(detail, sizeof detail, "In %s, line %d.", cf->path, line);
    crmctl_error(detail, hint, "invalid config file: %s", what);
    return CRMCTL_EXIT_USAGE;
}

int crmctl_cfile_load(crmctl_cfile_t *cf)
{
    memset(cf, 0, sizeof *cf);
    cf->path = s_config_path();
    if (!cf->path)
        return CRMCTL_EXIT_USAGE;
    FILE *f = *cf->path ? fopen(cf->path, "r") : NULL;
    if (!f) {
        if (!*cf->path || errno == ENOENT)
            return 0;
        crmctl_error(NULL, "Check the file's permissions, or point CRM_CONFIG at another file.",
                     "could not open config file \"%s\": %s", cf->path, strerror(errno));
        return CRMCTL_EXIT_USAGE;
    }
    char raw[S_LINE_MAX];
    int lineno = 0, rc = 0;
    crmctl_context_t *cur = NULL;
    while (rc == 0 && fgets(raw, sizeof raw, f)) {
        lineno++;
        char *line = s_strip(raw);
        if (!*line || *line == '#' || *line == ';')
            continue;
        if (*line == '[') {
            char *end = strchr(line, ']');
            if (!end || end[1] || end == line + 1) {
                rc = s_file_error(cf, lineno, "Write a context as [NAME] on a line of its own.",
                                  "malformed context header");
                break;
            }
            *end = 0;
            for (size_t i = 0; i < cf->n_contexts; i++)
                if (!strcmp(cf->contexts[i].name, line + 1))
                    rc = s_file_error(cf, lineno, "Name each context once.",
                                      "a context is defined twice");
            crmctl_context_t *nc =
                rc ? NULL : realloc(cf->contexts, (cf->n_contexts + 1) * sizeof *nc);
            if (!nc) {
                rc = CRMCTL_EXIT_USAGE;
                break;
            }
            cf->contexts = nc;
            cur = &cf->contexts[cf->n_contexts++];
            memset(cur, 0, sizeof *cur);
            cur->name = strdup(line + 1);
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = s_file_error(cf, lineno, "Write settings as KEY = VALUE.",
                              "a line is not KEY = VALUE");
            break;
        }
        *eq = 0;
        char *key = s_strip(line), *value = s_strip(eq + 1), **slot = NULL;
        if (!cur && !strcmp(key, "current-context"))
            slot = &cf->current;
        else if (cur && !strcmp(key, "services"))
            slot = &cur->services;
        else if (cur && !strcmp(key, "bus"))
            slot = &cur->bus;
        else if (cur && !strcmp(key, "timeout"))
            slot = &cur->timeout;
        if (!slot) {
            rc = s_file_error(cf, lineno,
                              cur ? "A context sets services, bus and timeout."
                                  : "Before the first [context] only current-context is set.",
                              "unknown setting");
            break;
        }
        free(*slot);
        *slot = strdup(value);
    }
    fclose(f);
    return rc;
}

void crmctl_cfile_free(crmctl_cfile_t *cf)
{
    for (size_t i = 0; i < cf->n_contexts; i++) {
        free(cf->contexts[i].name);
        free(cf->contexts[i].services);
        free(cf->contexts[i].bus);
        free(cf->contexts[i].timeout);
    }
    free(cf->contexts);
    free(cf->current);
    free(cf->path);
    memset(cf, 0, sizeof *cf);
}

const crmctl_context_t *crmctl_cfile_context(const crmctl_cfile_t *cf, const char *name)
{
    for (size_t i = 0; i < cf->n_contexts; i++)
        if (!strcmp(cf->contexts[i].name, name))
            return &cf->contexts[i];
    char detail[4400];
    size_t at = (size_t)snprintf(detail, sizeof detail, "%s %s", cf->path,
                                 cf->n_contexts ? "defines:" : "defines no context.");
    for (size_t i = 0; i < cf->n_contexts && at < sizeof detail; i++)
        at += (size_t)snprintf(detail + at, sizeof detail - at, "%s %s", i ? "," : "",
                               cf->contexts[i].name);
    crmctl_error(detail,
                 "Add a [NAME] section to the config file, or point CRM_CONFIG at another file.",
                 "unknown context \"%s\"", name);
    return NULL;
}

/* ---- verbs ------------------------------------------------------------ */

int crmctl_context_list(crmctl_t *ctl, const crmctl_args_t *args)
{
    crmctl_cfile_t cf;
    int rc = crmctl_cfile_load(&cf);
    if (rc) {
        crmctl_cfile_free(&cf);
        return rc;
    }
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        json_t *arr = json_array();
        for (size_t i = 0; i < cf.n_contexts; i++) {
            const crmctl_context_t *c = &cf.contexts[i];
            json_array_append_new(
                arr, json_pack("{s:s, s:b, s:s?, s:s?, s:s?}", "name", c->name, "current",
                               cf.current && !strcmp(cf.current, c->name), "services", c->services,
                               "bus", c->bus, "timeout", c->timeout));
        }
        rc = crmctl_json_line(json_pack("{s:s, s:s?, s:o}", "file", cf.path, "current", cf.current,
                                        "contexts", arr))
                 ? CRMCTL_EXIT_FAILED
                 : CRMCTL_EXIT_OK;
        crmctl_cfile_free(&cf);
        return rc;
    }
    if (cf.n_contexts == 0) {
        printf("(no contexts in %s)\n", *cf.path ? cf.path : "any config file");
    } else {
        static const char *const headers[] = {"CURRENT", "NAME",    "SERVICES",
                                              "BUS",     "TIMEOUT", NULL};
        crmctl_table_t *tab = crmctl_table_new(headers);
        for (size_t i = 0; tab && i < cf.n_contexts; i++) {
            const crmctl_context_t *c = &cf.contexts[i];
            const char *cells[] = {cf.current && !strcmp(cf.current, c->name) ? "*" : "", c->name,
                                   c->services, c->bus, c->timeout};
            crmctl_table_add(tab, cells);
        }
        if (tab)
            crmctl_table_print(tab);
        crmctl_table_destroy(&tab);
    }
    crmctl_cfile_free(&cf);
    return CRMCTL_EXIT_OK;
}

int crmctl_context_use(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *name = crmctl_positional(args, 0);
    if (!name)
        return crmctl_usage_error(ctl, "no context given");
    crmctl_cfile_t cf;
    int rc = crmctl_cfile_load(&cf);
    if (rc == 0 && !crmctl_cfile_context(&cf, name))
        rc = CRMCTL_EXIT_USAGE;
    if (rc) {
        crmctl_cfile_free(&cf);
        return rc;
    }
    /* Copy the file, with the current-context line replaced (or added
     * before the first context). */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", cf.path);
    FILE *in = fopen(cf.path, "r"), *out = in ? fopen(tmp, "w") : NULL;
    if (!out) {
        crmctl_error(NULL, NULL, "could not write config file \"%s\": %s", tmp, strerror(errno));
        if (in)
            fclose(in);
        crmctl_cfile_free(&cf);
        return CRMCTL_EXIT_FAILED;
    }
    char raw[S_LINE_MAX], copy[S_LINE_MAX];
    int done = 0;
    while (fgets(raw, sizeof raw, in)) {
        snprintf(copy, sizeof copy, "%s", raw);
        char *line = s_strip(copy), *eq = strchr(line, '=');
        if (!done && *line == '[') {
            fprintf(out, "current-context = %s\n\n", name);
            done = 1;
        } else if (!done && eq) {
            *eq = 0;
            if (!strcmp(s_strip(line), "current-context")) {
                fprintf(out, "current-context = %s\n", name);
                done = 1;
                continue;
            }
        }
        fputs(raw, out);
    }
    fclose(in);
    int ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
    ok = (fclose(out) == 0) && ok;
    if (!ok || rename(tmp, cf.path) < 0) {
        crmctl_error(NULL, NULL, "could not write config file \"%s\": %s", cf.path,
                     strerror(errno));
        unlink(tmp);
        crmctl_cfile_free(&cf);
        return CRMCTL_EXIT_FAILED;
    }
    printf("current context: %s (%s)\n", name, cf.path);
    crmctl_cfile_free(&cf);
    return CRMCTL_EXIT_OK;
}
