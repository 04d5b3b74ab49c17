/* help.c: `crmctl help`, `crmctl --help` and `crmctl VERB --help`, all
 * printed from the tables (verbs.c, args.c, main.c), so the help cannot
 * drift from what crmctl accepts. */
#include "main.h"

#include <stdio.h>
#include <string.h>

/* ---- help ------------------------------------------------------------- */

static void s_print_opts(const crmctl_opt_t *opts)
{
    for (const crmctl_opt_t *o = opts; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                 o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-26s %s\n", left, o->help);
    }
}

static void s_print_env(void)
{
    printf("\nEnvironment:\n");
    for (const crm_conf_def_t *d = crmctl_conf; d->name; d++)
        printf("  %-26s %s\n  %-26s (default: %s)\n", d->name, d->help, "", d->def);
}

void crmctl_help_main(void)
{
    printf("crmctl is the staff's command-line tool for the CRM services.\n\n"
           "Usage:\n  crmctl [OPTION]... VERB [ARG]...\n\nVerbs:\n");
    for (const crmctl_verb_t *v = crmctl_verbs; v->name; v++)
        printf("  %-22s %s\n", v->name, v->help);
    printf("\nOptions (also accepted after the verb):\n");
    s_print_opts(crmctl_global_opts);
    s_print_env();
    printf("\nExit status: 0 success, 1 the service answered with an error, 2 usage error,\n"
           "3 a service could not be reached in time.\n"
           "Run \"crmctl VERB --help\" for the options of a verb.\n");
    fflush(stdout);
}

void crmctl_help_verb(const crmctl_verb_t *v)
{
    printf("crmctl %s: %s\n\nUsage:\n  crmctl %s %s\n", v->name, v->help, v->name, v->synopsis);
    if (v->description)
        printf("\n%s\n", v->description);
    if (v->opts && v->opts->name) {
        printf("\nOptions:\n");
        s_print_opts(v->opts);
    }
    printf("\nCommon options:\n");
    s_print_opts(crmctl_global_opts);
    s_print_env();
    fflush(stdout);
}

int crmctl_group_usage(const char *word)
{
    size_t len = strlen(word);
    fflush(stdout);
    fprintf(stderr, "crmctl: \"%s\" needs a subcommand\nHINT:  Use one of:\n", word);
    for (const crmctl_verb_t *v = crmctl_verbs; v->name; v++)
        if (!strncmp(v->name, word, len) && v->name[len] == ' ')
            fprintf(stderr, "  crmctl %s %s\n", v->name, v->synopsis);
    return CRMCTL_EXIT_USAGE;
}

int crmctl_help(crmctl_t *ctl, const crmctl_args_t *args)
{
    size_t n = crmctl_n_positional(args);
    if (n == 0) {
        crmctl_help_main();
        return CRMCTL_EXIT_OK;
    }
    int words = 0;
    const crmctl_verb_t *v = crmctl_verb_find((int)n, (char **)args->positional, 0, &words);
    if (v && words == (int)n) {
        crmctl_help_verb(v);
        return CRMCTL_EXIT_OK;
    }
    if (n == 1 && crmctl_verb_is_group(args->positional[0])) {
        printf("Verbs of %s:\n", args->positional[0]);
        size_t len = strlen(args->positional[0]);
        for (const crmctl_verb_t *g = crmctl_verbs; g->name; g++)
            if (!strncmp(g->name, args->positional[0], len) && g->name[len] == ' ')
                printf("  %-22s %s\n", g->name, g->help);
        return CRMCTL_EXIT_OK;
    }
    ctl->verb = NULL;
    return crmctl_usage_error(ctl, "unknown verb \"%s\"", args->positional[0]);
}
