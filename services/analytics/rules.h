/* rules.h: the pure logic of analytics, without the database or the loop,
 * so that unit tests (tests/unit/analytics) exercise it alone: the health
 * score, ISO weeks and the validation of report queries. */
#ifndef ANALYTICS_RULES_H
#define ANALYTICS_RULES_H

#include <stddef.h>
#include <stdint.h>

#define AN_US_PER_DAY (86400LL * 1000000LL)

/* The Monday 00:00 UTC (microseconds since the epoch) that starts the ISO
 * 8601 week containing `us`. */
int64_t an_week_start(int64_t us);

/* Parses an ISO 8601 week "YYYY-Www" (week 01-53, 53 only in years that
 * have it) into the microsecond its Monday starts, UTC. Returns 0, or -1
 * with *why set to a static explanation. */
int an_iso_week_parse(const char *text, int64_t *monday_us, const char **why);

/* Formats the ISO week containing `us` as "YYYY-Www" into buf (at least
 * 9 bytes); returns buf. */
char *an_iso_week_format(int64_t us, char *buf, size_t len);

/* ANALYTICS_POTENTIAL_LTV: "EUR=1000, JPY=150000, KWD=300.5" (amounts in
 * each ISO 4217 currency's major units, at most its minor digits) as the
 * JSON object of minor units the report takes ({"EUR":100000,...}) into
 * out. Returns 0, or -1 with a message in err. */
int an_thresholds_parse(const char *text, char *out, size_t outlen, char *err, size_t errlen);

/* ---- the health score (docs/analytics.md) -------------------------------- */

/* What the score is computed from: figures the database aggregates for one
 * customer at the evaluation instant (an_health_inputs, sql/0002_apply.sql).
 * Days are in tenths, rounded half away from zero. */
typedef struct {
    int64_t orders;          /* orders placed up to the instant */
    int64_t since_tenths;    /* days since the last order (orders >= 1) */
    int64_t cadence_tenths;  /* (last - first order) / (orders - 1) (orders >= 2) */
    int64_t engagement;      /* activities done and responses in the last 90 days */
    int64_t open_complaints; /* complaint tickets not resolved or closed */
    int64_t ratings;         /* rated tickets */
    int64_t rating_sum;      /* the sum of their ratings, 1-5 each */
    int64_t breaches;        /* SLA breaches in the last 90 days */
} an_health_in_t;

#define AN_HEALTH_REASONS 5
#define AN_HEALTH_REASON_LEN 128

typedef struct {
    int score;      /* 0-100 */
    int churn_risk; /* 100 - score */
    size_t n_reasons;
    /* What raised or lowered the score, in the order of the rules:
     * "1 open complaint(s) (-15)". */
    char reasons[AN_HEALTH_REASONS][AN_HEALTH_REASON_LEN];
} an_health_t;

/* Start at 50, add each rule's points, clamp to 0-100. */
void an_health_compute(const an_health_in_t *in, an_health_t *out);

/* a / b rounded half away from zero; b > 0. */
int64_t an_div_round(int64_t a, int64_t b);

/* A report query's fields, checked before any SQL runs. */
typedef struct {
    const char *field;   /* the offending field, or NULL */
    const char *message; /* static */
    const char *hint;    /* static, may be NULL */
} an_err_t;

/* Checks a customer id as given by a client: non-empty, at most 200
 * bytes, printable ASCII. Returns 0 or -1 with *e filled. */
int an_check_customer_id(const char *id, an_err_t *e);

#endif
