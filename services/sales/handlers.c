/* handlers.c: sales' business rules, one function per command or consumed
 * event, dispatched from the tables at the end of this file.
 *
 * Every handler follows the same shape: check the whole request with the
 * rules (rules.c) before touching the database; read what the decision
 * needs; write; emit the events; answer. A failure before the first write
 * costs only this work (its batch carries on); all statements go through
 * store.c. State that must survive a continuation lives in a struct in the
 * work's arena (crm_work_set_data), never in globals. */
#include "sales.h"

#include "events.h"
#include "rules.h"
#include "store.h"

#include <crm/db.h>
#include <crm/identity.h>
#include <crm/log.h>
#include <crm/util.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crm/v1/analytics.pb-c.h"
#include "crm/v1/marketing.pb-c.h"
#include "crm/v1/support.pb-c.h"

#define S_CODE(x) CRM__V1__STATUS_CODE__STATUS_CODE_##x
#define S_INVALID S_CODE(INVALID_ARGUMENT)

/* ---- helpers ---------------------------------------------------------------- */

static sales_t *s_ctx(crm_work_t *w)
{
    return crm_service_user(crm_work_service(w));
}

static void s_fail(crm_work_t *w, const sales_err_t *e)
{
    crm_work_fail(w, e->code, e->field, e->message, e->detail, e->hint);
}

static void s_invalid(crm_work_t *w, const char *field, const char *message, const char *hint)
{
    crm_work_fail(w, S_INVALID, field, message, NULL, hint);
}

/* Validation input: copies into the arena; an allocation failure is
 * remembered (and "" returned) so the checks read straight through and
 * report it once at the end. */
typedef struct {
    crm_work_t *w;
    sales_err_t e;
    int oom;
} s_in_t;

static char *s_copy(s_in_t *in, const char *s, size_t n)
{
    char *c = crm_work_alloc(in->w, n + 1);
    if (!c) {
        in->oom = 1;
        return (char *)"";
    }
    memcpy(c, s, n);
    c[n] = 0;
    return c;
}

/* The trimmed text of s. */
static char *s_text(s_in_t *in, const char *s)
{
    const char *t;
    size_t n = sales_trim(s, &t);
    return s_copy(in, t, n);
}

static void *s_array(s_in_t *in, size_t n, size_t size)
{
    void *p = crm_work_alloc(in->w, (n ? n : 1) * size);
    if (!p)
        in->oom = 1;
    return p;
}

/* Ends validation: fails the work on a rule violation or out of memory. */
static int s_in_done(s_in_t *in, int rc)
{
    if (in->oom) {
        crm_work_fail_nomem(in->w);
        return -1;
    }
    if (rc < 0) {
        s_fail(in->w, &in->e);
        return -1;
    }
    return 0;
}

/* Trimmed text of at most max bytes into *out. */
static int s_in_text(s_in_t *in, const char *s, size_t max, const char *field, char **out)
{
    if (sales_check_text(s, max, field, &in->e) < 0)
        return -1;
    *out = s_text(in, s);
    return 0;
}

static int s_in_required(s_in_t *in, const char *s, size_t max, const char *field, char **out)
{
    if (sales_check_required(s, max, field, &in->e) < 0)
        return -1;
    *out = s_text(in, s);
    return 0;
}

static int s_in_id(s_in_t *in, const char *s, int required, const char *field, char **out)
{
    const char *t;
    size_t n = sales_trim(s, &t);
    char *v = s_copy(in, t, n);
    if (sales_check_id(v, required, field, &in->e) < 0)
        return -1;
    *out = v;
    return 0;
}

/* A list of normalised, distinct emails (or phones) into *out. */
static int s_in_contacts(s_in_t *in, char *const *src, size_t n, const char *prefix, int phones,
                         char ***out, size_t *n_out)
{
    char field[160], buf[SALES_EMAIL_LEN];
    if (n > SALES_LIST_MAX) {
        snprintf(field, sizeof field, "%s.%s", prefix, phones ? "phones" : "emails");
        return sales_err_set(&in->e, S_INVALID, field, "too many values", "send at most 50",
                             "got %zu", n);
    }
    char **v = s_array(in, n, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < n; i++) {
        snprintf(field, sizeof field, "%s.%s[%zu]", prefix, phones ? "phones" : "emails", i);
        int rc = phones ? sales_check_phone(src[i], buf, SALES_PHONE_LEN, field, &in->e)
                        : sales_check_email(src[i], buf, sizeof buf, field, &in->e);
        if (rc < 0)
            return -1;
        size_t j = 0;
        while (j < k && strcmp(v[j], buf))
            j++;
        if (j == k)
            v[k++] = s_copy(in, buf, strlen(buf));
    }
    *out = v;
    *n_out = k;
    return 0;
}

static int s_in_tags(s_in_t *in, char *const *src, size_t n, const char *prefix, char ***out,
                     size_t *n_out)
{
    char field[160];
    if (n > SALES_LIST_MAX) {
        snprintf(field, sizeof field, "%s.tags", prefix);
        return sales_err_set(&in->e, S_INVALID, field, "too many tags", "send at most 50",
                             "got %zu", n);
    }
    char **v = s_array(in, n, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < n; i++) {
        const char *t;
        size_t len;
        snprintf(field, sizeof field, "%s.tags[%zu]", prefix, i);
        if (sales_check_tag(src[i], &t, &len, field, &in->e) < 0)
            return -1;
        size_t j = 0;
        while (j < k && !(strlen(v[j]) == len && !strncasecmp(v[j], t, len)))
            j++;
        if (j == k)
            v[k++] = s_copy(in, t, len);
    }
    *out = v;
    *n_out = k;
    return 0;
}

/* One field (bit number i) of a person from src into dst. */
static int s_person_field(s_in_t *in, const Crm__V1__Person *src, int i, const char *prefix,
                          Crm__V1__Person *dst)
{
    char field[160];
    snprintf(field, sizeof field, "%s.%s", prefix, sales_person_field_name(i));
    switch (1u << i) {
    case SALES_PF_KIND:
        if (sales_check_enum(&crm__v1__person_kind__descriptor, src->kind, 1, field, &in->e) < 0)
            return -1;
        dst->kind = src->kind ? src->kind : CRM__V1__PERSON_KIND__PERSON_KIND_PROSPECT;
        return 0;
    case SALES_PF_NAME:
        return s_in_text(in, src->name, SALES_NAME_MAX, field, &dst->name);
    case SALES_PF_EMAILS:
        return s_in_contacts(in, src->emails, src->n_emails, prefix, 0, &dst->emails,
                             &dst->n_emails);
    case SALES_PF_PHONES:
        return s_in_contacts(in, src->phones, src->n_phones, prefix, 1, &dst->phones,
                             &dst->n_phones);
    case SALES_PF_ORGANIZATION_ID:
        return s_in_id(in, src->organization_id, 0, field, &dst->organization_id);
    case SALES_PF_TITLE:
        return s_in_text(in, src->title, SALES_NAME_MAX, field, &dst->title);
    case SALES_PF_ADDRESS:
        return s_in_text(in, src->address, SALES_TEXT_MAX, field, &dst->address);
    case SALES_PF_COUNTRY: {
        char c[3];
        if (sales_check_country(src->country, c, field, &in->e) < 0)
            return -1;
        dst->country = s_copy(in, c, strlen(c));
        return 0;
    }
    case SALES_PF_INDUSTRY:
        return s_in_text(in, src->industry, SALES_NAME_MAX, field, &dst->industry);
    case SALES_PF_TAGS:
        return s_in_tags(in, src->tags, src->n_tags, prefix, &dst->tags, &dst->n_tags);
    case SALES_PF_OWNER:
        return s_in_text(in, src->owner, SALES_NAME_MAX, field, &dst->owner);
    case SALES_PF_CUSTOM_FIELDS: {
        if (src->n_custom_fields > SALES_LIST_MAX)
            return sales_err_set(&in->e, S_INVALID, field, "too many custom fields",
                                 "send at most 50", "got %zu", src->n_custom_fields);
        size_t n = src->n_custom_fields;
        Crm__V1__CustomField **v = s_array(in, n, sizeof *v);
        Crm__V1__CustomField *cf = s_array(in, n, sizeof *cf);
        for (size_t k = 0; v && cf && k < n; k++) {
            const char *t;
            size_t len;
            snprintf(field, sizeof field, "%s.custom_fields[%zu].key", prefix, k);
            if (sales_check_tag(src->custom_fields[k]->key, &t, &len, field, &in->e) < 0)
                return -1;
            crm__v1__custom_field__init(&cf[k]);
            cf[k].key = s_copy(in, t, len);
            for (size_t j = 0; j < k; j++)
                if (!strcmp(cf[j].key, cf[k].key))
                    return sales_err_set(&in->e, S_INVALID, field, "custom field key is repeated",
                                         "send each key once", "got \"%s\"", cf[k].key);
            snprintf(field, sizeof field, "%s.custom_fields[%zu].value", prefix, k);
            if (s_in_text(in, src->custom_fields[k]->value, SALES_TEXT_MAX, field, &cf[k].value) <
                0)
                return -1;
            v[k] = &cf[k];
        }
        dst->custom_fields = v;
        dst->n_custom_fields = v ? n : 0;
        return 0;
    }
    }
    return 0;
}

/* Normalises the fields *bits of src into dst (initialised by the caller).
 * strict (commands): the first invalid value fails the request. Otherwise
 * (events from peers): a field holding an invalid value is logged and
 * dropped from *bits (the stored value stays), so one bad phone number
 * neither loses the whole profile nor clears the field. */
static int s_person_in(s_in_t *in, const Crm__V1__Person *src, const char *prefix, unsigned *bits,
                       Crm__V1__Person *dst, int strict)
{
    for (int i = 0; i < SALES_PF_COUNT; i++) {
        if (!(*bits & (1u << i)))
            continue;
        if (s_person_field(in, src, i, prefix, dst) < 0) {
            if (strict)
                return -1;
            crm_warn("sales.peer_value", "%s: %s: %s; field ignored", in->e.field, in->e.message,
                     in->e.detail);
            *bits &= ~(1u << i);
        }
    }
    return 0;
}

/* ---- lists ------------------------------------------------------------------ */

typedef struct {
    int page_size;
    sales_page_t page;
} s_list_t;

