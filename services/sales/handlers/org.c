/* handlers/org.c: organisations: create (names are unique), show with
 * their people, list. */
#include "handlers.h"

#include <string.h>

static void s_org_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Organization *o = crm_work_returned(w, &crm__v1__organization__descriptor, res);
    if (!o || sales_emit_org_created(w, o) < 0)
        return;
    Crm__V1__OrganizationReply r = CRM__V1__ORGANIZATION_REPLY__INIT;
    r.organization = o;
    crm_work_ok(w, &r.base);
}

static void s_org_named(crm_work_t *w, PGresult *res)
{
    Crm__V1__Organization *o = crm_work_data(w);
    if (PQntuples(res) > 0) {
        Crm__V1__Organization *old = SALES_ORG(w, crm_db_get_opt(res, 0, 0));
        /* Its id only for whoever may read it (crm/access.h). */
        int seen = old && crm_work_may(w, CRM_REC_ORGANISATION, CRM_ACT_READ, old->owner);
        crm_work_fail(
            w, SALES_CODE(ALREADY_EXISTS), "organization.name", "organization already exists",
            seen ? crm_work_printf(w, "organization %s is named \"%s\"", old->id, old->name)
                 : "an organization you may not read has this name",
            "use the existing organization, or choose another name");
        return;
    }
    sales_store_org_insert(w, o, s_org_inserted);
}

void sales_org_create(crm_work_t *w)
{
    const Crm__V1__CreateOrganizationRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    const Crm__V1__Organization *src = rq->organization;
    Crm__V1__Organization *o = crm_work_alloc(w, sizeof *o);
    char id[CRM_UUID_LEN + 1], country[3];
    if (!o) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        sales_invalid(w, "organization", "organization is required", "send at least a name");
        return;
    }
    crm__v1__organization__init(o);
    int rc = sales_in_required(&in, src->name, SALES_NAME_MAX, "organization.name", &o->name);
    if (rc == 0)
        rc = sales_in_text(&in, src->domain, SALES_NAME_MAX, "organization.domain", &o->domain);
    if (rc == 0)
        rc = sales_in_text(&in, src->industry, SALES_NAME_MAX, "organization.industry",
                           &o->industry);
    if (rc == 0)
        rc = sales_in_text(&in, src->owner, SALES_NAME_MAX, "organization.owner", &o->owner);
    if (rc == 0 &&
        (rc = sales_check_country(src->country, country, "organization.country", &in.e)) == 0)
        o->country = sales_in_copy(&in, country, strlen(country));
    if (rc == 0)
        rc = sales_in_tags(&in, src->tags, src->n_tags, "organization", &o->tags, &o->n_tags);
    if (sales_in_done(&in, rc) < 0)
        return;
    for (char *c = o->domain; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    if (strchr(o->domain, ' ')) {
        crm_work_fail(w, SALES_INVALID, "organization.domain", "domain is malformed",
                      crm_work_printf(w, "got \"%s\"", o->domain),
                      "send a host name such as example.com");
        return;
    }
    crm_uuid_new(id);
    if (!(o->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    if (sales_owner(w, CRM_REC_ORGANISATION, CRM_ACT_CREATE, "organization.owner", &o->owner) < 0)
        return;
    crm_work_set_data(w, o);
    sales_store_org_by_name(w, o->name, s_org_named);
}

static void s_org_shown(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ShowOrganizationRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__OrganizationReply *r = NULL;
    if (PQntuples(res) > 0 &&
        !(r = crm_work_returned(w, &crm__v1__organization_reply__descriptor, res)))
        return;
    if (!r || !r->organization ||
        !crm_work_may(w, CRM_REC_ORGANISATION, CRM_ACT_READ, r->organization->owner)) {
        crm_work_fail_not_found(w, "id", "organization", rq->id,
                                "list organizations with sales.org.list");
        return;
    }
    crm_work_ok(w, &r->base);
}

void sales_org_show(crm_work_t *w)
{
    const Crm__V1__ShowOrganizationRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->id, 1, "id", &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    sales_store_org_show(w, rq->id, s_org_shown);
}

static void s_orgs_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListOrganizationsReply r = CRM__V1__LIST_ORGANIZATIONS_REPLY__INIT;
    if (sales_list_rows(w, res, &crm__v1__organization__descriptor, &r.organizations,
                        &r.n_organizations, &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

void sales_org_list(crm_work_t *w)
{
    const Crm__V1__ListOrganizationsRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_text(rq->query, SALES_NAME_MAX, "query", &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    sales_list_t *l = sales_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_org_list(w, rq, &l->page, s_orgs_listed);
}
