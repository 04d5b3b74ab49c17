/* staff.c: `crmctl staff password PRINCIPAL`, the password a staff
 * principal logs in to the dashboard with (crm-api's
 * api.staff.password.set, admins only). The password is read from the
 * terminal without echo (twice), or as one line from standard input when
 * that is not a terminal, and hashed here with argon2id (libsodium
 * crypto_pwhash_str): only the hash is sent, so crm-api, its database and
 * its idempotency records never hold the password. */
#include "crmctl.h"

#include <crm/util.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "crm/v1/api.pb-c.h"

#define S_MIN_PASSWORD 8

const crmctl_opt_t crmctl_staff_password_opts[] = {
    {"remove", 'r', NULL, "remove the password (no login by password any more)", 0},
    {NULL, 0, NULL, NULL, 0},
};

/* One line into buf without its newline; no echo on a terminal. */
static int s_read_line(const char *prompt, char *buf, size_t len)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        } else {
            tty = 0;
        }
    }
    char *got = fgets(buf, (int)len, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

int crmctl_staff_password(crmctl_t *ctl, const crmctl_args_t *args)
{
    if (crmctl_n_positional(args) != 1)
        return crmctl_usage_error(ctl, "name the staff principal whose password to set");
    crmctl_service_t *svc = crmctl_service_require(ctl, "api");
    if (!svc)
        return CRMCTL_EXIT_USAGE;
    Crm__V1__SetStaffPasswordRequest rq = CRM__V1__SET_STAFF_PASSWORD_REQUEST__INIT;
    rq.principal = (char *)crmctl_positional(args, 0);
    char hash[crypto_pwhash_STRBYTES] = "";
    if (!crmctl_arg(args, "remove")) {
        char pw[1025], again[1025];
        if (s_read_line("New password: ", pw, sizeof pw) < 0)
            return crmctl_usage_error(ctl, "no password on standard input");
        if (isatty(STDIN_FILENO) &&
            (s_read_line("Again: ", again, sizeof again) < 0 || strcmp(pw, again) != 0)) {
            sodium_memzero(pw, sizeof pw);
            sodium_memzero(again, sizeof again);
            return crmctl_usage_error(ctl, "the two passwords differ");
        }
        sodium_memzero(again, sizeof again);
        if (strlen(pw) < S_MIN_PASSWORD) {
            sodium_memzero(pw, sizeof pw);
            return crmctl_usage_error(ctl, "a password has at least %d characters", S_MIN_PASSWORD);
        }
        int rc = sodium_init() < 0
                     ? -1
                     : crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                         crypto_pwhash_MEMLIMIT_INTERACTIVE);
        sodium_memzero(pw, sizeof pw);
        if (rc != 0)
            return crmctl_usage_error(ctl, "could not hash the password (out of memory?)");
    }
    rq.password_hash = hash;
    char key[CRM_UUID_LEN + 1];
    crm_uuid_new(key);
    ProtobufCMessage *m = NULL;
    int rc =
        crmctl_call(ctl, svc, "api.staff.password.set", &rq.base, key, CRMCTL_TIMEOUT_MS,
                    CRMCTL_ATTEMPTS, &crm__v1__set_staff_password_reply__descriptor, &m, 0, NULL);
    if (rc != CRMCTL_EXIT_OK)
        return rc;
    const Crm__V1__SetStaffPasswordReply *r = (const void *)m;
    if (crmctl_output(ctl) == CRMCTL_OUT_JSON) {
        if (crmctl_json_line(
                json_pack("{s:s, s:b}", "principal", r->principal, "removed", r->removed)) < 0)
            rc = CRMCTL_EXIT_FAILED;
    } else {
        printf("password of %s %s\n", r->principal, r->removed ? "removed" : "set");
        fflush(stdout);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}
