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

/* Most emails per SMTP job (each bounded by CRM_SMTP_TIMEOUT_S). */
#define MKT_DELIVERY_BATCH 5

/* Outcomes of one email (mkt_delivery_t.status, and "status" in the
 * outcomes JSON). */
#define MKT_DELIVERED 1 /* the relay accepted it */
#define MKT_BOUNCED 2   /* refused for good (5xx): failed, and a BOUNCED response */
#define MKT_RETRY 4     /* a transient failure: tried again later, up to a limit */

typedef struct {
    char *id, *address, *subject, *body; /* owned (malloc) */
    char *campaign_id, *customer_id;     /* owned (malloc) */
    char *name;                          /* the recipient's name, owned (malloc) */
    int status;                          /* MKT_DELIVERED, MKT_BOUNCED or MKT_RETRY */
    char error[256];
    char message_id[300]; /* as sent, without brackets */
} mkt_delivery_t;

/* MARKETING_SEND_SCANS: the send scan is this many scans, each over a
 * range of customer ids of its own, so that two transactions decide at
 * once on the two writers (crm_scan_set_key). */
#define MKT_SEND_SCANS_MAX 8

struct mkt;

/* One of the send scans: the recipients whose customer id is in [lo, hi]
 * (inclusive, as text). All of a customer's decisions, in every campaign,
 * fall to one scan, which decides them one transaction after another, so
 * the frequency cap sees each earlier one. The first (index 0) also starts
 * due campaigns and follow-up steps (rows every scan would otherwise
 * lock), and decides the campaigns with a throttle over every customer,
 * while the others wait (mkt_store_send_turn). */
typedef struct {
    struct mkt *ctx;
    crm_scan_t *scan;
    int index;
    char lo[40], hi[40];
} mkt_send_part_t;

typedef struct mkt {
    crm_service_t *svc;
    const char *smtp_url;  /* MARKETING_SMTP_URL; "" = no relay */
    const char *mail_from; /* MARKETING_MAIL_FROM */
    const char *from_name; /* MARKETING_MAIL_FROM_NAME */
    int freq_cap;          /* MARKETING_FREQUENCY_CAP; 0 = none */
    int freq_days;         /* MARKETING_FREQUENCY_DAYS */
    /* MARKETING_SEND_BATCH: most recipients decided by one scan (one
     * transaction); a full scan is followed by another at once. */
    int send_batch;
    int max_attempts; /* MARKETING_SMTP_MAX_ATTEMPTS */
    int64_t retry_ms; /* MARKETING_SMTP_RETRY_MS */
    int soft_bounces; /* MARKETING_SOFT_BOUNCES */
    /* Tracking (track.h): the key read from MARKETING_TRACK_KEY_FILE
     * (NULL: off), CRM_TRACK_BASE_URL, the tokens' lifetime. */
    const uint8_t *track_key;
    size_t track_keylen;
    const char *track_base_url;
    int64_t track_ttl_s;
    const char *unsubscribe_to; /* MARKETING_UNSUBSCRIBE_MAILTO */
    int64_t batch_now_us;       /* the clock when the batch was claimed (Date, expiry) */
    int stopping;
    mkt_send_part_t send_parts[MKT_SEND_SCANS_MAX]; /* sends that fell due (crm_service_scan) */
    int n_send_parts;                               /* MARKETING_SEND_SCANS */
    crm_scan_t *segment_scan;                       /* segment membership (crm_service_scan) */
    /* The delivery pump: busy from the claim until the outcome committed. */
    int pump_busy;
    mkt_delivery_t batch[MKT_DELIVERY_BATCH];
    size_t n_batch;
    uv_work_t smtp_job;
    char *outcomes; /* JSON for the outcome work (malloc) */
    /* MARKETING_CHANNEL_POLICY: bit (1 << channel) set for each opt-in
     * channel, whose sends need a recorded consent (mkt_policy_parse). */
    unsigned opt_in;
} mkt_t;

