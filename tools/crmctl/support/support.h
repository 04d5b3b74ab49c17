/* support.h: what the support verbs (ticket.c, sla.c) share.
 *
 * They are tables run by the request engine (request.h, crmctl_request_run) with
 * the service set to "support": options fill fields of the requests of
 * support.proto, --json gives a whole request, -o json prints the reply as
 * in support.proto. What the engine cannot convert generically (weekly
 * working hours, a UTC offset, a plain integer the service checks) is
 * converted here. */
#ifndef CRMCTL_SUPPORT_H
#define CRMCTL_SUPPORT_H

#include "request.h"
#include "values.h"

#include "crm/v1/support.pb-c.h"

/* The service the support verbs talk to. */
#define SUPPORT_SERVICE "support"

/* The members of every support verb. */
#define SUPPORT_VERB(cmd, request_desc, reply_desc, fields_)                                       \
    .command = cmd, .request = request_desc, .reply = reply_desc, .fields = fields_,               \
    .service = SUPPORT_SERVICE, .proto = "support.proto", .convert = support_convert

/* The REQ_CUSTOM options of the support verbs: --hours
 * (mon-fri=09:00-17:00,... into BusinessHours), --utc-offset (+HH:MM into
 * minutes), and integers the service range-checks itself (--rating,
 * --first-response, --resolution), so that a rating of 7 gets the
 * service's error. */
int support_convert(const crmctl_t *ctl, const req_field_t *field, const char *text,
                    json_t *request);

#endif
