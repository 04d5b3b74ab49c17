/* migrate.c: apply embedded migrations once each, atomically, under a lock. */
#include <crm/log.h>
#include <crm/migrate.h>

#include <stdio.h>
#include <string.h>

/* Any constant shared by every instance of every service works: the lock is
 * per database and each service has its own database. */
#define CRM_MIGRATE_LOCK_KEY 0x63726d6d6967LL

static int s_exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int crm_migrate(PGconn *conn, const char *scope, const crm_migration_t *set, char *err,
                size_t errlen)
{
    char lock_sql[96];
    snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_lock(%lld)", CRM_MIGRATE_LOCK_KEY);
    if (s_exec(conn, "SET client_min_messages = warning", err, errlen) < 0 ||
        s_exec(conn, lock_sql, err, errlen) < 0)
        return -1;
    int rc = s_exec(conn,
                    "CREATE TABLE IF NOT EXISTS crm_schema_migrations ("
                    " scope text NOT NULL, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now(),"
                    " PRIMARY KEY (scope, name));"
                    " ALTER TABLE crm_schema_migrations ADD COLUMN IF NOT EXISTS checksum text",
                    err, errlen);
    for (const crm_migration_t *m = set; rc == 0 && m->name; m++) {
        /* A repeatable migration (R_*) is applied again whenever its text
         * changed: functions and views live there, replaced whole, instead
         * of a numbered migration copying the previous version. */
        int repeatable = strncmp(m->name, "R_", 2) == 0;
        const char *params[3] = {scope, m->name, m->sql};
        PGresult *r = PQexecParams(conn,
                                   repeatable ? "SELECT 1 FROM crm_schema_migrations"
                                                " WHERE scope = $1 AND name = $2"
                                                " AND checksum = md5($3)"
                                              : "SELECT 1 FROM crm_schema_migrations"
                                                " WHERE scope = $1 AND name = $2",
                                   repeatable ? 3 : 2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            snprintf(err, errlen, "%s", PQresultErrorMessage(r));
            PQclear(r);
            rc = -1;
            break;
        }
        int done = PQntuples(r) > 0;
        PQclear(r);
        if (done)
            continue;
        if (s_exec(conn, "BEGIN", err, errlen) < 0) {
            rc = -1;
            break;
        }
        char sub[512];
        if (s_exec(conn, m->sql, sub, sizeof sub) < 0) {
            snprintf(err, errlen, "migration %s/%s failed: %s", scope, m->name, sub);
            s_exec(conn, "ROLLBACK", sub, sizeof sub);
            rc = -1;
            break;
        }
        r = PQexecParams(conn,
                         "INSERT INTO crm_schema_migrations (scope, name, checksum)"
                         " VALUES ($1, $2, md5($3)) ON CONFLICT (scope, name) DO UPDATE"
                         " SET checksum = EXCLUDED.checksum, applied_at = now()",
                         3, NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        PQclear(r);
        if (!ok || s_exec(conn, "COMMIT", err, errlen) < 0) {
            s_exec(conn, "ROLLBACK", sub, sizeof sub);
            rc = -1;
            break;
        }
        crm_info("db.migrated", "applied migration %s/%s", scope, m->name);
    }
    char unlock_sql[96];
    char ignore[256];
    snprintf(unlock_sql, sizeof unlock_sql, "SELECT pg_advisory_unlock(%lld)",
             CRM_MIGRATE_LOCK_KEY);
    s_exec(conn, unlock_sql, ignore, sizeof ignore);
    return rc;
}