/* Checks page_size and page_token and keeps them for s_list_rows. */
static s_list_t *s_list_start(crm_work_t *w, int32_t page_size, const char *token)
{
    s_list_t *l = crm_work_alloc(w, sizeof *l);
    char *id = crm_work_alloc(w, CRM_UUID_LEN + 1);
    sales_err_t e;
    if (!l || !id) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    if (sales_page_size(page_size, &l->page_size, &e) < 0 ||
        sales_page_token_parse(token, &l->page.after_us, id, &e) < 0) {
        s_fail(w, &e);
        return NULL;
    }
    l->page.after_id = id;
    l->page.limit = l->page_size + 1;
    crm_work_set_data(w, l);
    return l;
}

/* Rows (json, created_us, id) into messages of type d and the next page
 * token ("" on the last page). Returns 0, or -1 with the work failed. */
static int s_list_rows(crm_work_t *w, PGresult *res, const ProtobufCMessageDescriptor *d,
                       void *items_p, size_t *n_items, char **token)
{
    s_list_t *l = crm_work_data(w);
    int rows = PQntuples(res);
    int n = rows > l->page_size ? l->page_size : rows;
    void **items = crm_work_records(w, d, res, 0, n);
    if (!items)
        return -1;
    *(void ***)items_p = items;
    *n_items = (size_t)n;
    *token = (char *)"";
    if (rows > l->page_size) {
        char tok[SALES_TOKEN_LEN];
        sales_page_token_format(strtoll(PQgetvalue(res, n - 1, 1), NULL, 10),
                                PQgetvalue(res, n - 1, 2), tok, sizeof tok);
        if (!(*token = crm_work_strdup(w, tok))) {
            crm_work_fail_nomem(w);
            return -1;
        }
    }
    return 0;
}

/* ---- people ------------------------------------------------------------------- */

typedef struct {
    Crm__V1__Person p;
    unsigned set;
} s_person_st_t;

static void s_person_reply(crm_work_t *w, Crm__V1__Person *p, int created)
{
    Crm__V1__PersonReply r = CRM__V1__PERSON_REPLY__INIT;
    r.person = p;
    r.created = created;
    crm_work_ok(w, &r.base);
}

static void s_register_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Person *p = crm_work_returned(w, &crm__v1__person__descriptor, res);
    if (!p)
        return;
    /* Not inserted: the id exists already (a peer registered the same
     * email a moment ago, or the address was removed from that person). */
    int created = crm_db_get_bool(res, 0, 1);
    if (created && sales_emit_person_registered(w, p) < 0)
        return;
    s_person_reply(w, p, created);
}

static void s_register_looked(crm_work_t *w, PGresult *res)
{
    s_person_st_t *st = crm_work_data(w);
    if (!PQgetisnull(res, 0, 0)) {
        /* One person per email: the known person is the answer. */
        Crm__V1__Person *p = SALES_PERSON(w, crm_db_get_opt(res, 0, 0));
        if (!p) {
            crm_work_fail_unreadable(w);
            return;
        }
        s_person_reply(w, p, 0);
        return;
    }
    if (!crm_db_get_bool(res, 0, 1)) {
        crm_work_fail_not_found(w, "person.organization_id", "organization", st->p.organization_id,
                                "create the organization first, or leave organization_id empty");
        return;
    }
    char id[CRM_UUID_LEN + 1];
    if (st->p.n_emails)
        crm_customer_id_for_email(st->p.emails[0], id);
    else
        crm_uuid_new(id);
    if (!(st->p.id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    sales_store_person_insert(w, &st->p, st->set, crm_now_us(),
                              crm_service_name(crm_work_service(w)), s_register_inserted);
}

static void s_person_register(crm_work_t *w)
{
    const Crm__V1__RegisterPersonRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    s_person_st_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!rq->person) {
        s_invalid(w, "person", "person is required", "send at least a name or an email");
        return;
    }
    crm__v1__person__init(&st->p);
    st->set = sales_person_set_fields(rq->person) | SALES_PF_KIND;
    if (s_in_done(&in, s_person_in(&in, rq->person, "person", &st->set, &st->p, 1)) < 0)
        return;
    if (!*st->p.name && !st->p.n_emails) {
        s_invalid(w, "person.name", "person needs a name or an email",
                  "send a name, an email or both; everything else is optional");
        return;
    }
    crm_work_set_data(w, st);
    sales_store_person_lookup(w, st->p.emails, st->p.n_emails, st->p.organization_id,
                              s_register_looked);
}

static void s_person_found(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ShowPersonRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        if (*rq->id)
            crm_work_fail_not_found(w, "id", "person", rq->id,
                                    "list people with sales.person.list");
        else
            crm_work_fail(w, S_CODE(NOT_FOUND), "email", "no person has this email",
                          crm_work_printf(w, "got \"%s\"", rq->email),
                          "register the person with sales.person.register");
        return;
    }
    Crm__V1__Person *p = crm_work_returned(w, &crm__v1__person__descriptor, res);
    if (p)
        s_person_reply(w, p, 0);
}

static void s_person_show(crm_work_t *w)
{
    const Crm__V1__ShowPersonRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    char email[SALES_EMAIL_LEN] = "";
    char *id = (char *)"";
    int rc = 0;
    if (!*rq->id && !*rq->email) {
        s_invalid(w, "id", "id or email is required", "send the person's id or one of its emails");
        return;
    }
    if (*rq->id)
        rc = s_in_id(&in, rq->id, 1, "id", &id);
    else
        rc = sales_check_email(rq->email, email, sizeof email, "email", &in.e);
    if (s_in_done(&in, rc) < 0)
        return;
    sales_store_person_get(w, id, email, s_person_found);
}

static void s_update_done(crm_work_t *w, PGresult *res)
{
    s_person_st_t *st = crm_work_data(w);
    Crm__V1__Person *p = crm_work_returned(w, &crm__v1__person__descriptor, res);
    if (!p || sales_emit_person_updated(w, p, st->set) < 0)
        return;
    s_person_reply(w, p, 0);
}

static void s_update_locked(crm_work_t *w, PGresult *res)
{
    s_person_st_t *st = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "person", st->p.id, "list people with sales.person.list");
        return;
    }
    if (!PQgetisnull(res, 0, 1)) {
        crm_work_fail(
            w, S_CODE(ALREADY_EXISTS), "person.emails", "email belongs to another person",
            crm_work_printf(w, "person %s has one of these emails", crm_db_get_opt(res, 0, 1)),
            "an email identifies one person; remove it there first");
        return;
    }
    if (!crm_db_get_bool(res, 0, 2)) {
        crm_work_fail_not_found(w, "person.organization_id", "organization", st->p.organization_id,
                                "create the organization first, or leave organization_id empty");
        return;
    }
    Crm__V1__Person *cur = SALES_PERSON(w, crm_db_get_opt(res, 0, 0));
    if (!cur) {
        crm_work_fail_unreadable(w);
        return;
    }
    const char *name = st->set & SALES_PF_NAME ? st->p.name : cur->name;
    size_t n_emails = st->set & SALES_PF_EMAILS ? st->p.n_emails : cur->n_emails;
    if (!*name && n_emails == 0) {
        s_invalid(w, "person", "person needs a name or an email",
                  "keep a name or an email when clearing the other");
        return;
    }
    sales_store_person_update(w, &st->p, st->set, crm_now_us(),
                              crm_service_name(crm_work_service(w)), s_update_done);
}

static void s_person_update(crm_work_t *w)
{
    const Crm__V1__UpdatePersonRequest *rq = (const void *)crm_work_request(w);
    static const Crm__V1__Person empty = CRM__V1__PERSON__INIT;
    const Crm__V1__Person *src = rq->person ? rq->person : &empty;
    s_in_t in = {.w = w};
    s_person_st_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__person__init(&st->p);
    int rc = s_in_id(&in, rq->id, 1, "id", &st->p.id);
    if (rc == 0)
        rc = sales_person_mask(rq->update_mask, rq->n_update_mask, &st->set, &in.e);
    if (rc == 0)
        rc = s_person_in(&in, src, "person", &st->set, &st->p, 1);
    if (s_in_done(&in, rc) < 0)
        return;
    crm_work_set_data(w, st);
    int emails = st->set & SALES_PF_EMAILS;
    sales_store_person_lock(w, st->p.id, emails ? st->p.emails : NULL, emails ? st->p.n_emails : 0,
                            st->set & SALES_PF_ORGANIZATION_ID ? st->p.organization_id : "",
                            s_update_locked);
}

static void s_people_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListPeopleReply r = CRM__V1__LIST_PEOPLE_REPLY__INIT;
    if (s_list_rows(w, res, &crm__v1__person__descriptor, &r.people, &r.n_people,
                    &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

static void s_person_list(crm_work_t *w)
{
    const Crm__V1__ListPeopleRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_enum(&crm__v1__person_kind__descriptor, rq->kind, 1, "kind", &e) < 0 ||
        sales_check_id(rq->organization_id, 0, "organization_id", &e) < 0 ||
        sales_check_text(rq->query, SALES_NAME_MAX, "query", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    s_list_t *l = s_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_person_list(w, rq, &l->page, s_people_listed);
}

/* ---- organisations ------------------------------------------------------------ */

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
        crm_work_fail(w, S_CODE(ALREADY_EXISTS), "organization.name", "organization already exists",
                      crm_work_printf(w, "organization %s is named \"%s\"", old ? old->id : "?",
                                      old ? old->name : o->name),
                      "use the existing organization, or choose another name");
        return;
    }
    sales_store_org_insert(w, o, s_org_inserted);
}

static void s_org_create(crm_work_t *w)
{
    const Crm__V1__CreateOrganizationRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    const Crm__V1__Organization *src = rq->organization;
    Crm__V1__Organization *o = crm_work_alloc(w, sizeof *o);
    char id[CRM_UUID_LEN + 1], country[3];
    if (!o) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        s_invalid(w, "organization", "organization is required", "send at least a name");
        return;
    }
    crm__v1__organization__init(o);
    int rc = s_in_required(&in, src->name, SALES_NAME_MAX, "organization.name", &o->name);
    if (rc == 0)
        rc = s_in_text(&in, src->domain, SALES_NAME_MAX, "organization.domain", &o->domain);
    if (rc == 0)
        rc = s_in_text(&in, src->industry, SALES_NAME_MAX, "organization.industry", &o->industry);
    if (rc == 0)
        rc = s_in_text(&in, src->owner, SALES_NAME_MAX, "organization.owner", &o->owner);
    if (rc == 0 &&
        (rc = sales_check_country(src->country, country, "organization.country", &in.e)) == 0)
        o->country = s_copy(&in, country, strlen(country));
    if (rc == 0)
        rc = s_in_tags(&in, src->tags, src->n_tags, "organization", &o->tags, &o->n_tags);
    if (s_in_done(&in, rc) < 0)
        return;
    for (char *c = o->domain; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    if (strchr(o->domain, ' ')) {
        crm_work_fail(w, S_INVALID, "organization.domain", "domain is malformed",
                      crm_work_printf(w, "got \"%s\"", o->domain),
                      "send a host name such as example.com");
        return;
    }
    crm_uuid_new(id);
    if (!(o->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, o);
    sales_store_org_by_name(w, o->name, s_org_named);
}

static void s_org_shown(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ShowOrganizationRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "organization", rq->id,
                                "list organizations with sales.org.list");
        return;
    }
    Crm__V1__OrganizationReply *r =
        crm_work_returned(w, &crm__v1__organization_reply__descriptor, res);
    if (r)
        crm_work_ok(w, &r->base);
}

