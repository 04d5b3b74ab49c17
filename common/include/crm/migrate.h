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

#endif
