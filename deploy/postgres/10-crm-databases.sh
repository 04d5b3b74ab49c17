#!/bin/sh
# 10-crm-databases.sh: one role and one database per service, for the
# postgres image's first start (mounted into /docker-entrypoint-initdb.d).
#
# For each service in CRM_DB_SERVICES (default: sales marketing support
# analytics) it makes role crm_<svc> (LOGIN, no other attribute) with the
# password from $CRM_SECRETS_DIR/<svc>_db_password (default /run/secrets), and
# database crm_<svc> owned by that role with every right revoked from PUBLIC:
# only its own role (and superusers) can connect, so no service reads another
# service's tables. CONNECT and TEMPORARY on postgres and template1 are revoked
# from PUBLIC too. The roles' passwords are set on every run.
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

    for svc in $services; do
        case $svc in
        *[!a-z0-9_]*)
            echo "10-crm-databases: \"$svc\" is not a service name (a-z, 0-9, _)" >&2
            exit 1
            ;;
        esac
        file=$secrets/${svc}_db_password
        if [ ! -r "$file" ]; then
            echo "10-crm-databases: could not read $file (the ${svc}_db_password secret)" >&2
            exit 1
        fi
        pw=$(cat "$file") # drops trailing newlines, as the services' entrypoint does
        if [ -z "$pw" ]; then
            echo "10-crm-databases: $file is empty" >&2
            exit 1
        fi
        # The password goes through the environment (\getenv), never argv.
        CRM_INIT_PASSWORD=$pw s_psql -v role="crm_$svc" -v db="crm_$svc" <<'SQL'
\getenv pw CRM_INIT_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
        echo "10-crm-databases: role and database crm_$svc ready"
    done
    s_psql -c 'REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC'
)
