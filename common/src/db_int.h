/* db_int.h: private parts of db.c, for its unit test
 * (tests/unit/common/test_db.c), which builds queries without a server. */
#ifndef CRM_DB_INT_H
#define CRM_DB_INT_H

#include <crm/db.h>

typedef struct crm_db_query_s {
    struct crm_db_query_s *next;
    char *sql;
    int nparams; /* entries of values; 0 until values is allocated */
    char **values;
    int *lengths;
    int *formats;
    int binary_result;
    crm_db_cb cb;
    void *arg;
} crm_query_t;

/* A queued statement with copies of sql and the parameters (see
 * crm_db_query for lengths and formats); NULL when memory ran out, with
 * nothing leaked. Caller owns the result (crm_db_query_free). */
crm_query_t *crm_db_query_new(const char *sql, int nparams, const char *const *values,
                              const int *lengths, const int *formats);

/* Frees q and its copies; NULL is allowed. Safe on a partly built q. */
void crm_db_query_free(crm_query_t *q);

#endif