static void s_org_show(crm_work_t *w)
{
    const Crm__V1__ShowOrganizationRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->id, 1, "id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    sales_store_org_show(w, rq->id, s_org_shown);
}

static void s_orgs_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListOrganizationsReply r = CRM__V1__LIST_ORGANIZATIONS_REPLY__INIT;
    if (s_list_rows(w, res, &crm__v1__organization__descriptor, &r.organizations,
                    &r.n_organizations, &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

static void s_org_list(crm_work_t *w)
{
    const Crm__V1__ListOrganizationsRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_text(rq->query, SALES_NAME_MAX, "query", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    s_list_t *l = s_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_org_list(w, rq, &l->page, s_orgs_listed);
}

/* ---- leads ----------------------------------------------------------------------- */

static void s_lead_reply(crm_work_t *w, Crm__V1__Lead *l)
{
    Crm__V1__LeadReply r = CRM__V1__LEAD_REPLY__INIT;
    r.lead = l;
    crm_work_ok(w, &r.base);
}

static void s_lead_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Lead *l = crm_work_returned(w, &crm__v1__lead__descriptor, res);
    if (!l || sales_emit_lead_created(w, l) < 0)
        return;
    s_lead_reply(w, l);
}

/* Checks the contact of a new lead: a name or an email, the email and phone
 * normalised. */
static int s_lead_contact(s_in_t *in, const Crm__V1__Lead *src, Crm__V1__Lead *l)
{
    char buf[SALES_EMAIL_LEN];
    if (s_in_text(in, src->name, SALES_NAME_MAX, "lead.name", &l->name) < 0)
        return -1;
    if (*src->email) {
        if (sales_check_email(src->email, buf, sizeof buf, "lead.email", &in->e) < 0)
            return -1;
        l->email = s_copy(in, buf, strlen(buf));
    }
    if (*src->phone) {
        if (sales_check_phone(src->phone, buf, SALES_PHONE_LEN, "lead.phone", &in->e) < 0)
            return -1;
        l->phone = s_copy(in, buf, strlen(buf));
    }
    if (!*l->name && !*l->email)
        return sales_err_set(&in->e, S_INVALID, "lead.name", "lead needs a name or an email",
                             "send a name, an email or both", NULL);
    return 0;
}

static void s_lead_create(crm_work_t *w)
{
    const Crm__V1__CreateLeadRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Lead *src = rq->lead;
    s_in_t in = {.w = w};
    Crm__V1__Lead *l = crm_work_alloc(w, sizeof *l);
    char id[CRM_UUID_LEN + 1];
    if (!l) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        s_invalid(w, "lead", "lead is required", "send at least a name or an email");
        return;
    }
    crm__v1__lead__init(l);
    int rc = s_lead_contact(&in, src, l);
    if (rc == 0)
        rc = s_in_text(&in, src->company, SALES_NAME_MAX, "lead.company", &l->company);
    if (rc == 0)
        rc = sales_check_enum(&crm__v1__lead_source__descriptor, src->source, 1, "lead.source",
                              &in.e);
    if (rc == 0)
        rc = s_in_text(&in, src->campaign_id, SALES_NAME_MAX, "lead.campaign_id", &l->campaign_id);
    if (rc == 0 && src->source == CRM__V1__LEAD_SOURCE__LEAD_SOURCE_CAMPAIGN && !*l->campaign_id)
        rc =
            sales_err_set(&in.e, S_INVALID, "lead.campaign_id", "campaign lead needs a campaign id",
                          "send the campaign's id, or another source", NULL);
    if (rc == 0)
        rc = s_in_text(&in, src->owner, SALES_NAME_MAX, "lead.owner", &l->owner);
    if (rc == 0)
        rc = s_in_text(&in, src->notes, SALES_BODY_MAX, "lead.notes", &l->notes);
    if (s_in_done(&in, rc) < 0)
        return;
    l->source = src->source ? src->source : CRM__V1__LEAD_SOURCE__LEAD_SOURCE_OTHER;
    l->status = CRM__V1__LEAD_STATUS__LEAD_STATUS_NEW;
    crm_uuid_new(id);
    if (!(l->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    sales_store_lead_insert(w, l, s_lead_inserted);
}

/* qualify and disqualify: one shape, the action in the state. */
typedef struct {
    sales_lead_action_t action;
    const char *id;
    const char *text; /* qualification or reason */
} s_lead_move_t;

static void s_lead_moved(crm_work_t *w, PGresult *res)
{
    s_lead_move_t *st = crm_work_data(w);
    Crm__V1__Lead *l = crm_work_returned(w, &crm__v1__lead__descriptor, res);
    if (!l)
        return;
    int rc = st->action == SALES_LEAD_QUALIFY ? sales_emit_lead_qualified(w, l)
                                              : sales_emit_lead_disqualified(w, l);
    if (rc == 0)
        s_lead_reply(w, l);
}

static void s_lead_move_locked(crm_work_t *w, PGresult *res)
{
    s_lead_move_t *st = crm_work_data(w);
    sales_err_t e;
    int next;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "lead", st->id, "list leads with sales.lead.list");
        return;
    }
    Crm__V1__Lead *l = SALES_LEAD(w, crm_db_get_opt(res, 0, 0));
    if (!l) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (sales_lead_next(l->status, st->action, &next, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    int q = st->action == SALES_LEAD_QUALIFY;
    sales_store_lead_status(w, st->id, next, q ? st->text : NULL, q ? NULL : st->text,
                            s_lead_moved);
}

static void s_lead_move(crm_work_t *w, sales_lead_action_t action, const char *id, const char *text,
                        const char *text_field)
{
    s_in_t in = {.w = w};
    s_lead_move_t *st = crm_work_alloc(w, sizeof *st);
    char *tid, *ttext;
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    int rc = s_in_id(&in, id, 1, "id", &tid);
    if (rc == 0)
        rc = action == SALES_LEAD_DISQUALIFY
                 ? s_in_required(&in, text, SALES_TEXT_MAX, text_field, &ttext)
                 : s_in_text(&in, text, SALES_TEXT_MAX, text_field, &ttext);
    if (s_in_done(&in, rc) < 0)
        return;
    st->action = action;
    st->id = tid;
    st->text = ttext;
    crm_work_set_data(w, st);
    sales_store_lead_lock(w, tid, s_lead_move_locked);
}

static void s_lead_qualify(crm_work_t *w)
{
    const Crm__V1__QualifyLeadRequest *rq = (const void *)crm_work_request(w);
    s_lead_move(w, SALES_LEAD_QUALIFY, rq->id, rq->qualification, "qualification");
}

static void s_lead_disqualify(crm_work_t *w)
{
    const Crm__V1__DisqualifyLeadRequest *rq = (const void *)crm_work_request(w);
    s_lead_move(w, SALES_LEAD_DISQUALIFY, rq->id, rq->reason, "reason");
}

/* Conversion: lead -> person (found or new) + organisation (found or new,
 * when the lead names a company) + open deal, one transaction. */
typedef struct {
    const Crm__V1__ConvertLeadRequest *rq;
    char *id, *title, *stage, *pipeline_id;
    char currency[4];
    Crm__V1__Lead *lead;
    Crm__V1__Person *person;
    Crm__V1__Organization *org;
    Crm__V1__Deal *deal;
    Crm__V1__Pipeline *pipeline;
    sales_convert_plan_t plan;
    int person_created;
} s_convert_t;

static void s_convert_emit(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    if (!(st->lead = crm_work_returned(w, &crm__v1__lead__descriptor, res)))
        return;
    if (st->person_created && sales_emit_person_registered(w, st->person) < 0)
        return;
    if (st->plan.create_org && sales_emit_org_created(w, st->org) < 0)
        return;
    if (st->deal && sales_emit_deal_created(w, st->deal) < 0)
        return;
    if (sales_emit_lead_converted(w, st->lead) < 0)
        return;
    Crm__V1__ConvertLeadReply r = CRM__V1__CONVERT_LEAD_REPLY__INIT;
    r.lead = st->lead;
    r.person = st->person;
    r.organization = st->org;
    r.deal = st->deal;
    crm_work_ok(w, &r.base);
}

static void s_convert_link(crm_work_t *w)
{
    s_convert_t *st = crm_work_data(w);
    sales_store_lead_converted(w, st->id, st->person->id, st->org ? st->org->id : "",
                               st->deal ? st->deal->id : "", s_convert_emit);
}

static void s_convert_deal_done(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    if ((st->deal = crm_work_returned(w, &crm__v1__deal__descriptor, res)))
        s_convert_link(w);
}

static void s_convert_deal(crm_work_t *w)
{
    s_convert_t *st = crm_work_data(w);
    if (!st->plan.create_deal) {
        s_convert_link(w);
        return;
    }
    const Crm__V1__Stage *stage = st->pipeline->stages[st->plan.stage_index];
    Crm__V1__Deal *d = crm_work_alloc(w, sizeof *d);
    char id[CRM_UUID_LEN + 1];
    if (!d) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__deal__init(d);
    crm_uuid_new(id);
    d->id = crm_work_strdup(w, id);
    d->title = *st->title           ? st->title
               : *st->lead->company ? crm_work_printf(w, "%s", st->lead->company)
               : *st->lead->name    ? crm_work_printf(w, "%s", st->lead->name)
                                    : crm_work_printf(w, "%s", st->lead->email);
    d->person_id = st->person->id;
    d->organization_id = st->org ? st->org->id : (char *)"";
    d->pipeline_id = st->pipeline->id;
    d->stage = stage->name;
    d->amount_minor = st->rq->amount_minor;
    d->currency = st->currency;
    d->probability = stage->probability;
    d->owner = st->lead->owner;
    d->lead_id = st->lead->id;
    if (!d->id || !d->title) {
        crm_work_fail_nomem(w);
        return;
    }
    sales_store_deal_insert(w, d, crm_work_actor(w), s_convert_deal_done);
}

static void s_convert_person_done(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    if (!(st->person = crm_work_returned(w, &crm__v1__person__descriptor, res)))
        return;
    st->person_created = crm_db_get_bool(res, 0, 1);
    s_convert_deal(w);
}

static void s_convert_person(crm_work_t *w)
{
    s_convert_t *st = crm_work_data(w);
    if (!st->plan.create_person) {
        s_convert_deal(w);
        return;
    }
    Crm__V1__Lead *l = st->lead;
    Crm__V1__Person *p = crm_work_alloc(w, sizeof *p);
    char **emails = crm_work_alloc(w, sizeof *emails), **phones = crm_work_alloc(w, sizeof *phones);
    if (!p || !emails || !phones) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__person__init(p);
    p->id = st->plan.person_id;
    p->kind = CRM__V1__PERSON_KIND__PERSON_KIND_PROSPECT;
    p->name = l->name;
    emails[0] = l->email;
    phones[0] = l->phone;
    p->emails = emails;
    p->n_emails = *l->email ? 1 : 0;
    p->phones = phones;
    p->n_phones = *l->phone ? 1 : 0;
    p->organization_id = st->org ? st->org->id : (char *)"";
    p->owner = l->owner;
    sales_store_person_insert(w, p, sales_person_set_fields(p) | SALES_PF_KIND, crm_now_us(),
                              crm_service_name(crm_work_service(w)), s_convert_person_done);
}

static void s_convert_org_done(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    if ((st->org = crm_work_returned(w, &crm__v1__organization__descriptor, res)))
        s_convert_person(w);
}

static void s_convert_context(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    sales_err_t e;
    const char *person = crm_db_get_opt(res, 0, 0), *org = crm_db_get_opt(res, 0, 1),
               *pipeline = crm_db_get_opt(res, 0, 2);
    if ((person && !(st->person = SALES_PERSON(w, person))) ||
        (org && !(st->org = SALES_ORG(w, org))) ||
        (pipeline && !(st->pipeline = SALES_PIPELINE(w, pipeline)))) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (!st->rq->no_deal && !st->pipeline) {
        if (*st->pipeline_id)
            crm_work_fail_not_found(w, "pipeline_id", "pipeline", st->pipeline_id,
                                    "list pipelines with sales.pipeline.list");
        else
            crm_work_fail(w, S_CODE(FAILED_PRECONDITION), "pipeline_id",
                          "there is no default pipeline", NULL,
                          "name a pipeline, or create one with is_default set");
        return;
    }
    size_t n = st->pipeline ? st->pipeline->n_stages : 0;
    sales_stage_t *stages = crm_work_alloc(w, (n ? n : 1) * sizeof *stages);
    if (!stages) {
        crm_work_fail_nomem(w);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        stages[i].name = st->pipeline->stages[i]->name;
        stages[i].probability = st->pipeline->stages[i]->probability;
    }
    sales_convert_in_t in = {
        .lead_status = st->lead->status,
        .lead_person_id = st->lead->person_id,
        .lead_email = st->lead->email,
        .lead_company = st->lead->company,
        .found_person_id = st->person ? st->person->id : "",
        .found_org_id = st->org ? st->org->id : "",
        .no_deal = st->rq->no_deal,
        .stages = stages,
        .n_stages = n,
        .stage = st->stage,
    };
    if (sales_convert_plan(&in, &st->plan, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    /* Everything is checked: from here on, writes. */
    if (st->plan.create_org) {
        Crm__V1__Organization *o = crm_work_alloc(w, sizeof *o);
        char id[CRM_UUID_LEN + 1];
        if (!o) {
            crm_work_fail_nomem(w);
            return;
        }
        crm__v1__organization__init(o);
        crm_uuid_new(id);
        o->id = crm_work_strdup(w, id);
        o->name = st->lead->company;
        o->owner = st->lead->owner;
        if (!o->id) {
            crm_work_fail_nomem(w);
            return;
        }
        sales_store_org_insert(w, o, s_convert_org_done);
        return;
    }
    s_convert_person(w);
}

static void s_convert_locked(crm_work_t *w, PGresult *res)
{
    s_convert_t *st = crm_work_data(w);
    sales_err_t e;
    int next;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "lead", st->id, "list leads with sales.lead.list");
        return;
    }
    if (!(st->lead = SALES_LEAD(w, crm_db_get_opt(res, 0, 0)))) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (sales_lead_next(st->lead->status, SALES_LEAD_CONVERT, &next, &e) < 0) {
        if (st->lead->status == CRM__V1__LEAD_STATUS__LEAD_STATUS_CONVERTED)
            snprintf(e.detail, sizeof e.detail, "converted to person %s%s%s", st->lead->person_id,
                     *st->lead->deal_id ? " and deal " : "", st->lead->deal_id);
        s_fail(w, &e);
        return;
    }
    sales_store_convert_context(w, st->lead->person_id, st->lead->email, st->lead->company,
                                st->pipeline_id, s_convert_context);
}

static void s_lead_convert(crm_work_t *w)
{
    const Crm__V1__ConvertLeadRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    s_convert_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    st->rq = rq;
    int rc = s_in_id(&in, rq->id, 1, "id", &st->id);
    if (rc == 0)
        rc = s_in_text(&in, rq->deal_title, SALES_NAME_MAX, "deal_title", &st->title);
    if (rc == 0)
        rc = sales_check_amount(rq->amount_minor, "amount_minor", &in.e);
    if (rc == 0)
        rc = sales_check_currency(rq->currency, st->currency, "currency", &in.e);
    if (rc == 0)
        rc = s_in_id(&in, rq->pipeline_id, 0, "pipeline_id", &st->pipeline_id);
    if (rc == 0)
        rc = s_in_text(&in, rq->stage, SALES_NAME_MAX, "stage", &st->stage);
    if (s_in_done(&in, rc) < 0)
        return;
    if (!st->currency[0])
        memcpy(st->currency, s_ctx(w)->currency, sizeof st->currency);
    crm_work_set_data(w, st);
    sales_store_lead_lock(w, st->id, s_convert_locked);
}

static void s_leads_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListLeadsReply r = CRM__V1__LIST_LEADS_REPLY__INIT;
    if (s_list_rows(w, res, &crm__v1__lead__descriptor, &r.leads, &r.n_leads, &r.next_page_token) ==
        0)
        crm_work_ok(w, &r.base);
}

static void s_lead_list(crm_work_t *w)
{
    const Crm__V1__ListLeadsRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_enum(&crm__v1__lead_status__descriptor, rq->status, 1, "status", &e) < 0 ||
        sales_check_enum(&crm__v1__lead_source__descriptor, rq->source, 1, "source", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    s_list_t *l = s_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_lead_list(w, rq, &l->page, s_leads_listed);
}

/* ---- pipelines ----------------------------------------------------------------- */

static void s_pipeline_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Pipeline *p = crm_work_returned(w, &crm__v1__pipeline__descriptor, res);
    if (!p || sales_emit_pipeline_created(w, p) < 0)
        return;
    Crm__V1__PipelineReply r = CRM__V1__PIPELINE_REPLY__INIT;
    r.pipeline = p;
    crm_work_ok(w, &r.base);
}

static void s_pipeline_undefaulted(crm_work_t *w, PGresult *res)
{
    sales_store_pipeline_insert(w, crm_work_data(w), s_pipeline_inserted);
}

static void s_pipeline_named(crm_work_t *w, PGresult *res)
{
    Crm__V1__Pipeline *p = crm_work_data(w);
    if (PQntuples(res) > 0) {
        crm_work_fail(
            w, S_CODE(ALREADY_EXISTS), "pipeline.name", "pipeline already exists",
            crm_work_printf(w, "pipeline %s is named \"%s\"", crm_db_get_opt(res, 0, 0), p->name),
            "choose another name");
        return;
    }
    if (p->is_default)
        sales_store_pipeline_undefault(w, s_pipeline_undefaulted);
    else
        sales_store_pipeline_insert(w, p, s_pipeline_inserted);
}

static void s_pipeline_create(crm_work_t *w)
{
    const Crm__V1__CreatePipelineRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    sales_err_t e;
    if (!rq->pipeline) {
        s_invalid(w, "pipeline", "pipeline is required", "send a name and its stages in order");
        return;
    }
    if (sales_pipeline_check(rq->pipeline, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    size_t n = rq->pipeline->n_stages;
    Crm__V1__Pipeline *p = s_array(&in, 1, sizeof *p);
    Crm__V1__Stage **sv = s_array(&in, n, sizeof *sv);
    Crm__V1__Stage *stages = s_array(&in, n, sizeof *stages);
    char id[CRM_UUID_LEN + 1];
    if (in.oom) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__pipeline__init(p);
    crm_uuid_new(id);
    p->id = s_copy(&in, id, strlen(id));
    p->name = s_text(&in, rq->pipeline->name);
    p->is_default = rq->pipeline->is_default;
    for (size_t i = 0; i < n; i++) {
        crm__v1__stage__init(&stages[i]);
        stages[i].name = s_text(&in, rq->pipeline->stages[i]->name);
        stages[i].probability = rq->pipeline->stages[i]->probability;
        sv[i] = &stages[i];
    }
    p->stages = sv;
    p->n_stages = n;
    if (s_in_done(&in, 0) < 0)
        return;
    crm_work_set_data(w, p);
    sales_store_pipeline_by_name(w, p->name, s_pipeline_named);
}

static void s_pipelines_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListPipelinesReply r = CRM__V1__LIST_PIPELINES_REPLY__INIT;
    int n = PQntuples(res);
    r.pipelines =
        (Crm__V1__Pipeline **)crm_work_records(w, &crm__v1__pipeline__descriptor, res, 0, n);
    if (!r.pipelines)
        return;
    r.n_pipelines = (size_t)n;
    crm_work_ok(w, &r.base);
}

static void s_pipeline_list(crm_work_t *w)
{
    sales_store_pipeline_list(w, s_pipelines_listed);
}

/* ---- deals ------------------------------------------------------------------------ */

static void s_deal_reply(crm_work_t *w, Crm__V1__Deal *d)
{
    Crm__V1__DealReply r = CRM__V1__DEAL_REPLY__INIT;
    r.deal = d;
    crm_work_ok(w, &r.base);
}

/* The stages of a pipeline, for the rules. */
static sales_stage_t *s_stages(crm_work_t *w, const Crm__V1__Pipeline *p)
{
    sales_stage_t *v = crm_work_alloc(w, (p->n_stages ? p->n_stages : 1) * sizeof *v);
    for (size_t i = 0; v && i < p->n_stages; i++) {
        v[i].name = p->stages[i]->name;
        v[i].probability = p->stages[i]->probability;
    }
    if (!v)
        crm_work_fail_nomem(w);
    return v;
}

static void s_deal_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Deal *d = crm_work_returned(w, &crm__v1__deal__descriptor, res);
    if (!d || sales_emit_deal_created(w, d) < 0)
        return;
    s_deal_reply(w, d);
}

static void s_deal_context(crm_work_t *w, PGresult *res)
{
    Crm__V1__Deal *d = crm_work_data(w);
    sales_err_t e;
    size_t idx;
    if (!crm_db_get_bool(res, 0, 0)) {
        crm_work_fail_not_found(w, "deal.person_id", "person", d->person_id,
                                "register the person with sales.person.register first");
        return;
    }
    if (!crm_db_get_bool(res, 0, 1)) {
        crm_work_fail_not_found(w, "deal.organization_id", "organization", d->organization_id,
                                "create the organization with sales.org.create first");
        return;
    }
    if (!crm_db_get_bool(res, 0, 3)) {
        crm_work_fail_not_found(w, "deal.lead_id", "lead", d->lead_id,
                                "list leads with sales.lead.list");
        return;
    }
    if (PQgetisnull(res, 0, 2)) {
        if (*d->pipeline_id)
            crm_work_fail_not_found(w, "deal.pipeline_id", "pipeline", d->pipeline_id,
                                    "list pipelines with sales.pipeline.list");
        else
            crm_work_fail(w, S_CODE(FAILED_PRECONDITION), "deal.pipeline_id",
                          "there is no default pipeline", NULL,
                          "name a pipeline, or create one with is_default set");
        return;
    }
    Crm__V1__Pipeline *p = SALES_PIPELINE(w, crm_db_get_opt(res, 0, 2));
    if (!p) {
        crm_work_fail_unreadable(w);
        return;
    }
    sales_stage_t *stages = s_stages(w, p);
    if (!stages)
        return;
    if (sales_stage_pick(stages, p->n_stages, d->stage, "deal.stage", &idx, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    d->pipeline_id = p->id;
    d->stage = p->stages[idx]->name;
    if (!d->probability)
        d->probability = p->stages[idx]->probability;
    sales_store_deal_insert(w, d, crm_work_actor(w), s_deal_inserted);
}

static void s_deal_create(crm_work_t *w)
{
    const Crm__V1__CreateDealRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Deal *src = rq->deal;
    s_in_t in = {.w = w};
    Crm__V1__Deal *d = crm_work_alloc(w, sizeof *d);
    char id[CRM_UUID_LEN + 1];
    if (!d) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        s_invalid(w, "deal", "deal is required", "send at least a title and a person");
        return;
    }
    crm__v1__deal__init(d);
    d->currency = s_array(&in, 4, 1);
    int rc = s_in_required(&in, src->title, SALES_NAME_MAX, "deal.title", &d->title);
    if (rc == 0)
        rc = s_in_id(&in, src->person_id, 0, "deal.person_id", &d->person_id);
    if (rc == 0)
        rc = s_in_id(&in, src->organization_id, 0, "deal.organization_id", &d->organization_id);
    if (rc == 0 && !*d->person_id && !*d->organization_id)
        rc = sales_err_set(&in.e, S_INVALID, "deal.person_id",
                           "deal needs a person or an organization",
                           "send person_id, organization_id or both", NULL);
    if (rc == 0)
        rc = s_in_id(&in, src->pipeline_id, 0, "deal.pipeline_id", &d->pipeline_id);
    if (rc == 0)
        rc = s_in_text(&in, src->stage, SALES_NAME_MAX, "deal.stage", &d->stage);
    if (rc == 0)
        rc = sales_check_amount(src->amount_minor, "deal.amount_minor", &in.e);
    if (rc == 0 && d->currency)
        rc = sales_check_currency(src->currency, d->currency, "deal.currency", &in.e);
    if (rc == 0)
        rc = sales_check_probability(src->probability, "deal.probability", &in.e);
    if (rc == 0) {
        d->expected_close_date = s_text(&in, src->expected_close_date);
        rc = sales_check_date(d->expected_close_date, "deal.expected_close_date", &in.e);
    }
    if (rc == 0)
        rc = s_in_text(&in, src->owner, SALES_NAME_MAX, "deal.owner", &d->owner);
    if (rc == 0)
        rc = s_in_text(&in, src->next_step, SALES_TEXT_MAX, "deal.next_step", &d->next_step);
    if (rc == 0)
        rc = s_in_id(&in, src->lead_id, 0, "deal.lead_id", &d->lead_id);
    if (s_in_done(&in, rc) < 0)
        return;
    if (!d->currency[0])
        memcpy(d->currency, s_ctx(w)->currency, 4);
    d->amount_minor = src->amount_minor;
    d->probability = src->probability;
    d->status = CRM__V1__DEAL_STATUS__DEAL_STATUS_OPEN;
    crm_uuid_new(id);
    if (!(d->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, d);
    sales_store_deal_context(w, d->person_id, d->organization_id, d->pipeline_id, d->lead_id,
                             s_deal_context);
}

/* stage, win and lose share the lock-check-write shape. */
typedef enum { S_DEAL_MOVE, S_DEAL_WIN, S_DEAL_LOSE } s_deal_op_t;

typedef struct {
    s_deal_op_t op;
    char *id, *stage, *next_step, *reason;
    int probability;
    const char *from, *to;
} s_deal_change_t;

static void s_deal_changed(crm_work_t *w, PGresult *res)
{
    s_deal_change_t *st = crm_work_data(w);
    Crm__V1__Deal *d = crm_work_returned(w, &crm__v1__deal__descriptor, res);
    if (!d)
        return;
    int rc = st->op == S_DEAL_MOVE  ? sales_emit_deal_stage_changed(w, d, st->from, st->to)
             : st->op == S_DEAL_WIN ? sales_emit_deal_won(w, d)
                                    : sales_emit_deal_lost(w, d);
    if (rc == 0)
        s_deal_reply(w, d);
}

static void s_deal_change_locked(crm_work_t *w, PGresult *res)
{
    s_deal_change_t *st = crm_work_data(w);
    sales_err_t e;
    size_t idx;
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "deal", st->id, "list deals with sales.deal.list");
        return;
    }
    Crm__V1__Deal *d = SALES_DEAL(w, crm_db_get_opt(res, 0, 0));
    Crm__V1__Pipeline *p = SALES_PIPELINE(w, crm_db_get_opt(res, 0, 1));
    if (!d || !p) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (st->op != S_DEAL_MOVE) {
        if (sales_deal_close(d->status, st->op == S_DEAL_WIN, st->reason, &e) < 0) {
            s_fail(w, &e);
            return;
        }
        sales_store_deal_close(w, st->id, st->op == S_DEAL_WIN, st->reason, s_deal_changed);
        return;
    }
    sales_stage_t *stages = s_stages(w, p);
    if (!stages)
        return;
    if (sales_deal_move(d->status, stages, p->n_stages, d->stage, st->stage, &idx, &e) < 0) {
        s_fail(w, &e);
        return;
    }
    st->from = d->stage;
    st->to = p->stages[idx]->name;
    int probability = st->probability ? st->probability : p->stages[idx]->probability;
    sales_store_deal_move(w, st->id, st->from, st->to, probability,
                          *st->next_step ? st->next_step : NULL, crm_work_actor(w), s_deal_changed);
}

static void s_deal_change(crm_work_t *w, s_deal_change_t *st, const char *id, int rc, s_in_t *in)
{
    if (rc == 0)
        rc = s_in_id(in, id, 1, "id", &st->id);
    if (s_in_done(in, rc) < 0)
        return;
    crm_work_set_data(w, st);
    sales_store_deal_lock(w, st->id, s_deal_change_locked);
}

static s_deal_change_t *s_deal_change_new(crm_work_t *w, s_deal_op_t op)
{
    s_deal_change_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    st->op = op;
    st->stage = st->next_step = st->reason = (char *)"";
    return st;
}

static void s_deal_stage(crm_work_t *w)
{
    const Crm__V1__MoveDealRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    s_deal_change_t *st = s_deal_change_new(w, S_DEAL_MOVE);
    if (!st)
        return;
    int rc = s_in_required(&in, rq->stage, SALES_NAME_MAX, "stage", &st->stage);
    if (rc == 0)
        rc = sales_check_probability(rq->probability, "probability", &in.e);
    if (rc == 0)
        rc = s_in_text(&in, rq->next_step, SALES_TEXT_MAX, "next_step", &st->next_step);
    st->probability = rq->probability;
    s_deal_change(w, st, rq->id, rc, &in);
}

static void s_deal_win(crm_work_t *w)
{
    const Crm__V1__WinDealRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    s_deal_change_t *st = s_deal_change_new(w, S_DEAL_WIN);
    if (st)
        s_deal_change(w, st, rq->id, 0, &in);
}

static void s_deal_lose(crm_work_t *w)
{
    const Crm__V1__LoseDealRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    s_deal_change_t *st = s_deal_change_new(w, S_DEAL_LOSE);
    if (!st)
        return;
    int rc = s_in_required(&in, rq->reason, SALES_TEXT_MAX, "reason", &st->reason);
    s_deal_change(w, st, rq->id, rc, &in);
}

static void s_deal_shown(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ShowDealRequest *rq = (const void *)crm_work_request(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "deal", rq->id, "list deals with sales.deal.list");
        return;
    }
    Crm__V1__DealReply *r = crm_work_returned(w, &crm__v1__deal_reply__descriptor, res);
    if (r)
        crm_work_ok(w, &r->base);
}

static void s_deal_show(crm_work_t *w)
{
    const Crm__V1__ShowDealRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->id, 1, "id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    sales_store_deal_show(w, rq->id, s_deal_shown);
}

static void s_deals_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListDealsReply r = CRM__V1__LIST_DEALS_REPLY__INIT;
    if (s_list_rows(w, res, &crm__v1__deal__descriptor, &r.deals, &r.n_deals, &r.next_page_token) ==
        0)
        crm_work_ok(w, &r.base);
}

