/* sales.h: what the sales verbs (person.c, org.c, lead.c, pipeline.c,
 * deal.c, order.c, activity.c, and demo/demo.c) share: the verb specs the
 * engine (request.h) runs, and the views more than one of them prints. */
#ifndef CRMCTL_SALES_H
#define CRMCTL_SALES_H

#include "request.h"
#include "values.h"

#include "crm/v1/sales.pb-c.h"

/* The service the sales verbs talk to. */
#define SALES_SERVICE "sales"

/* The verb specs, one per sales verb (sales_person_register, ...); the
 * handler crmctl_person_register of crmctl.h runs it. */
#define SALES_DECLARE_VERB(name) extern const req_verb_t sales_##name;
CRMCTL_SALES_VERBS(SALES_DECLARE_VERB)
#define SALES_VERB_HANDLER(name)                                                                   \
    int crmctl_##name(crmctl_t *ctl, const crmctl_args_t *args)                                    \
    {                                                                                              \
        return crmctl_request_run(ctl, args, &sales_##name);                                       \
    }

/* Views shared between files: a person (person.c), an organisation
 * (org.c), a deal (deal.c). */
extern const req_col_t sales_person_view[];
extern const req_col_t sales_org_view[];
extern const req_col_t sales_deal_view[];

#endif
