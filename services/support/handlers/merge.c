/* handlers/merge.c: crm.sales.person.merged.v1 applied to support
 * (crm/alias.h; docs/architecture.md, "Personal data", "Merge"): the
 * dropped person's tickets name the survivor, whose copy takes both
 * records' emails (support_merge_person, sql/0006_merge.sql). */
#include "handlers.h"

#include <crm/alias.h>

static void s_merged(crm_work_t *w, PGresult *res)
{
    (void)res;
    crm_work_ok(w, NULL);
}

void support_person_merged(crm_work_t *w)
{
    crm_alias_consume(w, "SELECT support_merge_person($1::uuid, $2::uuid, $3::text[])", s_merged);
}