/* Commands ("marketing.<entity>.<verb>") and consumers, for the service
 * definition (commands.c); both tables end with a NULL name. */
extern const crm_command_def_t mkt_commands[];
extern const crm_consumer_def_t mkt_consumers[];

/* Handlers of commands, one per command of mkt_commands, in handlers/
 * (the file named in each group). Each reads crm_work_request(w), checks
 * it with rules.c, runs its statements and answers or fails the work. */
/* handlers/campaign.c */
void mkt_campaign_create(crm_work_t *w);
void mkt_campaign_show(crm_work_t *w);
void mkt_campaign_list(crm_work_t *w);
void mkt_campaign_schedule(crm_work_t *w);
void mkt_campaign_pause(crm_work_t *w);
void mkt_campaign_resume(crm_work_t *w);
void mkt_campaign_cancel(crm_work_t *w);
void mkt_campaign_complete(crm_work_t *w);
void mkt_campaign_offer(crm_work_t *w);
void mkt_campaign_exclude(crm_work_t *w);
void mkt_campaign_launch(crm_work_t *w);
void mkt_campaign_target(crm_work_t *w);
/* handlers/budget.c */
void mkt_campaign_budget(crm_work_t *w);
void mkt_expense_record(crm_work_t *w);
void mkt_expense_list(crm_work_t *w);
void mkt_expense_void(crm_work_t *w);
/* handlers/send.c */
void mkt_delivery_confirm(crm_work_t *w);
/* handlers/result.c */
void mkt_campaign_results(crm_work_t *w);
void mkt_campaign_compare(crm_work_t *w);
/* handlers/preference.c */
void mkt_pref_set(crm_work_t *w);
void mkt_pref_show(crm_work_t *w);
void mkt_consent_grant(crm_work_t *w);
void mkt_consent_withdraw(crm_work_t *w);
void mkt_consent_history(crm_work_t *w);
/* handlers/response.c */
void mkt_response_record(crm_work_t *w);
/* handlers/track.c */
void mkt_track_open(crm_work_t *w);
void mkt_track_click(crm_work_t *w);
void mkt_track_unsubscribe(crm_work_t *w);
/* handlers/message.c */
void mkt_message_set(crm_work_t *w);
void mkt_message_preview(crm_work_t *w);
/* handlers/segment.c */
void mkt_segment_create(crm_work_t *w);
void mkt_segment_list(crm_work_t *w);
void mkt_segment_preview(crm_work_t *w);
void mkt_segment_members(crm_work_t *w);

/* Consumers (mkt_consumers), one per stream, each applying one event
 * (crm_work_event) in its own transaction: handlers/person.c (people from
 * sales and support), handlers/order.c (placed orders, attributed to
 * campaigns), handlers/support.c (tickets and feedback, kept as segment
 * signals). */
void mkt_people_apply(crm_work_t *w);
/* handlers/erasure.c: person.erased, from mkt_people_apply */
void mkt_person_erased(crm_work_t *w);
/* handlers/merge.c: person.merged, from mkt_people_apply */
void mkt_person_merged(crm_work_t *w);
void mkt_person_export(crm_work_t *w);
void mkt_orders_apply(crm_work_t *w);
void mkt_support_apply(crm_work_t *w);

/* Timer works (handlers/send.c and, for the segment scan,
 * handlers/segment.c), run through crm_service_submit with the mkt_t as
 * argument (mkt_send_scan: its mkt_send_part_t).
 * mkt_send_scan: starts due campaigns (the first part only) and decides
 * up to send_batch recipients of its part (calls crm_scan_more when there
 * may be more). mkt_send_kick: runs every part of the send scan now.
 * mkt_delivery_claim: reads up to MKT_DELIVERY_BATCH pending emails into
 * batch (read-only). mkt_delivery_outcome: records `outcomes`. */
void mkt_send_scan(crm_work_t *w);
void mkt_send_kick(struct mkt *ctx);
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
