/* marketing.h: what the marketing verbs (campaign.c, segment.c,
 * preference.c) share.
 *
 * They are tables run by the request engine (request.h, crmctl_request_run) with
 * the service set to "marketing": options fill fields of the requests of
 * marketing.proto, --json gives a whole request, -o json prints the reply
 * as in marketing.proto. What the engine cannot convert generically (a
 * segment rule, a contact window, a UTC offset) is converted here. */
#ifndef CRMCTL_MARKETING_H
#define CRMCTL_MARKETING_H

#include "request.h"

/* The file the --json help of these verbs names (request.h). */
#define REQ_PROTO_FILE "marketing.proto"
#include "values.h"

#include "crm/v1/marketing.pb-c.h"

/* The service the marketing verbs talk to. */
#define MKT_SERVICE "marketing"

/* The members of every marketing verb. */
#define MKT_VERB(cmd, request_desc, reply_desc, fields_)                                           \
    .command = cmd, .request = request_desc, .reply = reply_desc, .fields = fields_,               \
    .service = MKT_SERVICE, .proto = "marketing.proto", .convert = mkt_convert

/* The REQ_CUSTOM options of the marketing verbs: --rule (a segment
 * rule), --window (HH:MM-HH:MM), --utc-offset (+HH:MM),
 * --attribution-days N. */
int mkt_convert(const crmctl_t *ctl, const req_field_t *field, const char *text, json_t *request);

/* A segment rule (JSON of SegmentRule) as people write it for --rule:
 * "person-kind=customer", "total-spent-at-least=1000.00 EUR",
 * "!responded-to-campaign=ID". Writes into buf and returns it. */
char *mkt_rule_text(const json_t *rule, char *buf, size_t len);

#define MKT_DECLARE_VERB(name) extern const req_verb_t mkt_##name;
CRMCTL_MARKETING_VERBS(MKT_DECLARE_VERB)
#define MKT_VERB_HANDLER(name)                                                                     \
    int crmctl_##name(crmctl_t *ctl, const crmctl_args_t *args)                                    \
    {                                                                                              \
        return crmctl_request_run(ctl, args, &mkt_##name);                                         \
    }

#endif
