#!/bin/sh
# entrypoint.sh: the image's entrypoint (/usr/local/bin/crm-entrypoint), run
# under tini: `tini -- crm-entrypoint crm-sales`.
#
# Why it exists: a service reads its whole libpq connection string from
# CRM_PG_URL, but a compose secret holds only the password. This script
# builds CRM_PG_URL from CRM_PG_HOST, CRM_PG_PORT, CRM_PG_USER, CRM_PG_DB,
# CRM_PG_OPTIONS and the password (CRM_PG_PASSWORD, or the file named by
# CRM_PG_PASSWORD_FILE, as with any NAME_FILE setting), so the password is in
# neither the compose file nor `docker inspect`. Then it replaces itself with
# the command (exec), so tini's signals reach the service directly.
#
# The environment passes through unchanged when CRM_PG_HOST is unset (crm-bus,
# crmctl) or when CRM_PG_URL or CRM_PG_URL_FILE is already set (the operator's
# choice wins). Container health checks call it too
# (`crm-entrypoint crm-sales healthcheck`): a service's healthcheck loads the
# full configuration, so it needs CRM_PG_URL as well.
#
# Exit status 2 and a message on stderr when the settings are incomplete;
# nothing is ever written to stdout, which belongs to the service's JSON log.
set -eu

s_die() {
    printf 'crm-entrypoint: %s\n' "$1" >&2
    [ -z "${2:-}" ] || printf 'crm-entrypoint: hint: %s\n' "$2" >&2
    exit 2
}

# s_quote VALUE: VALUE as a single-quoted libpq conninfo value (backslash and
# single quote escaped with a backslash).
s_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")"
}

[ "$#" -gt 0 ] || s_die "no command given" "run it as: crm-entrypoint crm-<service> [healthcheck]"

if [ -n "${CRM_PG_HOST:-}" ] && [ -z "${CRM_PG_URL:-}" ] && [ -z "${CRM_PG_URL_FILE:-}" ]; then
    [ -n "${CRM_PG_USER:-}" ] || s_die "CRM_PG_HOST is set but CRM_PG_USER is not"
    [ -n "${CRM_PG_DB:-}" ] || s_die "CRM_PG_HOST is set but CRM_PG_DB is not"
    if [ -n "${CRM_PG_PASSWORD:-}" ]; then
        pw=$CRM_PG_PASSWORD
    elif [ -n "${CRM_PG_PASSWORD_FILE:-}" ]; then
        [ -r "$CRM_PG_PASSWORD_FILE" ] ||
            s_die "could not read the password file \"$CRM_PG_PASSWORD_FILE\"" \
                "is the secret listed under this service's secrets:, and readable by uid $(id -u)?"
        pw=$(cat "$CRM_PG_PASSWORD_FILE") # drops trailing newlines, as NAME_FILE does
        [ -n "$pw" ] || s_die "the password file \"$CRM_PG_PASSWORD_FILE\" is empty"
    else
        s_die "CRM_PG_HOST is set but neither CRM_PG_PASSWORD nor CRM_PG_PASSWORD_FILE is"
    fi
    CRM_PG_URL="host=$(s_quote "$CRM_PG_HOST") port=$(s_quote "${CRM_PG_PORT:-5432}")"
    CRM_PG_URL="$CRM_PG_URL user=$(s_quote "$CRM_PG_USER") dbname=$(s_quote "$CRM_PG_DB")"
    CRM_PG_URL="$CRM_PG_URL password=$(s_quote "$pw")${CRM_PG_OPTIONS:+ $CRM_PG_OPTIONS}"
    export CRM_PG_URL
    unset pw CRM_PG_PASSWORD
fi

exec "$@"
