#!/bin/sh
# 10-crm-databases.sh: one database and two roles per service, for the
# postgres image's first start (mounted into /docker-entrypoint-initdb.d).
#
# For each service in CRM_DB_SERVICES (default: sales marketing support
# analytics) it makes (docs/operations.md, "Database roles"):
# - role crm_<svc>_owner, which owns database crm_<svc> and its schema and
#   applies the migrations (the service's CRM_PG_MIGRATE_USER), password from
#   $CRM_SECRETS_DIR/<svc>_db_owner_password (default /run/secrets);
# - role crm_<svc>, the one the service runs as, password from
#   <svc>_db_password: it reads and writes the rows of the tables, which the
#   migrations grant it, and cannot change the schema;
# both LOGIN and nothing else (no superuser, no CREATEDB, no CREATEROLE).
# Every right on the database is revoked from PUBLIC and CONNECT granted to
# crm_<svc> (the owner has it as owner): only these two (and superusers)
# can connect, so no service reads another service's tables. CONNECT and
# TEMPORARY on postgres and template1 are revoked from PUBLIC too. The
# passwords are set on every run. A database of the one-role layout (owned
# by crm_<svc>) is handed over to crm_<svc>_owner.
#
# Idempotent, so it can be run again to add a service or change a password:
#   docker compose exec -u postgres postgres sh /docker-entrypoint-initdb.d/10-crm-databases.sh
#
# psql connects the usual libpq way (PGHOST, PGPORT; the image's init runs on
# the local socket) as $POSTGRES_USER (default postgres). The postgres image
# runs this file when it is executable and sources it into its bash otherwise:
# the body is a subshell so that both behave the same.
(
    set -eu
    secrets=${CRM_SECRETS_DIR:-/run/secrets}
    services=${CRM_DB_SERVICES:-sales marketing support analytics}
    admin=${POSTGRES_USER:-postgres}

    s_psql() {
        psql -X -q -v ON_ERROR_STOP=1 --no-password --username "$admin" --dbname postgres "$@"
    }

    # s_secret NAME: the content of secret NAME, without trailing newlines
    # (as the services read it); exits when it is missing or empty.
    s_secret() {
        if [ ! -r "$secrets/$1" ]; then
            echo "10-crm-databases: could not read $secrets/$1 (the $1 secret)" >&2
            exit 1
        fi
        v=$(cat "$secrets/$1")
        if [ -z "$v" ]; then
            echo "10-crm-databases: $secrets/$1 is empty" >&2
            exit 1
        fi
        printf '%s' "$v"
    }

    for svc in $services; do
        case $svc in
        *[!a-z0-9_]*)
            echo "10-crm-databases: \"$svc\" is not a service name (a-z, 0-9, _)" >&2
            exit 1
            ;;
        esac
        pw=$(s_secret "${svc}_db_password")
        owner_pw=$(s_secret "${svc}_db_owner_password")
        # The passwords go through the environment (\getenv), never argv.
        CRM_INIT_PASSWORD=$pw CRM_INIT_OWNER_PASSWORD=$owner_pw \
            s_psql -v role="crm_$svc" -v owner="crm_${svc}_owner" -v db="crm_$svc" <<'SQL'
\getenv pw CRM_INIT_PASSWORD
\getenv owner_pw CRM_INIT_OWNER_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY[:'role', :'owner']) AS r
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'pw';
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'owner_pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"role";
\connect :"db"
SELECT format('REASSIGN OWNED BY %I TO %I', :'role', :'owner')
  WHERE EXISTS (SELECT FROM pg_class WHERE relowner = :'role'::regrole)
     OR EXISTS (SELECT FROM pg_proc WHERE proowner = :'role'::regrole) \gexec
SQL
        echo "10-crm-databases: roles crm_$svc, crm_${svc}_owner and database crm_$svc ready"
    done
    s_psql -c 'REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC'
)
