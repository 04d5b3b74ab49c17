/* crm/cloudevent.h: a crm.v1.Event as a CloudEvents 1.0 event in the
 * structured JSON format, the one rendering shared by `crmctl tail -o json`,
 * the HTTP API's SSE feed and webhooks, so that every JSON reader of our
 * streams sees the same attributes.
 *
 * Attributes (docs/events.md lists them with examples):
 *   specversion "1.0", id, source, type, subject and time (RFC 3339, UTC,
 *   microseconds) from the envelope; extensions correlationid, causationid,
 *   actor (the principal that caused the event), sequence (decimal string: CloudEvents extensions
 * have no 64-bit integer type, and JSON numbers lose precision past 2^53 in JavaScript) and epoch;
 * datacontenttype "application/json", dataschema "proto:<full message name>" (the message in
 * crm.binpb that `data` is the JSON form of) and data (crm/pbjson.h mapping). Empty attributes are
 * left out, as CloudEvents forbids empty strings; an event whose payload this build does not know
 * has no data, datacontenttype nor dataschema. */
#ifndef CRM_CLOUDEVENT_H
#define CRM_CLOUDEVENT_H

#include <jansson.h>

#include "crm/pbjson.h"
#include "crm/v1/event.pb-c.h"

#define CRM_CLOUDEVENT_SPECVERSION "1.0"
#define CRM_CLOUDEVENT_SCHEMA_PREFIX "proto:"

/* Returns a new JSON object, attributes in a stable order (caller owns the
 * reference), or NULL on ENOMEM. Strings that are not UTF-8 have their
 * offending bytes replaced by '?'. */
json_t *crm_cloudevent_json(const Crm__V1__Event *ev);

/* The same event as text, appended to b in one pass (crm/pbjson.h):
 * exactly the bytes of json_dumps(crm_cloudevent_json(ev), JSON_COMPACT),
 * without the tree. 0, or -1 (ENOMEM; b's length as it was). */
int crm_cloudevent_write(crm_pbjson_buf_t *b, const Crm__V1__Event *ev);

/* The payload (the set member of Event.payload) or NULL when none is set or
 * this build does not know its field number. Borrowed from ev. */
const ProtobufCMessage *crm_cloudevent_payload(const Crm__V1__Event *ev);

#endif
