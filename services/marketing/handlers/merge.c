/* handlers/merge.c: crm.sales.person.merged.v1 applied to marketing
 * (crm/alias.h; docs/architecture.md, "Personal data", "Merge"): the
 * dropped person's recipients, sends, responses, deliveries, conversions,
 * purchases, tickets, consent entries and segment memberships name the
 * survivor (mkt_merge_person, sql/0022_merge.sql), and the survivor's
 * segment memberships are evaluated again with everything that is theirs
 * now. */
#include "handlers.h"

#include <crm/alias.h>

static void s_merged(crm_work_t *w, PGresult *res)
{
    (void)res;
    mkt_member_refresh(w, crm_work_event(w)->person_merged->survivor_id, mkt_applied);
}

void mkt_person_merged(crm_work_t *w)
{
    crm_alias_consume(w, "SELECT mkt_merge_person($1::uuid, $2::uuid, $3::text[])", s_merged);
}