static void s_deal_list(crm_work_t *w)
{
    const Crm__V1__ListDealsRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->pipeline_id, 0, "pipeline_id", &e) < 0 ||
        sales_check_id(rq->person_id, 0, "person_id", &e) < 0 ||
        sales_check_text(rq->stage, SALES_NAME_MAX, "stage", &e) < 0 ||
        sales_check_enum(&crm__v1__deal_status__descriptor, rq->status, 1, "status", &e) < 0 ||
        sales_check_date(rq->close_from, "close_from", &e) < 0 ||
        sales_check_date(rq->close_to, "close_to", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    s_list_t *l = s_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_deal_list(w, rq, &l->page, s_deals_listed);
}

/* ---- orders ---------------------------------------------------------------------------- */

static void s_order_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Order *o = crm_work_returned(w, &crm__v1__order__descriptor, res);
    if (!o || sales_emit_order_placed(w, o) < 0)
        return;
    Crm__V1__OrderReply r = CRM__V1__ORDER_REPLY__INIT;
    r.order = o;
    crm_work_ok(w, &r.base);
}

static void s_order_context(crm_work_t *w, PGresult *res)
{
    Crm__V1__Order *o = crm_work_data(w);
    if (!crm_db_get_bool(res, 0, 0))
        crm_work_fail_not_found(w, "order.person_id", "person", o->person_id,
                                "register the person with sales.person.register first");
    else if (!crm_db_get_bool(res, 0, 1))
        crm_work_fail_not_found(w, "order.organization_id", "organization", o->organization_id,
                                "create the organization with sales.org.create first");
    else if (!crm_db_get_bool(res, 0, 2))
        crm_work_fail_not_found(w, "order.deal_id", "deal", o->deal_id,
                                "list deals with sales.deal.list");
    else
        sales_store_order_insert(w, o, s_order_inserted);
}

