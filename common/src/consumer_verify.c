/* consumer_verify.c: the checks that keep forged events out.
 *
 * Anyone who can publish on the bus can write an event; only what the source
 * itself hands out by replay is applied. Live events are compared with what
 * replay brought for the same sequence, the first replay after a load with
 * the event recorded with the position ("Forged events" in
 * docs/architecture.md). */
#include "consumer_int.h"
#include "svc_int.h"

#include <crm/log.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- verification ------------------------------------------------------ */

/* The topic is the event's type, and the type names the source:
 * crm.<source>.<rest>. A message that disagrees with itself was not written
 * by our relay. */
int crm_topic_names(const char *topic, size_t tlen, const char *source)
{
    size_t sl = strlen(source);
    return sl > 0 && tlen > 5 + sl && !memcmp(topic, "crm.", 4) && !memcmp(topic + 4, source, sl) &&
           topic[4 + sl] == '.';
}

/* Ids are compared as far as we keep them (UUIDs fit whole). */
static int s_same_id(const char *kept, const char *id)
{
    return !strncmp(kept, id ? id : "", CRM_EVENT_ID_MAX - 1);
}

void crm_pos_remember(crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    crm_seq_id_t *r = &p->recent[p->recent_next++ % CRM_RECENT];
    r->seq = ev->sequence;
    snprintf(r->id, sizeof r->id, "%s", ev->id ? ev->id : "");
}

/* An id from the network, fit for a log line: at most 40 characters, and
 * anything but letters, digits and dashes shown as '?' (the log must stay
 * valid UTF-8). */
const char *crm_printable_id(char out[CRM_EVENT_ID_MAX + 1], const char *id)
{
    size_t i = 0;
    for (; id && id[i] && i < CRM_EVENT_ID_MAX; i++) {
        char ch = id[i];
        out[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                         ch == '-'
                     ? ch
                     : '?';
    }
    out[i] = 0;
    return out;
}

static void s_forged(crm_consumer_t *c, crm_src_pos_t *p, uint64_t seq, const char *live_id,
                     const char *true_id)
{
    char a[CRM_EVENT_ID_MAX + 1], b[CRM_EVENT_ID_MAX + 1];
    /* Said at error level, but not for every copy a flood repeats. */
    if (p->forged++ % 1000 == 0)
        crm_error("consumer.forged",
                  "%s: a live event claiming to be %s sequence %" PRIu64
                  " has id %s, but the source's event there is %s; dropped (%" PRId64
                  " so far). Someone publishes on the bus as %s",
                  c->def->name, p->source, seq, crm_printable_id(a, live_id),
                  crm_printable_id(b, true_id), p->forged, p->source);
}

/* A live event at or below what we already took from the source: compare
 * with what the source gave us for that sequence, if we still know it. */
void crm_pos_check_recent(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    for (size_t i = 0; i < CRM_RECENT; i++) {
        const crm_seq_id_t *r = &p->recent[i];
        if (r->seq == ev->sequence && r->id[0]) {
            if (!s_same_id(r->id, ev->id))
                s_forged(c, p, ev->sequence, ev->id, r->id);
            return;
        }
    }
}

/* A live event ahead of us: kept until replay brings that sequence. The
 * oldest hint gives way when a flood fills the table. */
void crm_pos_hint(crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    for (size_t i = 0; i < p->n_hints; i++)
        if (p->hints[i].seq == ev->sequence && s_same_id(p->hints[i].id, ev->id))
            return;
    if (p->n_hints == CRM_HINTS) {
        memmove(p->hints, p->hints + 1, (CRM_HINTS - 1) * sizeof *p->hints);
        p->n_hints--;
    }
    p->hints[p->n_hints].seq = ev->sequence;
    snprintf(p->hints[p->n_hints].id, sizeof p->hints[p->n_hints].id, "%s", ev->id);
    p->n_hints++;
}

/* The source's own event `ev` settles the hints for its sequence. */
void crm_pos_settle_hints(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_hints; i++) {
        if (p->hints[i].seq == ev->sequence) {
            if (!s_same_id(p->hints[i].id, ev->id))
                s_forged(c, p, ev->sequence, p->hints[i].id, ev->id);
            continue;
        }
        p->hints[k++] = p->hints[i];
    }
    p->n_hints = k;
}

/* Hints the replay went past without showing: their sequence holds an event
 * of a type this consumer does not take, so they were not applied either. */
void crm_pos_drop_passed_hints(crm_src_pos_t *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_hints; i++)
        if (p->hints[i].seq >= p->expected)
            p->hints[k++] = p->hints[i];
    p->n_hints = k;
}

/* We applied `applied_id` at p->applied; the source says `ev` is there. */
int crm_pos_check_applied(crm_consumer_t *c, crm_src_pos_t *p, const Crm__V1__Event *ev)
{
    if (s_same_id(p->applied_id, ev->id))
        return 0;
    char a[CRM_EVENT_ID_MAX + 1], b[CRM_EVENT_ID_MAX + 1];
    p->conflict = 1;
    p->conflicts++;
    p->replaying = 0;
    p->n_hints = 0;
    crm_error("consumer.conflict",
              "%s: applied event %s as %s sequence %" PRIu64
              ", but the source has event %s there; not applying %s any further until an"
              " operator resolves the conflict (see docs/operations.md)",
              c->def->name, crm_printable_id(a, p->applied_id), p->source, p->applied,
              crm_printable_id(b, ev->id), p->source);
    return -1;
}
