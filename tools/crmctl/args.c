/* args.c: the command line of a verb: its own options and the global ones
 * (before or after the verb's name), long and short forms, values inline
 * or in the next word, repeated options joined with ','; and the integer
 * values verbs read from it. */
#include "main.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options every verb accepts, before or after the verb's name. */
const crmctl_opt_t crmctl_global_opts[] = {
    {"output", 'o', "FORMAT", "output format: table (the default; also \"text\") or json", 0},
    {"services", 0, "SPEC", "services as name=endpoint,... (overrides CRM_SERVICES)", 0},
    {"bus", 0, "ENDPOINT", "bus endpoint to subscribe to (overrides CRM_BUS_SUB_ENDPOINT)", 0},
    {"help", 'h', NULL, "show help, then exit", 0},
    {NULL, 0, NULL, NULL, 0},
};

/* ---- arguments -------------------------------------------------------- */

const char *crmctl_arg(const crmctl_args_t *args, const char *name)
{
    for (size_t i = 0; i < args->n_opts; i++)
        if (!strcmp(args->opts[i]->name, name))
            return args->values[i];
    return NULL;
}

size_t crmctl_n_positional(const crmctl_args_t *args)
{
    return args->n_positional;
}

const char *crmctl_positional(const crmctl_args_t *args, size_t i)
{
    return i < args->n_positional ? args->positional[i] : NULL;
}

int crmctl_args_init(crmctl_args_t *args, const crmctl_opt_t *verb_opts, int argc)
{
    memset(args, 0, sizeof *args);
    for (const crmctl_opt_t *o = verb_opts; o && o->name; o++)
        if (args->n_opts < CRMCTL_MAX_OPTS)
            args->opts[args->n_opts++] = o;
    for (const crmctl_opt_t *o = crmctl_global_opts; o->name; o++)
        if (args->n_opts < CRMCTL_MAX_OPTS)
            args->opts[args->n_opts++] = o;
    args->positional = calloc((size_t)argc + 1, sizeof *args->positional);
    return args->positional ? 0 : -1;
}

void crmctl_args_free(crmctl_args_t *args)
{
    for (size_t i = 0; i < args->n_opts; i++)
        free(args->values[i]);
    free(args->positional);
    memset(args, 0, sizeof *args);
}

static int s_args_set(const crmctl_t *ctl, crmctl_args_t *args, size_t i, const char *value)
{
    const crmctl_opt_t *o = args->opts[i];
    char *v;
    if (args->values[i] && o->repeat && o->arg) {
        size_t n = strlen(args->values[i]) + strlen(value) + 2;
        v = malloc(n);
        if (v)
            snprintf(v, n, "%s,%s", args->values[i], value);
    } else {
        v = strdup(value);
    }
    if (!v) {
        crmctl_error(NULL, NULL, "out of memory");
        return -1;
    }
    free(args->values[i]);
    args->values[i] = v;
    return 0;
}

/* Parses options and positional arguments of argv[from..argc). When
 * `stop_at_positional` is set, stops at the first positional argument and
 * stores its index in *next (used before the verb's name). Returns 0 or a
 * CRMCTL_EXIT_* code after printing a usage error. */
int crmctl_args_parse(const crmctl_t *ctl, crmctl_args_t *args, int argc, char **argv, int from,
                      int stop_at_positional, int *next)
{
    int i = from, only_positional = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == 0) {
            if (stop_at_positional)
                break;
            args->positional[args->n_positional++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            if (stop_at_positional) {
                i++;
                break;
            }
            only_positional = 1;
            continue;
        }
        size_t k = args->n_opts;
        const char *inline_value = NULL;
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (k = 0; k < args->n_opts; k++)
                if (strlen(args->opts[k]->name) == len && !strncmp(args->opts[k]->name, name, len))
                    break;
            if (k == args->n_opts)
                return crmctl_usage_error(ctl, "unknown option \"--%.*s\"", (int)len, name);
            if (eq) {
                if (!args->opts[k]->arg)
                    return crmctl_usage_error(ctl, "option \"--%s\" takes no value",
                                              args->opts[k]->name);
                inline_value = eq + 1;
            }
        } else {
            for (const char *c = a + 1; *c; c++) {
                for (k = 0; k < args->n_opts; k++)
                    if (args->opts[k]->short_name == *c)
                        break;
                if (k == args->n_opts)
                    return crmctl_usage_error(ctl, "unknown option \"-%c\"", *c);
                if (args->opts[k]->arg) {
                    if (c[1])
                        inline_value = c + 1;
                    break;
                }
                /* A flag; others may follow in the same word (-eo json). */
                if (c[1] && s_args_set(ctl, args, k, "") < 0)
                    return CRMCTL_EXIT_USAGE;
            }
        }
        const crmctl_opt_t *o = args->opts[k];
        const char *value = "";
        if (o->arg) {
            if (inline_value) {
                value = inline_value;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return crmctl_usage_error(ctl, "option \"%s\" requires a value (%s)", a, o->arg);
            }
        }
        if (s_args_set(ctl, args, k, value) < 0)
            return CRMCTL_EXIT_USAGE;
    }
    if (next)
        *next = i;
    return 0;
}

int crmctl_parse_int(const crmctl_t *ctl, const char *what, const char *text, int64_t min,
                     int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        crmctl_usage_error(
            ctl, "invalid value \"%s\" for %s: expected an integer from %" PRId64 " to %" PRId64,
            text, what, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int crmctl_parse_u64(const crmctl_t *ctl, const char *what, const char *text, uint64_t min,
                     uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min) {
        crmctl_usage_error(ctl,
                           "invalid value \"%s\" for %s: expected an integer of at least %" PRIu64,
                           text, what, min);
        return -1;
    }
    *out = v;
    return 0;
}
