/* crm/erase.h: erasing one person's personal data from a service's
 * database, its tables and its stored events alike (GDPR article 17;
 * docs/architecture.md, "Personal data").
 *
 * The rule is one everywhere: every occurrence of the person's strings (the
 * name, emails and phones the service knew, in any case) becomes the marker
 * "[erased]", and in an event about the person (subject = their id) every
 * personal field (crm_erase_personal) that is not empty becomes the marker
 * too (an event is about them when its subject or any of its strings is
 * their id). Stored events are decoded, changed and encoded again in place, so
 * every stream stays dense and replayable, and what a consumer rebuilds from
 * the rewritten log equals what it erased live. */
#ifndef CRM_ERASE_H
#define CRM_ERASE_H

#include <crm/service.h>

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define CRM_ERASED "[erased]"

/* 1 when field `field` of message type `type` ("crm.v1.Person") holds
 * personal data to erase whenever the message is about the person. */
int crm_erase_personal(const char *type, const char *field);

/* Erases in place in m and the messages it holds: occurrences of the `n`
 * strings `pii` in every string (strings shorter than 4 bytes are ignored);
 * with `about`, every non-empty personal field too. New strings come from
 * `a`, and replaced ones are not freed, so m must live in an arena (an
 * allocator whose free does nothing). Returns the number of strings
 * changed, or -ENOMEM. */
int crm_erase_message(ProtobufCMessage *m, ProtobufCAllocator *a, const char *const *pii, size_t n,
                      int about);

/* Erases event `ev` for person `id`: as crm_erase_message, the event
 * being about the person when its subject is the id or any of its strings
 * is (a ticket's customer_id, an order's person_id). */
int crm_erase_event(Crm__V1__Event *ev, ProtobufCAllocator *a, const char *id,
                    const char *const *pii, size_t n);

/* Called when crm_erase_person is done: `rewritten` stored events (outbox
 * and dead letters) and idempotency records were changed. The work's data
 * (crm_work_data) is what it was when crm_erase_person was called. */
typedef void (*crm_erase_done_fn)(crm_work_t *w, uint32_t rewritten);

/* In w's transaction: scrubs every table (crm_erase_scrub, common/sql),
 * then rewrites every outbox event and dead letter naming `subject` or
 * holding one of the strings, and every idempotency record whose key or
 * reply holds one (the reply's bytes masked in place, the key replaced by
 * "erased:" and its md5). The strings are copied. Calls done on success;
 * on a failure the work is failed and done is not called. */
void crm_erase_person(crm_work_t *w, const char *subject, const char *const *pii, size_t n,
                      crm_erase_done_fn done);

/* The whole of a consumer applying a person.erased event (the subject is
 * the person): runs `lock_sql` ($1 = the id; one row or none: the strings
 * to erase as a JSON array, and whether the person was erased here
 * already), then, unless erased already, `blank_sql` ($1 = the id; records
 * the erasure and blanks the service's own free text about the person),
 * then crm_erase_person, and ends the work. Applying it twice changes
 * nothing. The SQL texts must outlive the work (string literals). */
void crm_erase_consume(crm_work_t *w, const char *lock_sql, const char *blank_sql);

/* The whole of a <service>.person.export command (request
 * crm.v1.ExportPersonRequest, reply crm.v1.ExportPersonReply): runs
 * `records_sql` ($1 = the id; one row: a JSON object of the service's
 * rows about the person, or SQL NULL when it knows nothing of them), then
 * reads its stored events about the person, and answers
 * {"records": ..., "events": [...]}. When the records hold "erasure" (an
 * erased person), the answer is that alone. `not_found` = 1 answers
 * NOT_FOUND for a NULL (sales, which owns people); others answer empty
 * records. The SQL must outlive the work (a string literal). */
void crm_export_person(crm_work_t *w, const char *records_sql, int not_found);

/* The strings of a JSON array (text, as array_to_json(...)::text gives
 * them) in the work's arena, *n of them; NULL with the work failed when
 * the text is not an array of strings or memory ran out. */
const char **crm_erase_strings(crm_work_t *w, const char *json, size_t *n);

#endif
