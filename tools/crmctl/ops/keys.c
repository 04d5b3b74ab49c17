/* keys.c: `crmctl keys new` and `crmctl whoami`, the two verbs about this
 * user's own CurveZMQ identity. Neither calls a service: `keys new` writes
 * files, `whoami` reads this user's key and the directory of principals. */
#include "crmctl.h"

#include <crm/access.h>
#include <crm/creds.h>
#include <crm/curve.h>

#include <stdio.h>

const crmctl_opt_t crmctl_keys_new_opts[] = {
    {"dir", 'd', "DIR", "where to write NAME.key and NAME.pub (default: the current directory)", 0},
    {NULL, 0, NULL, NULL, 0},
};

int crmctl_keys_new(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *name = crmctl_positional(args, 0);
    if (!name)
        return crmctl_usage_error(ctl, "NAME is required");
    const char *dir = crmctl_arg(args, "dir");
    crm_keypair_t kp;
    char err[600];
    if (crm_keypair_new(&kp) != 0) {
        crmctl_error(NULL, "Install a libzmq built with CURVE (Debian's libzmq5 is).",
                     "could not make a keypair");
        return CRMCTL_EXIT_FAILED;
    }
    if (crm_keypair_write(&kp, dir ? dir : ".", name, err, sizeof err) != 0) {
        crmctl_error(NULL, "Pick another NAME or --dir; an existing key is never overwritten.",
                     "%s", err);
        return CRMCTL_EXIT_FAILED;
    }
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        if (crmctl_json_line(json_pack("{s:s, s:s}", "name", name, "public_key", kp.public_key)) <
            0)
            return CRMCTL_EXIT_FAILED;
    } else {
        printf("wrote %s/%s.key (secret, mode 0600) and %s/%s.pub\n"
               "public key: %s\n"
               "directory line: %s %s staff - <roles>\n",
               dir ? dir : ".", name, dir ? dir : ".", name, kp.public_key, kp.public_key, name);
    }
    return CRMCTL_EXIT_OK;
}

const crmctl_opt_t crmctl_whoami_opts[] = {
    {NULL, 0, NULL, NULL, 0},
};

static json_t *s_list(const char *const *l)
{
    json_t *a = json_array();
    for (; a && l && *l; l++)
        json_array_append_new(a, json_string(*l));
    return a;
}

static void s_print_list(const char *label, const char *const *l)
{
    printf("%s", label);
    if (!l || !*l)
        printf(" -");
    for (size_t i = 0; l && l[i]; i++)
        printf("%s%s", i ? ", " : " ", l[i]);
    printf("\n");
}

/* The principal's effective level per record type and action (the
 * highest of its roles, crm/access.h), as a JSON object. */
static json_t *s_access(const crm_directory_t *dir, const crm_principal_t *p)
{
    json_t *o = json_object();
    for (int t = CRM_REC_NONE + 1; o && t < CRM_REC_COUNT; t++) {
        json_t *row = json_object();
        for (int a = 0; row && a < CRM_ACT_COUNT; a++)
            json_object_set_new(row, crm_action_name((crm_action_t)a),
                                json_string(crm_level_name(
                                    crm_access_level(dir, p, (crm_record_t)t, (crm_action_t)a))));
        json_object_set_new(o, crm_record_name((crm_record_t)t), row);
    }
    return o;
}

int crmctl_whoami(crmctl_t *ctl, const crmctl_args_t *args)
{
    (void)args;
    const crm_creds_t *creds = crmctl_creds(ctl);
    if (!creds)
        return CRMCTL_EXIT_USAGE;
    if (crm_creds_plaintext(creds)) {
        crmctl_error(NULL, "Unset CRM_INSECURE_PLAINTEXT.",
                     "CRM_INSECURE_PLAINTEXT is set: no key, no principal");
        return CRMCTL_EXIT_USAGE;
    }
    const crm_principal_t *p = crm_creds_principal(creds);
    if (!p) {
        crmctl_error(NULL, "Ask an operator to add your public key to the directory.",
                     "your key %s is not in the directory of principals",
                     crm_creds_public_key(creds));
        return CRMCTL_EXIT_FAILED;
    }
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON)
        return crmctl_json_line(json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "name", p->name, "kind",
                                          crm_kind_name(p->kind), "public_key", p->public_key,
                                          "teams", s_list(p->teams), "roles", s_list(p->roles),
                                          "access", s_access(crm_creds_directory(creds), p))) < 0
                   ? CRMCTL_EXIT_FAILED
                   : CRMCTL_EXIT_OK;
    printf("name:       %s\nkind:       %s\npublic key: %s\n", p->name, crm_kind_name(p->kind),
           p->public_key);
    s_print_list("teams:     ", p->teams);
    s_print_list("roles:     ", p->roles);
    /* Effective levels, read / create / edit / delete per record type. */
    printf("access:     %-13s read  create edit  delete\n", "");
    for (int t = CRM_REC_NONE + 1; t < CRM_REC_COUNT; t++) {
        printf("            %-13s", crm_record_name((crm_record_t)t));
        for (int a = 0; a < CRM_ACT_COUNT; a++)
            printf(" %-5s", crm_level_name(crm_access_level(crm_creds_directory(creds), p,
                                                            (crm_record_t)t, (crm_action_t)a)));
        printf("\n");
    }
    return CRMCTL_EXIT_OK;
}