static void s_order_create(crm_work_t *w)
{
    const Crm__V1__CreateOrderRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Order *src = rq->order;
    s_in_t in = {.w = w};
    Crm__V1__Order *o = crm_work_alloc(w, sizeof *o);
    char id[CRM_UUID_LEN + 1];
    int64_t total = 0;
    if (!o) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        s_invalid(w, "order", "order is required", "send a person and the items bought");
        return;
    }
    crm__v1__order__init(o);
    o->currency = s_array(&in, 4, 1);
    int rc = s_in_id(&in, src->person_id, 1, "order.person_id", &o->person_id);
    if (rc == 0)
        rc = s_in_id(&in, src->organization_id, 0, "order.organization_id", &o->organization_id);
    if (rc == 0)
        rc = s_in_id(&in, src->deal_id, 0, "order.deal_id", &o->deal_id);
    if (rc == 0)
        rc = sales_order_total(src->items, src->n_items, &total, &in.e);
    if (rc == 0 && src->total_minor && src->total_minor != total)
        rc =
            sales_err_set(&in.e, S_INVALID, "order.total_minor", "total does not match the items",
                          "leave total_minor at 0; the service computes it",
                          "got %" PRId64 ", the items add up to %" PRId64, src->total_minor, total);
    if (rc == 0 && o->currency)
        rc = sales_check_currency(src->currency, o->currency, "order.currency", &in.e);
    if (rc == 0 && src->ordered_at_us < 0)
        rc = sales_err_set(&in.e, S_INVALID, "order.ordered_at_us", "time is negative",
                           "send microseconds since the Unix epoch, or 0 for now", "got %" PRId64,
                           src->ordered_at_us);
    if (s_in_done(&in, rc) < 0)
        return;
    if (!o->currency[0])
        memcpy(o->currency, s_ctx(w)->currency, 4);
    Crm__V1__OrderItem **iv = s_array(&in, src->n_items, sizeof *iv);
    Crm__V1__OrderItem *items = s_array(&in, src->n_items, sizeof *items);
    for (size_t i = 0; iv && items && i < src->n_items; i++) {
        crm__v1__order_item__init(&items[i]);
        items[i].product_code = s_text(&in, src->items[i]->product_code);
        items[i].name = s_text(&in, src->items[i]->name);
        items[i].quantity = src->items[i]->quantity;
        items[i].unit_price_minor = src->items[i]->unit_price_minor;
        iv[i] = &items[i];
    }
    crm_uuid_new(id);
    o->id = s_copy(&in, id, strlen(id));
    if (s_in_done(&in, 0) < 0)
        return;
    o->items = iv;
    o->n_items = src->n_items;
    o->total_minor = total;
    o->ordered_at_us = src->ordered_at_us;
    crm_work_set_data(w, o);
    sales_store_order_context(w, o->person_id, o->organization_id, o->deal_id, s_order_context);
}

