/* consumer_int.h: what the consumer's files share; private to
 * consumer.c, consumer_live.c, consumer_replay.c and consumer_verify.c.
 * A consumer owns its batches (batch_int.h): they report to it, and it
 * moves its positions and hands their events to the relay. */
#ifndef CRM_CONSUMER_INT_H
#define CRM_CONSUMER_INT_H

#include "svc_int.h"

#include <stddef.h>
#include <stdint.h>

/* consumer.c */
/* "crm.sales.deal." -> "sales" into out; returns 0 or -1. */
int crm_prefix_source(const char *prefix, char *out, size_t len);
crm_src_pos_t *crm_consumer_pos(crm_consumer_t *c, const char *source);
crm_peer_t *crm_consumer_peer(crm_service_t *svc, const char *source);
/* Drops queued (not in-flight) events of every source and asks each source
 * again from its committed position. */
void crm_consumer_queue_reset(crm_consumer_t *c);
/* An event for (c, p) from replay. Returns 1 if it was the next expected
 * sequence (queued or skipped by filter), 0 if old, -1 on a gap. When it
 * is queued the work takes *ev, decoded already, and *ev is set to NULL
 * (the caller frees what is left). */
int crm_consumer_offer(crm_consumer_t *c, crm_src_pos_t *p, Crm__V1__Event **ev, const void *bytes,
                       size_t len);
/* Starts a batch of queued events, or asks for more by replay. */
void crm_consumer_kick(crm_consumer_t *c);

/* consumer_live.c */
int crm_consumer_on_sub(crm_zwatch_t *w, void *zsock, int cap, void *arg);

/* consumer_replay.c */
void crm_consumer_replay(crm_consumer_t *c, crm_src_pos_t *p);
int crm_consumer_on_dealer(crm_zwatch_t *w, void *zsock, int cap, void *arg);

/* consumer_verify.c */
int crm_topic_names(const char *topic, size_t tlen, const char *source);
const char *crm_printable_id(char out[CRM_EVENT_ID_MAX + 1], const char *id);
void crm_pos_remember(crm_src_pos_t *p, const Crm__V1__Event *ev);
void crm_pos_check_recent(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev);
void crm_pos_hint(crm_src_pos_t *p, const Crm__V1__Event *ev);
void crm_pos_settle_hints(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev);
void crm_pos_drop_passed_hints(crm_src_pos_t *p);
int crm_pos_check_applied(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev);

#endif
