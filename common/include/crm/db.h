/* crm/db.h: one PostgreSQL connection driven by libpq's asynchronous API on
 * a libuv poll handle, so the event loop never waits on the database.
 *
 * Queries queue and run one at a time, in order. A component that runs a
 * transaction owns its crm_db_t (one connection per concern: the command
 * writer, each consumer, the reader that serves replay), so statements of
 * two transactions never interleave. The connection is (re)established in
 * the background with backoff; while it is down, queries fail at once. */
#ifndef CRM_DB_H
#define CRM_DB_H

#include <crm/err.h>

#include <libpq-fe.h>
#include <stddef.h>
#include <uv.h>

typedef struct crm_db crm_db_t;

/* Completion of one query, on the loop thread. On success `error` is NULL and
 * `res` holds the result; on failure `error` says why and `res` is the error
 * result (or NULL when the connection was lost). `res` belongs to the db and
 * is cleared when the callback returns. */
typedef void (*crm_db_cb)(crm_db_t *db, PGresult *res, const char *error, void *arg);

/* Called when the connection comes up (connected = 1) or goes down (0). */
typedef void (*crm_db_state_cb)(crm_db_t *db, int connected, void *arg);

/* The connection string to use: `conninfo` (keyword/value or URI form) with
 * `password` added, overriding any password it holds, as keyword/value
 * text. The password comes from a file the service reads
 * (CRM_PG_PASSWORD_FILE), so it is never in the process environment; the
 * result must never be logged. `password` NULL or "" returns a copy of
 * conninfo. Returns NULL with a message in err (which never quotes the
 * string) when conninfo does not parse or memory runs out. Caller owns the
 * result (free). Blocking-free; call it at start. */
char *crm_db_conninfo(const char *conninfo, const char *password, char *err, size_t errlen);

/* The same for another role on the same server and database (the owner
 * role that applies migrations, CRM_PG_MIGRATE_USER): `conninfo` with its
 * user replaced by `user` and its password dropped, then `password` added
 * when not NULL or "". `user` NULL or "" is crm_db_conninfo. Caller owns the
 * result (free); never log it. */
char *crm_db_conninfo_as(const char *conninfo, const char *user, const char *password, char *err,
                         size_t errlen);

/* 1 when `conninfo` carries a password itself, 0 when not or when it does
 * not parse. */
int crm_db_conninfo_has_password(const char *conninfo);

/* Starts connecting at once. `name` appears in logs and application_name.
 * Caller owns the result. */
crm_db_t *crm_db_new(uv_loop_t *loop, const char *conninfo, const char *name);

/* Fails every queued query (callbacks fire with an error), closes the
 * connection; memory is released from close callbacks. NULLs *self_p. */
void crm_db_destroy(crm_db_t **self_p);

void crm_db_on_state(crm_db_t *self, crm_db_state_cb cb, void *arg);
int crm_db_connected(const crm_db_t *self);
const char *crm_db_name(const crm_db_t *self);

/* Queues a statement with out-of-line parameters (values are copied).
 * `lengths`/`formats` may be NULL for all-text parameters; a format of 1
 * marks a binary parameter with its length. `binary_result` asks for
 * binary columns. Returns 0 (the callback will fire exactly once) or
 * -ENOTCONN / -ENOMEM (the callback never fires). */
int crm_db_query(crm_db_t *self, const char *sql, int nparams, const char *const *values,
                 const int *lengths, const int *formats, int binary_result, crm_db_cb cb,
                 void *arg);

/* crm_db_query for a statement the caller sends often: prepared on this
 * connection at its first use under `name` (a constant; one SQL text per
 * name for the life of the process), then sent by name, without a parse
 * or plan per call. NULL name: crm_db_query. */
int crm_db_query_named(crm_db_t *self, const char *name, const char *sql, int nparams,
                       const char *const *values, const int *lengths, const int *formats,
                       int binary_result, crm_db_cb cb, void *arg);

/* For a connection that runs only transactions (a writer, a consumer's):
 * the statements of one pass of the loop share one sync and go out in one
 * write. An error then fails the statements queued after it in that pass
 * too, which inside a transaction it does anyway. Call once, after
 * crm_db_new. */
void crm_db_grouped(crm_db_t *self);

/* Number of queries queued or running. */
size_t crm_db_pending(const crm_db_t *self);

/* SQLSTATE of an error result ("23505"), or "" if none. */
const char *crm_db_sqlstate(const PGresult *res);

/* What a failed statement means to a client. Fills e from the error result
 * `res` of statement `sql` (res NULL: the connection was lost): a status
 * code by SQLSTATE (unique violation ALREADY_EXISTS, foreign key
 * FAILED_PRECONDITION, check, not-null and data exceptions
 * INVALID_ARGUMENT, serialization failure, deadlock, cancel, shutdown and
 * connection errors UNAVAILABLE, anything else INTERNAL) with a generic
 * message and hint. The server's text names tables and constraints, so it
 * goes only into e->log_detail, with the SQLSTATE and the start of the
 * statement (never a parameter). Returns 1 when trying the same work again
 * may succeed (serialization failure, deadlock), else 0. */
int crm_db_error(const PGresult *res, const char *sql, crm_err_t *e);

/* crm_db_error from the parts of a result: SQLSTATE ("" or NULL when
 * unknown) and the server's primary message (may be NULL). */
int crm_db_error_from(const char *sqlstate, const char *primary, const char *sql, crm_err_t *e);

/* Helpers for reading results. */
long long crm_db_get_int(const PGresult *res, int row, int col);
const char *crm_db_get_str(const PGresult *res, int row, int col);
/* The cell's text, or NULL for SQL NULL. */
const char *crm_db_get_opt(const PGresult *res, int row, int col);
/* 1 for a boolean cell that is true; 0 for false or SQL NULL. */
int crm_db_get_bool(const PGresult *res, int row, int col);
/* 1 when row `row` of res exists and its first column holds row + 1, else
 * 0: a statement over arrays answers each element with its ordinal (WITH
 * ORDINALITY, from 1), so that the caller pairs row i with element i. */
int crm_db_row_is_ordinal(const PGresult *res, int row);

#endif