static void s_orders_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListOrdersReply r = CRM__V1__LIST_ORDERS_REPLY__INIT;
    if (s_list_rows(w, res, &crm__v1__order__descriptor, &r.orders, &r.n_orders,
                    &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

static void s_order_list(crm_work_t *w)
{
    const Crm__V1__ListOrdersRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->person_id, 0, "person_id", &e) < 0 ||
        sales_check_id(rq->organization_id, 0, "organization_id", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    s_list_t *l = s_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_order_list(w, rq, &l->page, s_orders_listed);
}

/* ---- activities --------------------------------------------------------------------- */

static void s_activity_reply(crm_work_t *w, Crm__V1__Activity *a)
{
    Crm__V1__ActivityReply r = CRM__V1__ACTIVITY_REPLY__INIT;
    r.activity = a;
    crm_work_ok(w, &r.base);
}

static void s_activity_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Activity *a = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (!a)
        return;
    int rc = a->status == CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED
                 ? sales_emit_activity_scheduled(w, a)
             : a->kind == CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_NOTE
                 ? sales_emit_note_added(w, a)
                 : sales_emit_activity_completed(w, a);
    if (rc == 0)
        s_activity_reply(w, a);
}

static void s_activity_context(crm_work_t *w, PGresult *res)
{
    Crm__V1__Activity *a = crm_work_data(w);
    if (!crm_db_get_bool(res, 0, 0)) {
        crm_work_fail_not_found(w, "activity.person_id", "person", a->person_id,
                                "register the person with sales.person.register first");
        return;
    }
    if (!crm_db_get_bool(res, 0, 1)) {
        crm_work_fail_not_found(w, "activity.deal_id", "deal", a->deal_id,
                                "list deals with sales.deal.list");
        return;
    }
    if (!*a->person_id) {
        const char *p = crm_db_get_opt(res, 0, 2);
        if (!p) {
            s_invalid(w, "activity.person_id", "activity needs a person",
                      "the deal has no person; send person_id");
            return;
        }
        if (!(a->person_id = crm_work_strdup(w, p))) {
            crm_work_fail_nomem(w);
            return;
        }
    }
    sales_store_activity_insert(w, a, 0, s_activity_inserted);
}

static void s_activity_add(crm_work_t *w, int scheduled)
{
    const Crm__V1__LogActivityRequest *rq = (const void *)crm_work_request(w);
    const Crm__V1__Activity *src = rq->activity;
    s_in_t in = {.w = w};
    Crm__V1__Activity *a = crm_work_alloc(w, sizeof *a);
    char id[CRM_UUID_LEN + 1];
    if (!a) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!src) {
        s_invalid(w, "activity", "activity is required",
                  "send its kind, a subject or body, and the person");
        return;
    }
    crm__v1__activity__init(a);
    int rc =
        sales_check_enum(&crm__v1__activity_kind__descriptor, src->kind, 0, "activity.kind", &in.e);
    if (rc == 0)
        rc = s_in_text(&in, src->subject, SALES_NAME_MAX, "activity.subject", &a->subject);
    if (rc == 0)
        rc = s_in_text(&in, src->body, SALES_BODY_MAX, "activity.body", &a->body);
    if (rc == 0 && !*a->subject && !*a->body)
        rc = sales_err_set(&in.e, S_INVALID, "activity.subject",
                           "activity needs a subject or a body", "say what it is about", NULL);
    if (rc == 0)
        rc = s_in_id(&in, src->person_id, 0, "activity.person_id", &a->person_id);
    if (rc == 0)
        rc = s_in_id(&in, src->deal_id, 0, "activity.deal_id", &a->deal_id);
    if (rc == 0 && !*a->person_id && !*a->deal_id)
        rc = sales_err_set(&in.e, S_INVALID, "activity.person_id", "activity.person_id is required",
                           "send the person it is with (or a deal that has one)", NULL);
    if (rc == 0)
        rc = s_in_text(&in, src->owner, SALES_NAME_MAX, "activity.owner", &a->owner);
    if (rc == 0)
        rc = s_in_text(&in, src->outcome, SALES_TEXT_MAX, "activity.outcome", &a->outcome);
    if (rc == 0)
        rc = s_in_text(&in, src->next_action, SALES_TEXT_MAX, "activity.next_action",
                       &a->next_action);
    if (rc == 0 && src->next_action_due_us < 0)
        rc = sales_err_set(&in.e, S_INVALID, "activity.next_action_due_us", "time is negative",
                           "send microseconds since the Unix epoch", "got %" PRId64,
                           src->next_action_due_us);
    if (rc == 0 && scheduled && src->due_at_us <= 0)
        rc = sales_err_set(&in.e, S_INVALID, "activity.due_at_us",
                           src->due_at_us ? "time is negative" : "activity.due_at_us is required",
                           "send when it falls due, in microseconds since the Unix epoch",
                           "got %" PRId64, src->due_at_us);
    if (s_in_done(&in, rc) < 0)
        return;
    a->kind = src->kind;
    a->status = scheduled ? CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED
                          : CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_DONE;
    a->due_at_us = scheduled ? src->due_at_us : 0;
    a->next_action_due_us = src->next_action_due_us;
    crm_uuid_new(id);
    if (!(a->id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return;
    }
    crm_work_set_data(w, a);
    sales_store_activity_context(w, a->person_id, a->deal_id, s_activity_context);
}

static void s_activity_log(crm_work_t *w)
{
    s_activity_add(w, 0);
}

static void s_activity_schedule(crm_work_t *w)
{
    s_activity_add(w, 1);
}

static void s_activity_completed(crm_work_t *w, PGresult *res)
{
    Crm__V1__Activity *a = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (a && sales_emit_activity_completed(w, a) == 0)
        s_activity_reply(w, a);
}

static void s_activity_complete_locked(crm_work_t *w, PGresult *res)
{
    Crm__V1__CompleteActivityRequest *rq = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_fail_not_found(w, "id", "activity", rq->id,
                                "list activities with sales.activity.list");
        return;
    }
    Crm__V1__Activity *a = SALES_ACTIVITY(w, crm_db_get_opt(res, 0, 0));
    if (!a) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (a->status != CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED) {
        crm_work_fail(w, S_CODE(FAILED_PRECONDITION), "id", "activity is already done",
                      crm_work_printf(w, "activity %s was completed", a->id),
                      "log a new activity for what happened since");
        return;
    }
    sales_store_activity_complete(w, rq, s_activity_completed);
}

