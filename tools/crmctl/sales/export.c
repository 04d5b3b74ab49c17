/* export.c: `crmctl person export ID`, one JSON document holding what
 * every service keeps about a person (GDPR articles 15 and 20). Each
 * service answers <service>.person.export with its own part, read from
 * its own database; nothing here reads a database. The layout is in
 * docs/operations.md ("Export requests"). */
#include "../main.h"

#include <crm/util.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/person.pb-c.h"

const crmctl_opt_t crmctl_person_export_opts[] = {
    {NULL, 0, NULL, NULL, 0},
};

static const char *const s_services[] = {"sales", "marketing", "support", "analytics"};

int crmctl_person_export(crmctl_t *ctl, const crmctl_args_t *args)
{
    const char *id = crmctl_positional(args, 0);
    if (!id || !crm_uuid_valid(id))
        return crmctl_usage_error(ctl, "give the person's id (a UUID): person export ID");
    json_t *doc = json_pack("{s:s, s:I, s:{}}", "person_id", id, "exported_at_us",
                            (json_int_t)crm_now_us(), "services");
    int rc = doc ? CRMCTL_EXIT_OK : CRMCTL_EXIT_FAILED;
    for (size_t i = 0; rc == CRMCTL_EXIT_OK && i < sizeof s_services / sizeof *s_services; i++) {
        /* Sales owns people: without it there is no export. The others
         * are asked when configured; a missing one is said in the
         * document, so that a partial export is never taken for whole. */
        crmctl_service_t *svc = i == 0 ? crmctl_service_require(ctl, s_services[i])
                                       : crmctl_service_find(ctl, s_services[i]);
        if (!svc) {
            if (i == 0)
                rc = CRMCTL_EXIT_USAGE;
            else
                json_object_set_new(json_object_get(doc, "services"), s_services[i],
                                    json_pack("{s:s}", "missing", "service not configured"));
            continue;
        }
        char command[64];
        snprintf(command, sizeof command, "%s.person.export", s_services[i]);
        Crm__V1__ExportPersonRequest rq = CRM__V1__EXPORT_PERSON_REQUEST__INIT;
        rq.id = (char *)id;
        ProtobufCMessage *m = NULL;
        rc = crmctl_call(ctl, svc, command, &rq.base, NULL, CRMCTL_TIMEOUT_MS, CRMCTL_ATTEMPTS,
                         &crm__v1__export_person_reply__descriptor, &m, 0, NULL);
        if (rc != CRMCTL_EXIT_OK)
            break;
        json_t *part = json_loads(((Crm__V1__ExportPersonReply *)m)->json, 0, NULL);
        protobuf_c_message_free_unpacked(m, NULL);
        if (!part) {
            fprintf(stderr, "crmctl: %s answered a part that is not JSON\n", svc->name);
            rc = CRMCTL_EXIT_FAILED;
            break;
        }
        /* An erased person: the document says only that erasure happened,
         * when, by whom and why (sales keeps that). */
        json_t *erasure = json_object_get(part, "erasure");
        if (i == 0 && erasure) {
            json_object_set(doc, "erasure", erasure);
            json_object_del(doc, "services");
            json_decref(part);
            break;
        }
        json_object_set_new(json_object_get(doc, "services"), s_services[i], part);
    }
    if (rc == CRMCTL_EXIT_OK) {
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (text)
            printf("%s\n", text);
        else
            rc = CRMCTL_EXIT_FAILED;
        free(text);
    }
    json_decref(doc);
    return rc;
}
