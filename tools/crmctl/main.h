/* main.h: what crmctl's own plumbing shares between its files (main.c,
 * verbs.c, args.c, call.c, output.c, help.c). Verbs include crmctl.h, never
 * this: the context and the parsed command line stay opaque to them. */
#ifndef CRMCTL_MAIN_H
#define CRMCTL_MAIN_H

#include "crmctl.h"

#include <crm/config.h>

/* Options of one verb plus the global ones. */
#define CRMCTL_MAX_OPTS 48

struct crmctl {
    crmctl_service_t *services;
    size_t n_services;
    char *bus;
    crmctl_output_t output;
    void *zctx;
    crm_creds_t *creds;        /* read on first use: verbs that call nothing need no key */
    const crmctl_verb_t *verb; /* for "Try crmctl VERB --help" */
    int timeout_ms;            /* --timeout or the context's; 0 = each verb's own */
};

struct crmctl_args {
    /* The verb's options first, then the global ones. */
    const crmctl_opt_t *opts[CRMCTL_MAX_OPTS];
    char *values[CRMCTL_MAX_OPTS];
    size_t n_opts;
    const char **positional;
    size_t n_positional;
};

/* The table of verbs (verbs.c), ending with a row whose name is NULL. */
extern const crmctl_verb_t crmctl_verbs[];
/* The verb whose words are argv[at..], the longest match; *words = its
 * number of words. NULL when none matches. */
const crmctl_verb_t *crmctl_verb_find(int argc, char **argv, int at, int *words);
/* 1 if some multi-word verb starts with `word` ("deadletter"). */
int crmctl_verb_is_group(const char *word);
/* The longest run of words argv[at..] that names a group of verbs ("sla
 * policy"), joined with spaces into buf; returns its number of words, 0
 * when argv[at] starts no group. */
int crmctl_verb_group(int argc, char **argv, int at, char *buf, size_t len);

/* Options every verb accepts (args.c), and the environment (main.c). */
extern const crmctl_opt_t crmctl_global_opts[];
extern const crm_conf_def_t crmctl_conf[];

/* args.c: the command line of one verb. init takes the verb's options
 * (NULL for none) and room for argc positional arguments; returns 0 or -1.
 * parse reads argv[from..argc): see args.c. free releases every value. */
int crmctl_args_init(crmctl_args_t *args, const crmctl_opt_t *verb_opts, int argc);
void crmctl_args_free(crmctl_args_t *args);
int crmctl_args_parse(const crmctl_t *ctl, crmctl_args_t *args, int argc, char **argv, int from,
                      int stop_at_positional, int *next);

/* help.c: `crmctl help`, --help of crmctl and of one verb, and the usage
 * of a verb group given without its subcommand (returns CRMCTL_EXIT_USAGE). */
int crmctl_help(crmctl_t *ctl, const crmctl_args_t *args);
void crmctl_help_main(void);
void crmctl_help_verb(const crmctl_verb_t *v);
int crmctl_group_usage(const char *word);
/* `crmctl GROUP --help`: the verbs of a group with their usage lines. */
void crmctl_help_group(const char *group);

/* output.c: the "DETAIL:"/"HINT:" lines of an error (either may be NULL),
 * and the "Try crmctl ... --help" line after a usage error (ctl may be
 * NULL). */
void crmctl_detail_hint(const char *detail, const char *hint);
void crmctl_try_help(const crmctl_t *ctl);
/* --no-headers: tables of this run print no header line. */
void crmctl_table_headers(int on);

/* context.c: the config file of named contexts (CRM_CONFIG, else
 * $XDG_CONFIG_HOME/crm/config, else ~/.config/crm/config). */
typedef struct {
    char *name, *services, *bus, *timeout; /* NULL when the context does not set it */
} crmctl_context_t;
typedef struct {
    char *path;    /* the file read (it may not exist) */
    char *current; /* its current-context, or NULL */
    crmctl_context_t *contexts;
    size_t n_contexts;
} crmctl_cfile_t;
/* Reads the config file into cf. A missing file is an empty one. Returns 0,
 * or CRMCTL_EXIT_USAGE after printing what is wrong with the file. */
int crmctl_cfile_load(crmctl_cfile_t *cf);
void crmctl_cfile_free(crmctl_cfile_t *cf);
/* The context called `name`, or NULL (after printing a usage error naming the
 * contexts there are). */
const crmctl_context_t *crmctl_cfile_context(const crmctl_cfile_t *cf, const char *name);

#endif