static void s_activity_complete(crm_work_t *w)
{
    const Crm__V1__CompleteActivityRequest *rq = (const void *)crm_work_request(w);
    s_in_t in = {.w = w};
    Crm__V1__CompleteActivityRequest *c = crm_work_alloc(w, sizeof *c);
    if (!c) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__complete_activity_request__init(c);
    int rc = s_in_id(&in, rq->id, 1, "id", &c->id);
    if (rc == 0)
        rc = s_in_text(&in, rq->outcome, SALES_TEXT_MAX, "outcome", &c->outcome);
    if (rc == 0)
        rc = s_in_text(&in, rq->next_action, SALES_TEXT_MAX, "next_action", &c->next_action);
    if (rc == 0 && rq->next_action_due_us < 0)
        rc = sales_err_set(&in.e, S_INVALID, "next_action_due_us", "time is negative",
                           "send microseconds since the Unix epoch", "got %" PRId64,
                           rq->next_action_due_us);
    if (s_in_done(&in, rc) < 0)
        return;
    c->next_action_due_us = rq->next_action_due_us;
    crm_work_set_data(w, c);
    sales_store_activity_lock(w, c->id, s_activity_complete_locked);
}

static void s_activities_listed(crm_work_t *w, PGresult *res)
{
    Crm__V1__ListActivitiesReply r = CRM__V1__LIST_ACTIVITIES_REPLY__INIT;
    if (s_list_rows(w, res, &crm__v1__activity__descriptor, &r.activities, &r.n_activities,
                    &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

static void s_activity_list(crm_work_t *w)
{
    const Crm__V1__ListActivitiesRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_id(rq->person_id, 0, "person_id", &e) < 0 ||
        sales_check_id(rq->deal_id, 0, "deal_id", &e) < 0 ||
        sales_check_enum(&crm__v1__activity_status__descriptor, rq->status, 1, "status", &e) < 0) {
        s_fail(w, &e);
        return;
    }
    if (rq->due_before_us < 0) {
        s_invalid(w, "due_before_us", "time is negative",
                  "send microseconds since the Unix epoch, or 0 for no bound");
        return;
    }
    s_list_t *l = s_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_activity_list(w, rq, &l->page, s_activities_listed);
}

/* ---- the due scan (service-initiated) ------------------------------------------ */

static void s_due_found(crm_work_t *w, PGresult *res)
{
    sales_t *ctx = crm_work_data(w);
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        Crm__V1__Activity *a = SALES_ACTIVITY(w, crm_db_get_opt(res, i, 0));
        if (!a) {
            crm_work_fail_unreadable(w);
            return;
        }
        if (sales_emit_activity_due(w, a) < 0)
            return;
    }
    ctx->due_full = n >= SALES_DUE_BATCH;
    if (n > 0)
        crm_debug("sales.due", "%d activities fell due", n);
    crm_work_ok(w, NULL);
}

void sales_due_scan(crm_work_t *w)
{
    sales_store_activity_due(w, SALES_DUE_BATCH, s_due_found);
}

/* ---- consumer: people registered or updated by other services --------------- */

static void s_people_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__Person *src;
    unsigned bits = 0;
    s_in_t in = {.w = w};
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED) {
        src = ev->person_registered->person;
        bits = src ? sales_person_set_fields(src) : 0;
    } else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_PERSON_UPDATED) {
        src = ev->person_updated->person;
        for (size_t i = 0; i < ev->person_updated->n_changed_fields; i++)
            bits |= sales_person_field(ev->person_updated->changed_fields[i]);
    } else {
        crm_work_ok(w, NULL); /* not a profile event: nothing to apply */
        return;
    }
    if (!src || !crm_uuid_valid(src->id)) {
        crm_work_fail(w, S_INVALID, "person.id", "event has no valid person id",
                      src ? crm_work_printf(w, "got \"%s\"", src->id) : "no person",
                      "the producer must send the customer id");
        return;
    }
    Crm__V1__Person *p = crm_work_alloc(w, sizeof *p);
    if (!p) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__person__init(p);
    s_person_in(&in, src, "person", &bits, p, 0);
    if (in.oom) {
        crm_work_fail_nomem(w);
        return;
    }
    if (!(p->id = crm_work_strdup(w, src->id))) {
        crm_work_fail_nomem(w);
        return;
    }
    /* Last writer wins per field, by (event time, source); no event is
     * emitted, so profiles do not echo between services. */
    sales_store_person_merge(w, p, bits, ev->time_us, ev->source, src->created_at_us, NULL);
}

/* ---- consumer: marketing responses that show buying intent ------------------- */

typedef struct {
    const Crm__V1__CampaignResponseRecorded *r;
    char *email, *name, *campaign, *customer;
} s_intent_t;

static void s_intent_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Lead *l = crm_work_returned(w, &crm__v1__lead__descriptor, res);
    if (l && sales_emit_lead_created(w, l) == 0)
        crm_work_ok(w, NULL);
}

static void s_intent_context(crm_work_t *w, PGresult *res)
{
    s_intent_t *st = crm_work_data(w);
    sales_t *ctx = s_ctx(w);
    char id[CRM_UUID_LEN + 1];
    if (crm_db_get_bool(res, 0, 0)) {
        crm_work_ok(w, NULL); /* an open lead for this contact and campaign exists */
        return;
    }
    long long count = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    const char *pname = crm_db_get_opt(res, 0, 2), *pemail = crm_db_get_opt(res, 0, 3);
    Crm__V1__Lead *l = crm_work_alloc(w, sizeof *l);
    if (!l) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__lead__init(l);
    l->name = *st->name ? st->name : (char *)(pname ? pname : "");
    l->email = *st->email ? st->email : (char *)(pemail ? pemail : "");
    if (!*l->name && !*l->email) {
        crm_warn("sales.intent",
                 "response to campaign %s names no one (customer \"%s\");"
                 " no lead created",
                 st->campaign, st->customer);
        crm_work_ok(w, NULL);
        return;
    }
    crm_uuid_new(id);
    l->id = crm_work_strdup(w, id);
    l->source = CRM__V1__LEAD_SOURCE__LEAD_SOURCE_CAMPAIGN;
    l->campaign_id = st->campaign;
    l->status = CRM__V1__LEAD_STATUS__LEAD_STATUS_NEW;
    l->person_id = st->customer;
    /* Round robin over the configured owners, by campaign leads so far:
     * deterministic, so a replayed event assigns the same owner. */
    l->owner =
        ctx->n_lead_owners ? ctx->lead_owners[count % (long long)ctx->n_lead_owners] : (char *)"";
    const ProtobufCEnumValue *rv =
        protobuf_c_enum_descriptor_get_value(&crm__v1__response_type__descriptor, st->r->response);
    l->notes = crm_work_printf(
        w, "campaign response %s%s%s%s%s", rv ? rv->name + sizeof "RESPONSE_TYPE_" - 1 : "?",
        *st->r->channel ? " via " : "", st->r->channel, *st->r->note ? ": " : "", st->r->note);
    if (!l->id || !l->notes) {
        crm_work_fail_nomem(w);
        return;
    }
    sales_store_lead_insert(w, l, s_intent_inserted);
}

static void s_intent_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    s_in_t in = {.w = w};
    char email[SALES_EMAIL_LEN];
    if (ev->payload_case != CRM__V1__EVENT__PAYLOAD_CAMPAIGN_RESPONSE_RECORDED) {
        crm_work_ok(w, NULL);
        return;
    }
    const Crm__V1__CampaignResponseRecorded *r = ev->campaign_response_recorded;
    if (r->response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_INTERESTED &&
        r->response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_DEMO_REQUESTED &&
        r->response != CRM__V1__RESPONSE_TYPE__RESPONSE_TYPE_CONVERTED) {
        crm_work_ok(w, NULL); /* no buying intent */
        return;
    }
    s_intent_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    st->r = r;
    if (s_in_required(&in, r->campaign_id, SALES_NAME_MAX, "campaign_id", &st->campaign) < 0) {
        s_in_done(&in, -1); /* dead letter: a response must name its campaign */
        return;
    }
    st->email = (char *)"";
    if (*r->email && sales_check_email(r->email, email, sizeof email, "email", &in.e) == 0)
        st->email = s_copy(&in, email, strlen(email));
    st->name = (char *)"";
    if (sales_check_text(r->name, SALES_NAME_MAX, "name", &in.e) == 0)
        st->name = s_text(&in, r->name);
    st->customer = (char *)(crm_uuid_valid(r->customer_id) ? r->customer_id
                            : crm_uuid_valid(ev->subject)  ? ev->subject
                                                           : "");
    if (s_in_done(&in, 0) < 0)
        return;
    crm_work_set_data(w, st);
    sales_store_intent_context(w, st->email, st->customer, st->campaign, s_intent_context);
}

/* ---- follow-up tasks: churn risk, complaints, data-quality findings -------------- */

/* Inserts a scheduled TASK about `person_id` (and `deal_id`, NULL or ""
 * for none) for `owner`, due SALES_FOLLOWUP_HOURS from now; `cb` gets the
 * inserted activity as JSON. The strings must outlive the work. Returns
 * 0, or negative after failing the work. */
static int s_task_insert(crm_work_t *w, char *subject, char *body, char *person_id, char *deal_id,
                         char *owner, crm_work_cb cb)
{
    Crm__V1__Activity *a = crm_work_alloc(w, sizeof *a);
    char id[CRM_UUID_LEN + 1];
    if (!a) {
        crm_work_fail_nomem(w);
        return -1;
    }
    crm__v1__activity__init(a);
    crm_uuid_new(id);
    a->id = crm_work_strdup(w, id);
    a->kind = CRM__V1__ACTIVITY_KIND__ACTIVITY_KIND_TASK;
    a->subject = subject;
    a->body = body;
    a->person_id = person_id;
    a->deal_id = deal_id ? deal_id : "";
    a->owner = owner;
    a->status = CRM__V1__ACTIVITY_STATUS__ACTIVITY_STATUS_SCHEDULED;
    if (!a->id) {
        crm_work_fail_nomem(w);
        return -1;
    }
    return sales_store_activity_insert(w, a, s_ctx(w)->followup_us, cb);
}

/* ---- consumer: churn risk and complaints on customers with an open deal ------- */

typedef struct {
    char *subject, *body;
} s_risk_t;

