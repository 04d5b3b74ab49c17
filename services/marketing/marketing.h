/* marketing.h: the marketing service's context and its tables of handlers.
 *
 * One mkt_t per process (static in main.c), set as the service's user
 * pointer in on_start. It holds the settings the sending needs and the
 * state of the two timer-driven activities: the send scan (a work that
 * starts scheduled campaigns and decides the contact policy for their
 * recipients) and the delivery pump (a work that claims pending emails, a
 * thread-pool job that hands them to the SMTP relay with libcurl, and a
 * work that records the outcomes) and the segment membership scan. Handlers of commands and events
 * keep nothing here: everything a work does lives in the database. */
#ifndef MKT_MARKETING_H
#define MKT_MARKETING_H

#include <crm/service.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Most recipients decided by one scan (one transaction); a full scan is
 * followed by another at once. */
#define MKT_SEND_BATCH 200
/* Most emails per SMTP job (each bounded by MKT_SMTP_TIMEOUT_S). */
#define MKT_DELIVERY_BATCH 5

/* Outcomes of one email (mkt_delivery_t.status, and "status" in the
 * outcomes JSON). */
#define MKT_DELIVERED 1 /* the relay accepted it */
#define MKT_BOUNCED 2   /* refused for good (5xx): failed, and a BOUNCED response */
#define MKT_RETRY 4     /* a transient failure: tried again later, up to a limit */

typedef struct {
    char *id, *address, *subject, *body; /* owned (malloc) */
    int status;                          /* MKT_DELIVERED, MKT_BOUNCED or MKT_RETRY */
    char error[256];
} mkt_delivery_t;

typedef struct {
    crm_service_t *svc;
    const char *smtp_url;  /* MARKETING_SMTP_URL; "" = no relay */
    const char *mail_from; /* MARKETING_MAIL_FROM */
    int freq_cap;          /* MARKETING_FREQUENCY_CAP; 0 = none */
    int freq_days;         /* MARKETING_FREQUENCY_DAYS */
    int max_attempts;      /* MARKETING_SMTP_MAX_ATTEMPTS */
    int64_t retry_ms;      /* MARKETING_SMTP_RETRY_MS */
    int stopping;
    int scan_running, scan_full;
    int segments_running; /* the membership scan is queued or running */
    /* The delivery pump: busy from the claim until the outcome committed. */
    int pump_busy;
    mkt_delivery_t batch[MKT_DELIVERY_BATCH];
    size_t n_batch;
    uv_work_t smtp_job;
    char *outcomes; /* JSON for the outcome work (malloc) */
} mkt_t;

/* Commands ("marketing.<entity>.<verb>") and consumers, for the service
 * definition; both tables end with a NULL name. */
extern const crm_command_def_t mkt_commands[];
extern const crm_consumer_def_t mkt_consumers[];

/* Timer works, run through crm_service_submit with the mkt_t as argument.
 * mkt_send_scan: starts due campaigns and decides up to MKT_SEND_BATCH
 * recipients (sets scan_full when there may be more).
 * mkt_delivery_claim: reads up to MKT_DELIVERY_BATCH pending emails into
 * batch (read-only). mkt_delivery_outcome: records `outcomes`. */
void mkt_send_scan(crm_work_t *w);
/* Re-evaluates the segments whose rules depend on time passing (last
 * order within N days; at most 500) and announces who joined or left
 * (segment.membership_changed). Every other change of membership is made
 * by the transaction of the event or command that caused it. */
void mkt_segment_scan(crm_work_t *w);
void mkt_delivery_claim(crm_work_t *w);
void mkt_delivery_outcome(crm_work_t *w);

/* Frees the strings of the claimed batch. */
void mkt_batch_clear(mkt_t *ctx);

#endif
