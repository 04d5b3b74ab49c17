#!/bin/sh
# entrypoint.sh: the image's entrypoint (/usr/local/bin/crm-entrypoint), run
# under tini: `tini -- crm-entrypoint crm-sales`.
#
# Why it exists: a service reads its libpq connection string from
# CRM_PG_URL and its password from the file named by CRM_PG_PASSWORD_FILE (a
# compose secret). This script builds CRM_PG_URL from CRM_PG_HOST,
# CRM_PG_PORT, CRM_PG_USER, CRM_PG_DB and CRM_PG_OPTIONS - without the
# password, which stays in its file: it is in neither the compose file,
# `docker inspect`, nor the environment of any process (where
# /proc/<pid>/environ, crash reports and child processes would show it).
# Then it replaces itself with the command (exec), so tini's signals reach
# the service directly.
#
# The environment passes through unchanged when CRM_PG_HOST is unset (crm-bus,
# crmctl) or when CRM_PG_URL or CRM_PG_URL_FILE is already set (the operator's
# choice wins). Container health checks call it too
# (`crm-entrypoint crm-sales healthcheck`): a service's healthcheck loads the
# full configuration, so it needs CRM_PG_URL as well.
#
# Exit status 2 and a message on stderr when the settings are incomplete or
# CRM_PG_PASSWORD is in the environment; nothing is ever written to stdout,
# which belongs to the service's JSON log.
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

[ -z "${CRM_PG_PASSWORD:-}" ] ||
    s_die "CRM_PG_PASSWORD is set in the environment, where it can be read by others" \
        "put the password in a file (a compose secret) and name it in CRM_PG_PASSWORD_FILE"
[ -z "${CRM_PG_MIGRATE_PASSWORD:-}" ] ||
    s_die "CRM_PG_MIGRATE_PASSWORD is set in the environment, where it can be read by others" \
        "put the password in a file (a compose secret) and name it in CRM_PG_MIGRATE_PASSWORD_FILE"
# The owner role's password (migrations): checked here for the same clear
# message; the service reads it.
if [ -n "${CRM_PG_MIGRATE_PASSWORD_FILE:-}" ]; then
    [ -r "$CRM_PG_MIGRATE_PASSWORD_FILE" ] ||
        s_die "could not read the password file \"$CRM_PG_MIGRATE_PASSWORD_FILE\"" \
            "is the secret listed under this service's secrets:, and readable by uid $(id -u)?"
    [ -s "$CRM_PG_MIGRATE_PASSWORD_FILE" ] ||
        s_die "the password file \"$CRM_PG_MIGRATE_PASSWORD_FILE\" is empty"
fi

if [ -n "${CRM_PG_HOST:-}" ] && [ -z "${CRM_PG_URL:-}" ] && [ -z "${CRM_PG_URL_FILE:-}" ]; then
    [ -n "${CRM_PG_USER:-}" ] || s_die "CRM_PG_HOST is set but CRM_PG_USER is not"
    [ -n "${CRM_PG_DB:-}" ] || s_die "CRM_PG_HOST is set but CRM_PG_DB is not"
    [ -n "${CRM_PG_PASSWORD_FILE:-}" ] || s_die "CRM_PG_HOST is set but CRM_PG_PASSWORD_FILE is not"
    # The service reads the file itself; here only its presence is checked,
    # for a clear message before the service starts.
    [ -r "$CRM_PG_PASSWORD_FILE" ] ||
        s_die "could not read the password file \"$CRM_PG_PASSWORD_FILE\"" \
            "is the secret listed under this service's secrets:, and readable by uid $(id -u)?"
    [ -s "$CRM_PG_PASSWORD_FILE" ] || s_die "the password file \"$CRM_PG_PASSWORD_FILE\" is empty"
    CRM_PG_URL="host=$(s_quote "$CRM_PG_HOST") port=$(s_quote "${CRM_PG_PORT:-5432}")"
    CRM_PG_URL="$CRM_PG_URL user=$(s_quote "$CRM_PG_USER") dbname=$(s_quote "$CRM_PG_DB")"
    CRM_PG_URL="$CRM_PG_URL${CRM_PG_OPTIONS:+ $CRM_PG_OPTIONS}"
    export CRM_PG_URL
fi

exec "$@"
