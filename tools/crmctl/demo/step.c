/* step.c: one command of the demo data set with a fixed idempotency key,
 * for both parts of `crmctl demo load`: demo.c (sales) and demo_support.c
 * (the help desk). It lives apart so that the two parts do not call each
 * other: demo.c calls demo_support_load, and both call demo_step. */
#include "demo.h"

#include <stdio.h>

int demo_step(crmctl_t *ctl, crmctl_service_t *svc, const char *prefix, int *step,
              const req_verb_t *verb, json_t *request, json_t **reply_p)
{
    char key[64];
    snprintf(key, sizeof key, "%s-%d", prefix, ++*step);
    json_t *reply = NULL;
    int rc = request ? req_send(ctl, svc, verb, request, key, &reply) : CRMCTL_EXIT_FAILED;
    if (!request)
        crmctl_error(NULL, NULL, "out of memory");
    json_decref(request);
    if (rc != CRMCTL_EXIT_OK)
        crmctl_error(NULL, "Loading again resumes where it stopped: the steps before are kept.",
                     "demo load stopped at step %s (%s)", key, verb->command);
    if (reply_p)
        *reply_p = reply;
    else
        json_decref(reply);
    return rc;
}