static void s_risk_inserted(crm_work_t *w, PGresult *res)
{
    Crm__V1__Activity *a = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (a && sales_emit_activity_scheduled(w, a) == 0)
        crm_work_ok(w, NULL);
}

static void s_risk_deal(crm_work_t *w, PGresult *res)
{
    s_risk_t *st = crm_work_data(w);
    if (PQntuples(res) == 0) {
        crm_work_ok(w, NULL); /* no open deal: nothing to follow up */
        return;
    }
    Crm__V1__Deal *d = SALES_DEAL(w, crm_db_get_opt(res, 0, 0));
    if (!d) {
        crm_work_fail_unreadable(w);
        return;
    }
    s_task_insert(w, st->subject, st->body, d->person_id, d->id, d->owner, s_risk_inserted);
}

/* A subject of at most SALES_NAME_MAX bytes, cut at a character boundary. */
static char *s_subject(crm_work_t *w, const char *text)
{
    size_t n = strlen(text);
    if (n > SALES_NAME_MAX) {
        n = SALES_NAME_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    return crm_work_printf(w, "%.*s", (int)n, text);
}

static void s_risk_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const char *customer = NULL;
    char *subject = NULL, *body = NULL;
    if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_CHURN_RISK_RAISED) {
        const Crm__V1__ChurnRiskRaised *c = ev->churn_risk_raised;
        customer = *c->customer_id ? c->customer_id : ev->subject;
        subject = s_subject(
            w, crm_work_printf(w, "Follow up: churn risk raised (score %d)", (int)c->score));
        body = crm_work_printf(w, "Analytics raised the churn risk of this customer to %d.",
                               (int)c->score);
        for (size_t i = 0; body && i < c->n_reasons; i++)
            body = crm_work_printf(w, "%s%s %s", body, i ? ";" : " Reasons:", c->reasons[i]);
    } else if (ev->payload_case == CRM__V1__EVENT__PAYLOAD_TICKET_OPENED) {
        const Crm__V1__TicketOpened *t = ev->ticket_opened;
        if (t->type != CRM__V1__TICKET_TYPE__TICKET_TYPE_COMPLAINT) {
            crm_work_ok(w, NULL); /* only complaints put a deal at risk */
            return;
        }
        customer = *t->customer_id ? t->customer_id : ev->subject;
        subject = s_subject(
            w, crm_work_printf(w, "Follow up: complaint ticket %s: %s", t->ticket_id, t->subject));
        body = crm_work_printf(w, "The customer opened complaint ticket %s (priority %s): %s",
                               t->ticket_id, *t->priority ? t->priority : "none", t->subject);
    } else {
        crm_work_ok(w, NULL);
        return;
    }
    if (!crm_uuid_valid(customer)) {
        crm_warn("sales.risk", "%s event %s names no valid customer (\"%s\"); ignored", ev->type,
                 ev->id, customer);
        crm_work_ok(w, NULL);
        return;
    }
    s_risk_t *st = crm_work_alloc(w, sizeof *st);
    if (!st || !subject || !body) {
        crm_work_fail_nomem(w);
        return;
    }
    st->subject = subject;
    st->body = body;
    crm_work_set_data(w, st);
    sales_store_open_deal(w, customer, s_risk_deal);
}

/* ---- consumer: data-quality findings become tasks for their owner ------------- */

/* The finding kinds analytics publishes (docs/analytics.md, "Data
 * quality") and the task subject each becomes. */
static const struct {
    const char *kind, *subject;
} s_dq_kinds[] = {
    {"unreachable", "Data quality: find a way to reach this person"},
    {"duplicate", "Data quality: check a likely duplicate person"},
    {"not_contacted", "Data quality: nobody contacted this person in twelve months"},
    {"deal_without_next_step", "Data quality: give this open deal a next step"},
    {"overdue_activity", "Data quality: overdue activity"},
};

typedef struct {
    const char *kind, *subject;
    char *record, *detail;
} s_dq_t;

static void s_dq_recorded(crm_work_t *w, PGresult *res)
{
    (void)res;
    crm_work_ok(w, NULL);
}

static void s_dq_inserted(crm_work_t *w, PGresult *res)
{
    s_dq_t *st = crm_work_data(w);
    Crm__V1__Activity *a = crm_work_returned(w, &crm__v1__activity__descriptor, res);
    if (!a || sales_emit_activity_scheduled(w, a) < 0)
        return;
    sales_store_dq_task_put(w, st->kind, st->record, a->id, s_dq_recorded);
}

static void s_dq_target(crm_work_t *w, PGresult *res)
{
    s_dq_t *st = crm_work_data(w);
    const Crm__V1__Event *ev = crm_work_event(w);
    if (PQntuples(res) == 0) {
        /* The record is not (yet) in sales, a deal has no person to hang
         * a task on, or the finding went stale while it travelled (the
         * deal closed or got a next step, the activity was done): nothing
         * to do, said once in the log. */
        crm_warn("sales.quality",
                 "finding %s on %s (event %s): no such record in sales, or it no longer holds;"
                 " ignored",
                 st->kind, st->record, ev->id);
        crm_work_ok(w, NULL);
        return;
    }
    if (crm_db_get_opt(res, 0, 3)[0] == 't') {
        crm_work_ok(w, NULL); /* the same finding published again: one task is enough */
        return;
    }
    char *body =
        crm_work_printf(w, "Analytics found: %s (%s %s).", st->detail, st->kind, st->record);
    char *person = crm_work_strdup(w, crm_db_get_opt(res, 0, 0));
    char *deal = crm_work_strdup(w, crm_db_get_opt(res, 0, 1));
    char *owner = crm_work_strdup(w, crm_db_get_opt(res, 0, 2));
    char *subject = s_subject(w, st->subject);
    if (!body || !person || !deal || !owner || !subject) {
        crm_work_fail_nomem(w);
        return;
    }
    s_task_insert(w, subject, body, person, deal, owner, s_dq_inserted);
}

static void s_quality_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    if (ev->payload_case != CRM__V1__EVENT__PAYLOAD_DATA_QUALITY_ISSUE_FOUND) {
        crm_work_ok(w, NULL);
        return;
    }
    const Crm__V1__DataQualityIssueFound *f = ev->data_quality_issue_found;
    if (strcmp(f->owning_team, "sales") != 0) {
        crm_work_ok(w, NULL); /* another team's work */
        return;
    }
    const char *subject = NULL;
    for (size_t i = 0; i < sizeof s_dq_kinds / sizeof s_dq_kinds[0]; i++)
        if (!strcmp(f->kind, s_dq_kinds[i].kind))
            subject = s_dq_kinds[i].subject;
    if (!subject || !crm_uuid_valid(f->record_id)) {
        crm_warn("sales.quality",
                 "%s event %s: unknown kind \"%s\" or invalid record id \"%s\"; ignored", ev->type,
                 ev->id, f->kind, f->record_id);
        crm_work_ok(w, NULL);
        return;
    }
    s_dq_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    st->kind = f->kind;
    st->subject = subject;
    st->record = f->record_id;
    st->detail = *f->detail ? f->detail : "no detail";
    crm_work_set_data(w, st);
    sales_store_dq_target(w, f->kind, f->record_id, s_ctx(w)->dq_owner, s_dq_target);
}

/* ---- tables -------------------------------------------------------------------------- */

#define S_CMD(name, msg, fn, ro)                                                                   \
    {                                                                                              \
        name, &crm__v1__##msg##__descriptor, fn, ro                                                \
    }

const crm_command_def_t sales_commands[] = {
    S_CMD("sales.person.register", register_person_request, s_person_register, 0),
    S_CMD("sales.person.show", show_person_request, s_person_show, 1),
    S_CMD("sales.person.update", update_person_request, s_person_update, 0),
    S_CMD("sales.person.list", list_people_request, s_person_list, 1),
    S_CMD("sales.org.create", create_organization_request, s_org_create, 0),
    S_CMD("sales.org.show", show_organization_request, s_org_show, 1),
    S_CMD("sales.org.list", list_organizations_request, s_org_list, 1),
    S_CMD("sales.lead.create", create_lead_request, s_lead_create, 0),
    S_CMD("sales.lead.qualify", qualify_lead_request, s_lead_qualify, 0),
    S_CMD("sales.lead.convert", convert_lead_request, s_lead_convert, 0),
    S_CMD("sales.lead.disqualify", disqualify_lead_request, s_lead_disqualify, 0),
    S_CMD("sales.lead.list", list_leads_request, s_lead_list, 1),
    S_CMD("sales.pipeline.create", create_pipeline_request, s_pipeline_create, 0),
    S_CMD("sales.pipeline.list", list_pipelines_request, s_pipeline_list, 1),
    S_CMD("sales.deal.create", create_deal_request, s_deal_create, 0),
    S_CMD("sales.deal.stage", move_deal_request, s_deal_stage, 0),
    S_CMD("sales.deal.win", win_deal_request, s_deal_win, 0),
    S_CMD("sales.deal.lose", lose_deal_request, s_deal_lose, 0),
    S_CMD("sales.deal.show", show_deal_request, s_deal_show, 1),
    S_CMD("sales.deal.list", list_deals_request, s_deal_list, 1),
    S_CMD("sales.order.create", create_order_request, s_order_create, 0),
    S_CMD("sales.order.list", list_orders_request, s_order_list, 1),
    S_CMD("sales.activity.log", log_activity_request, s_activity_log, 0),
    S_CMD("sales.activity.schedule", log_activity_request, s_activity_schedule, 0),
    S_CMD("sales.activity.complete", complete_activity_request, s_activity_complete, 0),
    S_CMD("sales.activity.list", list_activities_request, s_activity_list, 1),
    {NULL, NULL, NULL, 0},
};

static const char *const s_people_prefixes[] = {"crm.marketing.person.", "crm.support.person.",
                                                "crm.analytics.person.", NULL};
static const char *const s_intent_prefixes[] = {"crm.marketing.response.", NULL};
static const char *const s_risk_prefixes[] = {"crm.analytics.customer.churn_risk_raised.",
                                              "crm.support.ticket.opened.", NULL};
static const char *const s_quality_prefixes[] = {"crm.analytics.data_quality.issue_found.", NULL};

const crm_consumer_def_t sales_consumers[] = {
    {"sales.people", s_people_prefixes, s_people_apply},
    {"sales.intent", s_intent_prefixes, s_intent_apply},
    {"sales.risk", s_risk_prefixes, s_risk_apply},
    {"sales.quality", s_quality_prefixes, s_quality_apply},
    {NULL, NULL, NULL},
};
