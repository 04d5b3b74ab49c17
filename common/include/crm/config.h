/* crm/config.h: configuration as one declarative table per program, read
 * from the environment, validated at start and logged without secrets.
 *
 * Any setting may also be given as NAME_FILE pointing at a file (docker
 * compose secrets); NAME itself wins when both are set; trailing newlines of
 * the file are dropped. */
#ifndef CRM_CONFIG_H
#define CRM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { CRM_CONF_STR, CRM_CONF_INT, CRM_CONF_BOOL } crm_conf_type_t;

typedef struct {
    const char *name; /* environment variable, e.g. "CRM_PG_URL" */
    crm_conf_type_t type;
    const char *def;  /* default as text; NULL = required */
    const char *help; /* one line for docs and --help */
    int secret;       /* never logged */
    int64_t min, max; /* CRM_CONF_INT bounds (both 0 = unbounded) */
} crm_conf_def_t;

typedef struct crm_config crm_config_t;

/* Reads every entry of `defs` (terminated by an entry with name NULL) from
 * the environment. Returns NULL with a message in err when a required entry
 * is missing or a value does not parse. Caller owns the result; the table
 * must outlive it. */
crm_config_t *crm_config_load(const crm_conf_def_t *defs, char *err, size_t errlen);
void crm_config_destroy(crm_config_t **self_p);

/* Lookups by name; asking for a name not in the table is a programmer
 * error (asserts). Strings are owned by the config. */
const char *crm_config_str(const crm_config_t *self, const char *name);
int64_t crm_config_int(const crm_config_t *self, const char *name);
int crm_config_bool(const crm_config_t *self, const char *name);

/* A comma-separated string setting as a list: trimmed, empty items left
 * out ("a, b,,c" is a, b, c). *items is a new array of new strings (caller
 * frees it with crm_config_list_free), *n its length. Returns 0 or -ENOMEM
 * (then *items is NULL and *n 0). */
int crm_config_list(const crm_config_t *self, const char *name, char ***items, size_t *n);
void crm_config_list_free(char ***items, size_t n);

/* Logs every value (secrets as "(set)"/"(unset)") at info level. */
void crm_config_log(const crm_config_t *self);

/* Prints "NAME  default  help" lines for --help. */
void crm_config_print_help(const crm_conf_def_t *defs);

#endif
