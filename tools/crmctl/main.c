/* crmctl: the staff's command-line tool for the CRM services.
 *
 * main.c holds the run context (the configured services, the bus endpoint,
 * the output format), the configuration (CRM_SERVICES,
 * CRM_BUS_SUB_ENDPOINT) and main: global options, the verb's words, the
 * verb's options, then the verb. The rest of the plumbing: verbs.c (the
 * table of verbs), args.c (the command line), call.c (calling services),
 * output.c (messages, JSON, tables), help.c; the engine of the table-driven
 * verbs is request.c. The verbs live in folders named for what they act on:
 * ops/ (status, tail, deadletter, stream), sales/, marketing/, support/,
 * analytics/ and demo/. */
#include "main.h"
#include "request.h"

#include "values.h"

#include <crm/util.h>

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const crm_conf_def_t crmctl_conf[] = {
    {"CRM_SERVICES", CRM_CONF_STR,
     "sales=tcp://127.0.0.1:7410,marketing=tcp://127.0.0.1:7420,support=tcp://127.0.0.1:7430,"
     "analytics=tcp://127.0.0.1:7440,webhooks=tcp://127.0.0.1:7460,"
     "api=tcp://127.0.0.1:7470",
     "command endpoints of the services, as name=endpoint,...", 0, 0, 0},
    {"CRM_BUS_SUB_ENDPOINT", CRM_CONF_STR, "tcp://127.0.0.1:7401",
     "the bus endpoint subscribers connect to", 0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* ---- the context ------------------------------------------------------ */

size_t crmctl_n_services(const crmctl_t *ctl)
{
    return ctl->n_services;
}

crmctl_service_t *crmctl_service_find(crmctl_t *ctl, const char *name)
{
    for (size_t i = 0; i < ctl->n_services; i++)
        if (!strcmp(ctl->services[i].name, name))
            return &ctl->services[i];
    return NULL;
}

/* "sales, marketing, support" into buf. */
static const char *s_service_names(const crmctl_t *ctl, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < ctl->n_services && at < len; i++) {
        int n = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", ctl->services[i].name);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    return buf;
}

static void s_unknown_service(const crmctl_t *ctl, const char *what, const char *name)
{
    char names[512], detail[600];
    snprintf(detail, sizeof detail, "Configured services: %s.",
             s_service_names(ctl, names, sizeof names));
    crmctl_error(detail, "Name one of them, or add it to CRM_SERVICES (or --services).",
                 "unknown %s \"%s\"", what, name);
}

crmctl_service_t *crmctl_service_require(crmctl_t *ctl, const char *name)
{
    crmctl_service_t *svc = crmctl_service_find(ctl, name);
    if (!svc)
        s_unknown_service(ctl, "service", name);
    return svc;
}

int crmctl_select_services(crmctl_t *ctl, const char *list, const char *what,
                           crmctl_service_t **sel)
{
    size_t n = 0;
    if (!list) {
        for (size_t i = 0; i < ctl->n_services; i++)
            sel[n++] = &ctl->services[i];
        return (int)n;
    }
    char *copy = strdup(list), *save = NULL;
    if (!copy) {
        crmctl_error(NULL, NULL, "out of memory");
        return -1;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        crmctl_service_t *svc = crmctl_service_find(ctl, tok);
        if (!svc) {
            s_unknown_service(ctl, what, tok);
            free(copy);
            return -1;
        }
        size_t k = 0;
        while (k < n && sel[k] != svc)
            k++;
        if (k == n)
            sel[n++] = svc;
    }
    free(copy);
    if (n == 0) {
        crmctl_error(NULL, NULL, "no %s given", what);
        return -1;
    }
    return (int)n;
}

const char *crmctl_bus_endpoint(const crmctl_t *ctl)
{
    return ctl->bus;
}

crmctl_output_t crmctl_output(const crmctl_t *ctl)
{
    return ctl->output;
}

void *crmctl_zctx(crmctl_t *ctl)
{
    return ctl->zctx;
}

/* Verbs such as status call every service from its own thread, and each
 * call may be the first to need the key: one lock makes one load. */
static pthread_mutex_t s_creds_lock = PTHREAD_MUTEX_INITIALIZER;

const crm_creds_t *crmctl_creds(crmctl_t *ctl)
{
    pthread_mutex_lock(&s_creds_lock);
    if (!ctl->creds) {
        char err[1024];
        ctl->creds = crm_creds_from_env(err, sizeof err);
        if (!ctl->creds)
            crmctl_error(NULL,
                         "Run `crmctl keys new NAME`, have NAME.pub added to the directory of "
                         "principals, and set CRM_KEY_FILE and CRM_DIRECTORY_FILE.",
                         "no usable key: %s", err);
    }
    pthread_mutex_unlock(&s_creds_lock);
    return ctl->creds;
}

int crmctl_secure(crmctl_t *ctl, void *sock, const char *server)
{
    char err[512];
    if (!crmctl_creds(ctl))
        return -1;
    if (crm_creds_client(ctl->creds, sock, server, err, sizeof err) != 0) {
        crmctl_error(NULL, "Add the service to the directory of principals (CRM_DIRECTORY_FILE).",
                     "%s", err);
        return -1;
    }
    return 0;
}

/* ---- configuration ---------------------------------------------------- */

/* CRM_SERVICES: "sales=tcp://127.0.0.1:7410,marketing=...". */
static int s_parse_services(crmctl_t *ctl, const char *spec, const char *origin)
{
    char *copy = strdup(spec), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    for (char *tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            char detail[320];
            snprintf(detail, sizeof detail, "Entry \"%.200s\" is not NAME=ENDPOINT.", tok);
            crmctl_error(detail, "Write the services as name=tcp://host:port, separated by commas.",
                         "invalid %s", origin);
            rc = -1;
            break;
        }
        *eq = 0;
        if (crmctl_service_find(ctl, tok)) {
            crmctl_error(NULL, "Name each service once.",
                         "invalid %s: service \"%s\" is listed"
                         " twice",
                         origin, tok);
            rc = -1;
            break;
        }
        crmctl_service_t *ns = realloc(ctl->services, (ctl->n_services + 1) * sizeof *ns);
        if (!ns) {
            rc = -1;
            break;
        }
        ctl->services = ns;
        crmctl_service_t *svc = &ctl->services[ctl->n_services];
        memset(svc, 0, sizeof *svc);
        svc->name = strdup(tok);
        svc->endpoint = strdup(eq + 1);
        ctl->n_services++;
        if (!svc->name || !svc->endpoint) {
            rc = -1;
            break;
        }
    }
    free(copy);
    if (rc == 0 && ctl->n_services == 0) {
        crmctl_error(NULL, "Set CRM_SERVICES or --services to name=endpoint pairs.",
                     "invalid %s: no services", origin);
        rc = -1;
    }
    return rc;
}

static void s_ctl_close(crmctl_t *ctl)
{
    for (size_t i = 0; i < ctl->n_services; i++) {
        crm_client_destroy(&ctl->services[i].client);
        free(ctl->services[i].name);
        free(ctl->services[i].endpoint);
    }
    free(ctl->services);
    free(ctl->bus);
    crm_creds_destroy(&ctl->creds);
    if (ctl->zctx)
        zmq_ctx_term(ctl->zctx);
    memset(ctl, 0, sizeof *ctl);
}

/* -o and --no-headers: all a verb that needs no service reads. */
static int s_configure_output(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *out = crmctl_arg(args, "output");
    if (!out || !strcmp(out, "table") || !strcmp(out, "text"))
        ctl->output = CRMCTL_OUT_TABLE;
    else if (!strcmp(out, "json"))
        ctl->output = CRMCTL_OUT_JSON;
    else
        return crmctl_usage_error(ctl, "invalid output format \"%s\": expected table, text or json",
                                  out);
    crmctl_table_headers(!crmctl_arg(args, "no-headers"));
    return CRMCTL_EXIT_OK;
}

static int s_configure_timeout(crmctl_t *ctl, const char *text, const char *origin)
{
    int64_t ms;
    const char *why;
    if (val_duration_parse(text, &ms, &why) < 0)
        return crmctl_usage_error(ctl, "invalid value \"%s\" for %s: %s", text, origin, why);
    ctl->timeout_ms = (int)ms;
    return CRMCTL_EXIT_OK;
}

/* Where a setting comes from, strongest first: the option (--services),
 * a context named on purpose (--context or CRM_CONTEXT), the environment
 * (CRM_SERVICES), the config file's current context, the built-in
 * default. */
static const char *s_pick(const char *opt, const char *named_ctx, const char *env_name,
                          const char *current_ctx, const char **origin)
{
    if (opt)
        return opt;
    *origin = "the context's setting";
    if (named_ctx)
        return named_ctx;
    const char *env = getenv(env_name);
    *origin = env_name;
    if (env && *env)
        return NULL; /* the environment, as crm_config_load read it */
    *origin = "the context's setting";
    if (current_ctx)
        return current_ctx;
    *origin = env_name;
    return NULL;
}

/* Applies the global options, the config file's context and the
 * environment to ctl. */
static int s_configure(crmctl_t *ctl, const crmctl_args_t *args, const crm_config_t *conf)
{
    int rc = s_configure_output(ctl, args);
    if (rc)
        return rc;
    crmctl_cfile_t cf;
    if ((rc = crmctl_cfile_load(&cf)) != 0) {
        crmctl_cfile_free(&cf);
        return rc;
    }
    const char *named = crmctl_arg(args, "context");
    if (!named && getenv("CRM_CONTEXT") && *getenv("CRM_CONTEXT"))
        named = getenv("CRM_CONTEXT");
    const char *name = named ? named : cf.current;
    const crmctl_context_t *cx = NULL;
    if (name && !(cx = crmctl_cfile_context(&cf, name))) {
        crmctl_cfile_free(&cf);
        return CRMCTL_EXIT_USAGE;
    }
    const crmctl_context_t *nx = named ? cx : NULL, *cur = named ? NULL : cx;

    const char *origin = "--services";
    const char *spec = s_pick(crmctl_arg(args, "services"), nx ? nx->services : NULL,
                              "CRM_SERVICES", cur ? cur->services : NULL, &origin);
    char what[200];
    if (strcmp(origin, "--services") && strcmp(origin, "CRM_SERVICES"))
        snprintf(what, sizeof what, "services of context \"%s\"", cx->name);
    else
        snprintf(what, sizeof what, "%s", origin);
    if (s_parse_services(ctl, spec ? spec : crm_config_str(conf, "CRM_SERVICES"), what) < 0) {
        crmctl_cfile_free(&cf);
        return CRMCTL_EXIT_USAGE;
    }
    const char *bus = s_pick(crmctl_arg(args, "bus"), nx ? nx->bus : NULL, "CRM_BUS_SUB_ENDPOINT",
                             cur ? cur->bus : NULL, &origin);
    ctl->bus = strdup(bus ? bus : crm_config_str(conf, "CRM_BUS_SUB_ENDPOINT"));
    const char *timeout = crmctl_arg(args, "timeout");
    if (timeout)
        rc = s_configure_timeout(ctl, timeout, "--timeout");
    else if (cx && cx->timeout)
        rc = s_configure_timeout(ctl, cx->timeout, "the context's timeout");
    crmctl_cfile_free(&cf);
    if (rc)
        return rc;
    if (!ctl->bus || !*ctl->bus)
        return crmctl_usage_error(ctl, "invalid bus endpoint: empty");
    ctl->zctx = zmq_ctx_new();
    if (!ctl->zctx) {
        crmctl_error(NULL, NULL, "could not create a ZeroMQ context: %s", zmq_strerror(errno));
        return CRMCTL_EXIT_USAGE;
    }
    return CRMCTL_EXIT_OK;
}

/* Verbs that need no service, so a broken context or an unreachable
 * configuration does not stand in their way. */
static int s_standalone(const crmctl_verb_t *v)
{
    return v->fn == crmctl_help || v->fn == crmctl_completion || v->fn == crmctl_context_list ||
           v->fn == crmctl_context_use;
}

int main(int argc, char **argv)
{
    crmctl_t ctl;
    memset(&ctl, 0, sizeof ctl);
    /* Character classes of the user's locale, so that tables measure text
     * by display width; UTF-8 when the locale has a one-byte charset (C,
     * POSIX), since everything the services send is UTF-8. */
    if (!setlocale(LC_CTYPE, "") || MB_CUR_MAX == 1)
        setlocale(LC_CTYPE, "C.UTF-8");
    char err[256];
    crm_config_t *conf = crm_config_load(crmctl_conf, err, sizeof err);
    if (!conf) {
        crmctl_error(NULL, NULL, "%s", err);
        return CRMCTL_EXIT_USAGE;
    }

    /* Global options before the verb, then the verb's words. */
    crmctl_args_t pre;
    int at = 1, rc;
    if (crmctl_args_init(&pre, NULL, argc) < 0) {
        crm_config_destroy(&conf);
        return CRMCTL_EXIT_USAGE;
    }
    rc = crmctl_args_parse(&ctl, &pre, argc, argv, 1, 1, &at);
    if (rc == 0 && crmctl_arg(&pre, "version")) {
        printf("crmctl %s\n", CRMCTL_VERSION);
        crmctl_args_free(&pre);
        crm_config_destroy(&conf);
        return CRMCTL_EXIT_OK;
    }
    if (rc == 0 && at >= argc) {
        if (crmctl_arg(&pre, "help")) {
            crmctl_help_main();
        } else {
            crmctl_error(NULL, NULL, "no verb given");
            crmctl_try_help(NULL);
            rc = CRMCTL_EXIT_USAGE;
        }
        crmctl_args_free(&pre);
        crm_config_destroy(&conf);
        return rc;
    }
    int words = 0;
    const crmctl_verb_t *verb = rc ? NULL : crmctl_verb_find(argc, argv, at, &words);
    char group[128];
    int gwords = verb || rc ? 0 : crmctl_verb_group(argc, argv, at, group, sizeof group);
    if (rc == 0 && !verb && gwords) {
        /* `crmctl campaign --help` is a question, not a mistake. */
        int help = crmctl_arg(&pre, "help") != NULL;
        for (int i = at + gwords; i < argc && !help; i++)
            help = !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
        if (help)
            crmctl_help_group(group);
        else
            rc = crmctl_group_usage(group);
    } else if (rc == 0 && !verb) {
        rc = crmctl_usage_error(NULL, "unknown verb \"%s\"", argv[at]);
    }
    if (rc == 0 && !verb) {
        crmctl_args_free(&pre);
        crm_config_destroy(&conf);
        return rc;
    }
    if (rc) {
        crmctl_args_free(&pre);
        crm_config_destroy(&conf);
        return rc;
    }
    ctl.verb = verb;

    /* The verb's options; the global ones given before the verb count too. */
    crmctl_args_t args;
    if (crmctl_args_init(&args, verb->opts, argc) < 0) {
        crmctl_args_free(&pre);
        crm_config_destroy(&conf);
        return CRMCTL_EXIT_USAGE;
    }
    for (size_t i = 0; i < pre.n_opts; i++)
        for (size_t k = 0; k < args.n_opts && pre.values[i]; k++)
            if (args.opts[k] == pre.opts[i]) {
                args.values[k] = pre.values[i];
                pre.values[i] = NULL;
            }
    crmctl_args_free(&pre);
    rc = crmctl_args_parse(&ctl, &args, argc, argv, at + words, 0, NULL);
    if (rc == 0 && crmctl_arg(&args, "version")) {
        printf("crmctl %s\n", CRMCTL_VERSION);
    } else if (rc == 0 && crmctl_arg(&args, "help")) {
        crmctl_help_verb(verb);
    } else if (rc == 0 && verb->max_positional >= 0 &&
               args.n_positional > (size_t)verb->max_positional) {
        rc = crmctl_usage_error(&ctl, "unexpected argument \"%s\"",
                                args.positional[verb->max_positional]);
    } else if (rc == 0 && s_standalone(verb)) {
        if ((rc = s_configure_output(&ctl, &args)) == 0)
            rc = verb->fn(&ctl, &args);
    } else if (rc == 0 && (rc = s_configure(&ctl, &args, conf)) == 0) {
        rc = verb->fn(&ctl, &args);
    }
    crmctl_args_free(&args);
    req_names_clear();
    s_ctl_close(&ctl);
    crm_config_destroy(&conf);
    return rc;
}
