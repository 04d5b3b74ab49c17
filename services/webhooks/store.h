/* store.h: every statement crm-webhooks runs, with out-of-line
 * parameters. Records come back as one jsonb column in the field names of
 * webhooks.proto (crm_work_records reads them). Instants are the service's
 * clock (crm_now_us), passed in, so that the test clock moves them too. */
#ifndef WEBHOOKS_STORE_H
#define WEBHOOKS_STORE_H

#include <crm/service.h>
#include <stdint.h>

#include "crm/v1/webhooks.pb-c.h"

/* Consumers: one pending delivery for every enabled subscription one of
 * whose prefixes `type` starts with; an event already enqueued for a
 * subscription is not enqueued again. No rows. */
int wh_store_enqueue(crm_work_t *w, const Crm__V1__Event *ev, const char *body, int64_t now_us,
                     crm_work_cb cb);

/* Subscriptions. Each returns the record (without the secret) as row 0,
 * column 0, or no row when the id is unknown. */
int wh_store_sub_insert(crm_work_t *w, const char *id, const char *url, char *const *types,
                        size_t n_types, const char *secret, const char *description, int64_t now_us,
                        crm_work_cb cb);
int wh_store_sub_get(crm_work_t *w, const char *id, crm_work_cb cb);
/* Rows after the page position (created_us, id), newest first; at most
 * limit rows. */
int wh_store_sub_list(crm_work_t *w, int64_t after_created_us, const char *after_id, int limit,
                      crm_work_cb cb);
/* enabled: -1 unchanged, 0 or 1; url, description NULL = unchanged; types
 * n_types 0 = unchanged. Enabling clears the failing clock and makes the
 * failed deliveries due now. */
int wh_store_sub_update(crm_work_t *w, const char *id, int enabled, const char *url,
                        char *const *types, size_t n_types, const char *description, int64_t now_us,
                        crm_work_cb cb);
/* Row (id, deliveries dropped), or none. */
int wh_store_sub_delete(crm_work_t *w, const char *id, crm_work_cb cb);

/* Deliveries after seq `after`, oldest first, filtered when sub/status are
 * set; at most limit rows of (record, seq). */
int wh_store_delivery_list(crm_work_t *w, const char *sub, int status, int64_t after, int limit,
                           crm_work_cb cb);
/* Makes the failed delivery `id`, or every failed one of subscription
 * `sub`, due at now. Row (subscription enabled or NULL when unknown,
 * number made due, status of delivery `id` or NULL). */
int wh_store_delivery_retry(crm_work_t *w, const char *id, const char *sub, int64_t now_us,
                            crm_work_cb cb);

/* The pump. settle: outcomes as a JSON array of {id, subscription, ok,
 * http, error, next_us}; failures move the failing clock of their
 * subscription, successes stop it. No rows. */
int wh_store_settle(crm_work_t *w, const char *outcomes_json, int64_t now_us, crm_work_cb cb);
/* Disables the subscriptions failing since before now - after_us. Rows
 * (id, url, failing_since_us). */
int wh_store_disable_failing(crm_work_t *w, int64_t now_us, int64_t after_us, const char *reason,
                             crm_work_cb cb);
/* The first `batch` deliveries of the queue of at most `limit` enabled
 * subscriptions not in `busy`, those whose head falls due first; rows
 * (delivery id, subscription id, url, secret, event id, body, attempts,
 * the head's next attempt) by subscription, in queue order. */
int wh_store_claim(crm_work_t *w, char *const *busy, size_t n_busy, int limit, int batch,
                   crm_work_cb cb);

#endif
