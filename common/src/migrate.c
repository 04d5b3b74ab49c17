/* migrate.c: apply embedded migrations once each, atomically, under a lock. */
#include <crm/db.h>
#include <crm/log.h>
#include <crm/migrate.h>

#include <stdio.h>
#include <stdlib.h>
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

/* Takes (lock 1) or releases (lock 0) the migration lock: migrating and
 * granting both run under it. */
static int s_lock(PGconn *conn, int lock, char *err, size_t errlen)
{
    char key[24];
    const char *params[1] = {key};
    snprintf(key, sizeof key, "%lld", CRM_MIGRATE_LOCK_KEY);
    PGresult *r = PQexecParams(conn,
                               lock ? "SELECT pg_advisory_lock($1::bigint)"
                                    : "SELECT pg_advisory_unlock($1::bigint)",
                               1, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* 1 when migration `m` is recorded under `scope`, 0 when not, -1 with a
 * message in err when the question fails. */
static int s_done(PGconn *conn, const char *scope, const crm_migration_t *m, char *err,
                  size_t errlen)
{
    /* A repeatable migration (R_*) is applied again whenever its text
     * changed: functions and views live there, replaced whole, instead of a
     * numbered migration copying the previous version. */
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
        return -1;
    }
    int done = PQntuples(r) > 0;
    PQclear(r);
    return done;
}

int crm_migrate(PGconn *conn, const char *scope, const crm_migration_t *set, char *err,
                size_t errlen)
{
    if (s_exec(conn, "SET client_min_messages = warning", err, errlen) < 0 ||
        s_lock(conn, 1, err, errlen) < 0)
        return -1;
    int rc = s_exec(conn,
                    "CREATE TABLE IF NOT EXISTS crm_schema_migrations ("
                    " scope text NOT NULL, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now(),"
                    " PRIMARY KEY (scope, name));"
                    " ALTER TABLE crm_schema_migrations ADD COLUMN IF NOT EXISTS checksum text",
                    err, errlen);
    for (const crm_migration_t *m = set; rc == 0 && m->name; m++) {
        const char *params[3] = {scope, m->name, m->sql};
        int done = s_done(conn, scope, m, err, errlen);
        if (done < 0) {
            rc = -1;
            break;
        }
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
        PGresult *r = PQexecParams(conn,
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
    char ignore[256];
    s_lock(conn, 0, ignore, sizeof ignore);
    return rc;
}

/* 1 when every migration of `set` is applied, else 0: a database without
 * the bookkeeping table (new) or without its checksum column (old) has
 * something to apply, and any other failure is left to crm_migrate, which
 * reports it. Read-only: the runtime role may ask. */
static int s_all_done(PGconn *conn, const char *scope, const crm_migration_t *set)
{
    char ignore[256];
    for (const crm_migration_t *m = set; m && m->name; m++)
        if (s_done(conn, scope, m, ignore, sizeof ignore) != 1)
            return 0;
    return 1;
}

/* What the runtime role needs on the owner's tables: rows, not the schema.
 * TRUNCATE because analytics.rebuild empties its projections in one
 * statement (an_rebuild_reset); DELETE could do the same row by row, so it
 * grants no more than that. Sequences: nextval and setval. Functions are
 * executable by PUBLIC by default. The default privileges cover tables the
 * owner creates later (a migration applied by hand). Under the migration
 * lock, since two instances granting at once would collide on the catalog
 * ("tuple concurrently updated"). */
static int s_grant(PGconn *owner, const char *app, char *err, size_t errlen)
{
    char *role = PQescapeIdentifier(owner, app, strlen(app));
    if (!role) {
        snprintf(err, errlen, "%s", PQerrorMessage(owner));
        return -1;
    }
    static const char *const tmpl[] = {
        "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO %s",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %s",
        ("ALTER DEFAULT PRIVILEGES IN SCHEMA public"
         " GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO %s"),
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %s",
    };
    char sql[512];
    int rc = s_lock(owner, 1, err, errlen);
    for (size_t i = 0; rc == 0 && i < sizeof tmpl / sizeof *tmpl; i++) {
        snprintf(sql, sizeof sql, tmpl[i], role);
        rc = s_exec(owner, sql, err, errlen);
    }
    PQfreemem(role);
    char ignore[256];
    s_lock(owner, 0, ignore, sizeof ignore);
    return rc;
}

/* A permission error from the runtime role migrating: say what to set. */
static void s_hint(char *err, size_t errlen)
{
    size_t n = strlen(err);
    if ((strstr(err, "permission denied") || strstr(err, "must be owner")) && n + 1 < errlen)
        snprintf(err + n, errlen - n,
                 "; hint: the runtime role may not change the schema: set CRM_PG_MIGRATE_USER to "
                 "the role that owns it (docs/operations.md, \"Database roles\")");
}

int crm_migrate_service(PGconn *conn, const char *conninfo, const char *owner,
                        const char *owner_password, const char *scope, const crm_migration_t *set,
                        char *err, size_t errlen)
{
    const char *app = PQuser(conn);
    if (!owner || !*owner || (app && !strcmp(owner, app))) {
        if (s_all_done(conn, "common", crm_common_migrations) && s_all_done(conn, scope, set))
            return 0;
        if (crm_migrate(conn, "common", crm_common_migrations, err, errlen) < 0 ||
            (set && crm_migrate(conn, scope, set, err, errlen) < 0)) {
            s_hint(err, errlen);
            return -1;
        }
        return 0;
    }
    char *ci = crm_db_conninfo_as(conninfo, owner, owner_password, err, errlen);
    if (!ci)
        return -1;
    PGconn *oc = PQconnectdb(ci);
    explicit_bzero(ci, strlen(ci)); /* it may hold the owner's password */
    free(ci);
    if (PQstatus(oc) != CONNECTION_OK) {
        snprintf(err, errlen,
                 "could not connect as the migration role \"%s\" (CRM_PG_MIGRATE_USER): %s", owner,
                 PQerrorMessage(oc));
        PQfinish(oc);
        return -1;
    }
    int rc = crm_migrate(oc, "common", crm_common_migrations, err, errlen);
    if (rc == 0 && set)
        rc = crm_migrate(oc, scope, set, err, errlen);
    if (rc == 0 && s_grant(oc, app, err, errlen) < 0) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (granting role \"%s\" its rights)", app);
        rc = -1;
    }
    PQfinish(oc);
    if (rc == 0)
        crm_info("db.roles", "schema migrated as role %s; the service runs as role %s", owner, app);
    return rc;
}
