/* ce.h: a crm.v1.Event in the CloudEvents protobuf format
 * (io.cloudevents.v1.CloudEvent, the specification's cloudevents.proto),
 * for CRM_BRIDGE_FORMAT=cloudevents. */
#ifndef BRIDGE_NATS_CE_H
#define BRIDGE_NATS_CE_H

#include <crm/service.h>

#include <stddef.h>
#include <stdint.h>

/* The content type of a message in this format (the protobuf format's
 * media type). */
#define BRIDGE_CE_CONTENT_TYPE "application/cloudevents+protobuf"

/* Serialises `ev` as a CloudEvent into memory from the work's arena, which
 * lives as long as the work: *out and *len on success (0), -1 when out of
 * memory. The attributes are those of crm/cloudevent.h's JSON rendering
 * (id, source, type, subject, time, correlationid, causationid, actor, sequence as
 * a decimal string, epoch, datacontenttype, dataschema); the payload is
 * proto_data, a google.protobuf.Any of the typed crm.v1 message, and absent
 * when this build does not know the payload. */
int bridge_ce_pack(crm_work_t *w, const Crm__V1__Event *ev, const uint8_t **out, size_t *len);

#endif
