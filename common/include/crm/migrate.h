/* crm/migrate.h: schema migrations embedded in each binary and applied on
 * start, in name order, under an advisory lock so that two instances
 * starting together do not race. A numbered migration ("0003_x.sql") is
 * applied once and never changes; a repeatable one ("R_x.sql", after the
 * numbered ones) is applied again whenever its text changed, for
 * definitions replaced whole (CREATE OR REPLACE FUNCTION). */
#ifndef CRM_MIGRATE_H
#define CRM_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct {
    const char *name; /* "0001_outbox.sql"; NULL ends a table */
    const char *sql;
} crm_migration_t;

/* The backbone's own tables (outbox, stream, idempotency, consumer
 * positions, dead letters), applied by every service first. */
extern const crm_migration_t crm_common_migrations[];

/* Applies the migrations of `set` not yet recorded under `scope` (e.g.
 * "common", "sales"). Runs at start-up, before the event loop, so it uses
 * blocking libpq calls. Returns 0, or -1 with a message in err; a failed
 * migration is rolled back whole. */
int crm_migrate(PGconn *conn, const char *scope, const crm_migration_t *set, char *err,
                size_t errlen);

/* Brings a service's database up to date at start-up (blocking, before the
 * loop), from `conn`, the connection of its runtime role (CRM_PG_URL):
 * - `owner` NULL, "" or the runtime role itself: one role for both. When
 *   everything is applied already nothing is changed (so a runtime role
 *   without rights on the schema starts on a database migrated by another
 *   role); otherwise the common then `set`'s migrations are applied on conn.
 * - otherwise (CRM_PG_MIGRATE_USER): a second connection, to the same
 *   server and database as `conninfo` (CRM_PG_URL, without the runtime
 *   password) as role `owner` with `owner_password` (NULL or "": none;
 *   peer, trust or ~/.pgpass), applies them, grants the runtime role the
 *   rows of every table and sequence, now and for tables `owner` creates
 *   later, and closes.
 * Returns 0, or -1 with a message (never a password) in err. */
int crm_migrate_service(PGconn *conn, const char *conninfo, const char *owner,
                        const char *owner_password, const char *scope, const crm_migration_t *set,
                        char *err, size_t errlen);

#endif
