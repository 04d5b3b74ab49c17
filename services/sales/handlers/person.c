/* handlers/person.c: people: register, show, update and list, and the
 * consumer that applies the person events of the other services by id
 * (last writer wins per field, nothing emitted back). The one place that
 * reads a Person from a request or a peer's event (s_person_in). */
#include "handlers.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* A list of normalised, distinct emails (or phones) into *out. */
static int s_in_contacts(sales_in_t *in, char *const *src, size_t n, const char *prefix, int phones,
                         char ***out, size_t *n_out)
{
    char field[160], buf[SALES_EMAIL_LEN];
    if (n > SALES_LIST_MAX) {
        snprintf(field, sizeof field, "%s.%s", prefix, phones ? "phones" : "emails");
        return sales_err_set(&in->e, SALES_INVALID, field, "too many values", "send at most 50",
                             "got %zu", n);
    }
    char **v = sales_in_array(in, n, sizeof *v);
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
            v[k++] = sales_in_copy(in, buf, strlen(buf));
    }
    *out = v;
    *n_out = k;
    return 0;
}

/* Whether s is NULL or only white space (a fax number cleared). */
static int s_blank_text(const char *s)
{
    const char *t;
    return sales_trim(s, &t) == 0;
}

/* One field (bit number i) of a person from src into dst. */
static int s_person_field(sales_in_t *in, const Crm__V1__Person *src, int i, const char *prefix,
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
        return sales_in_text(in, src->name, SALES_NAME_MAX, field, &dst->name);
    case SALES_PF_EMAILS:
        return s_in_contacts(in, src->emails, src->n_emails, prefix, 0, &dst->emails,
                             &dst->n_emails);
    case SALES_PF_PHONES:
        return s_in_contacts(in, src->phones, src->n_phones, prefix, 1, &dst->phones,
                             &dst->n_phones);
    case SALES_PF_ORGANIZATION_ID:
        return sales_in_id(in, src->organization_id, 0, field, &dst->organization_id);
    case SALES_PF_TITLE:
        return sales_in_text(in, src->title, SALES_NAME_MAX, field, &dst->title);
    case SALES_PF_ADDRESS:
        return sales_in_text(in, src->address, SALES_TEXT_MAX, field, &dst->address);
    case SALES_PF_FAX: {
        char buf[SALES_PHONE_LEN];
        if (s_blank_text(src->fax)) {
            dst->fax = "";
            return 0;
        }
        if (sales_check_phone(src->fax, buf, sizeof buf, field, &in->e) < 0)
            return -1;
        dst->fax = sales_in_copy(in, buf, strlen(buf));
        return 0;
    }
    case SALES_PF_COUNTRY: {
        char c[3];
        if (sales_check_country(src->country, c, field, &in->e) < 0)
            return -1;
        dst->country = sales_in_copy(in, c, strlen(c));
        return 0;
    }
    case SALES_PF_INDUSTRY:
        return sales_in_text(in, src->industry, SALES_NAME_MAX, field, &dst->industry);
    case SALES_PF_TAGS:
        return sales_in_tags(in, src->tags, src->n_tags, prefix, &dst->tags, &dst->n_tags);
    case SALES_PF_OWNER:
        return sales_in_text(in, src->owner, SALES_NAME_MAX, field, &dst->owner);
    case SALES_PF_CUSTOM_FIELDS: {
        if (src->n_custom_fields > SALES_LIST_MAX)
            return sales_err_set(&in->e, SALES_INVALID, field, "too many custom fields",
                                 "send at most 50", "got %zu", src->n_custom_fields);
        size_t n = src->n_custom_fields;
        Crm__V1__CustomField **v = sales_in_array(in, n, sizeof *v);
        Crm__V1__CustomField *cf = sales_in_array(in, n, sizeof *cf);
        for (size_t k = 0; v && cf && k < n; k++) {
            const char *t;
            size_t len;
            snprintf(field, sizeof field, "%s.custom_fields[%zu].key", prefix, k);
            if (sales_check_tag(src->custom_fields[k]->key, &t, &len, field, &in->e) < 0)
                return -1;
            crm__v1__custom_field__init(&cf[k]);
            cf[k].key = sales_in_copy(in, t, len);
            for (size_t j = 0; j < k; j++)
                if (!strcmp(cf[j].key, cf[k].key))
                    return sales_err_set(&in->e, SALES_INVALID, field,
                                         "custom field key is repeated", "send each key once",
                                         "got \"%s\"", cf[k].key);
            snprintf(field, sizeof field, "%s.custom_fields[%zu].value", prefix, k);
            if (sales_in_text(in, src->custom_fields[k]->value, SALES_TEXT_MAX, field,
                              &cf[k].value) < 0)
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
static int s_person_in(sales_in_t *in, const Crm__V1__Person *src, const char *prefix,
                       unsigned *bits, Crm__V1__Person *dst, int strict)
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

typedef struct {
    Crm__V1__Person p;
    unsigned set;
    int64_t version_us; /* the registration's field versions */
} s_person_st_t;

static void s_person_reply(crm_work_t *w, Crm__V1__Person *p, int created)
{
    Crm__V1__PersonReply r = CRM__V1__PERSON_REPLY__INIT;
    r.person = p;
    r.created = created;
    crm_work_ok(w, &r.base);
}

/* What the statement answered for registration st in row `row` of res
 * (columns 1 to 5 of the run's, 0 to 4 of one command's, from `col`). */
static void s_registered(crm_work_t *w, s_person_st_t *st, PGresult *res, int row, int col)
{
    if (!PQgetisnull(res, row, col)) {
        /* One person per email: the known person is the answer. */
        Crm__V1__Person *p = SALES_PERSON(w, crm_db_get_opt(res, row, col));
        if (!p) {
            crm_work_fail_unreadable(w);
            return;
        }
        /* Out of reach: the email is taken, and that is all it says. */
        if (!crm_work_may(w, CRM_REC_PERSON, CRM_ACT_READ, p->owner)) {
            crm_work_fail(
                w, SALES_CODE(ALREADY_EXISTS), "person.emails", "email belongs to another person",
                "that person is not among the records you may read", "ask its owner or a manager");
            return;
        }
        s_person_reply(w, p, 0);
        return;
    }
    if (!crm_db_get_bool(res, row, col + 1)) {
        crm_work_fail_not_found(w, "person.organization_id", "organization", st->p.organization_id,
                                "create the organization first, or leave organization_id empty");
        return;
    }
    /* Not inserted: the id exists already (a peer registered the same
     * email a moment ago, or the address was removed from that person);
     * that row is the answer. */
    int created = crm_db_get_bool(res, row, col + 3);
    if (!PQgetisnull(res, row, col + 2)) {
        Crm__V1__Person *p = SALES_PERSON(w, crm_db_get_opt(res, row, col + 2));
        if (!p) {
            crm_work_fail_unreadable(w);
            return;
        }
        if (created && sales_emit_person_registered(w, p) < 0)
            return;
        s_person_reply(w, p, created);
        return;
    }
    /* Inserted as sent: the row holds exactly the values sent (sales_store_
     * person_register), so the person is those and the instants the
     * database stamped, not a JSON of the row built and parsed back
     * (sql/0016). */
    Crm__V1__Person *p = &st->p;
    p->created_at_us = p->updated_at_us = crm_db_get_int(res, row, col + 4);
    p->registered_by = (char *)crm_service_name(crm_work_service(w));
    if (!p->kind)
        p->kind = CRM__V1__PERSON_KIND__PERSON_KIND_PROSPECT;
    /* the uuid column answers the canonical lower-case form */
    for (char *c = p->organization_id; c && *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (sales_emit_person_registered(w, p) < 0)
        return;
    s_person_reply(w, p, 1);
}

static void s_register_done(crm_work_t *w, PGresult *res)
{
    s_registered(w, crm_work_data(w), res, 0, 0);
}

/* The registration w asks for, checked, with its id; or NULL with w
 * failed. */
static s_person_st_t *s_register_read(crm_work_t *w)
{
    const Crm__V1__RegisterPersonRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    s_person_st_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    if (!rq->person) {
        sales_invalid(w, "person", "person is required", "send at least a name or an email");
        return NULL;
    }
    crm__v1__person__init(&st->p);
    st->set = sales_person_set_fields(rq->person) | SALES_PF_KIND;
    if (sales_in_done(&in, s_person_in(&in, rq->person, "person", &st->set, &st->p, 1)) < 0)
        return NULL;
    if (!*st->p.name && !st->p.n_emails) {
        sales_invalid(w, "person.name", "person needs a name or an email",
                      "send a name, an email or both; everything else is optional");
        return NULL;
    }
    if (sales_owner(w, CRM_REC_PERSON, CRM_ACT_CREATE, "person.owner", &st->p.owner) < 0)
        return NULL;
    if (*st->p.owner)
        st->set |= SALES_PF_OWNER;
    char id[CRM_UUID_LEN + 1];
    if (st->p.n_emails)
        crm_customer_id_for_email(st->p.emails[0], id);
    else
        crm_uuid_new(id);
    if (!(st->p.id = crm_work_strdup(w, id))) {
        crm_work_fail_nomem(w);
        return NULL;
    }
    st->version_us = crm_now_us();
    return st;
}

void sales_person_register(crm_work_t *w)
{
    s_person_st_t *st = s_register_read(w);
    if (!st)
        return;
    crm_work_set_data(w, st);
    sales_store_person_register(w, &st->p, st->set, st->version_us,
                                crm_service_name(crm_work_service(w)), s_register_done);
}

/* ---- sales.person.register's set-based form ----------------------------------- */

static void s_runs_registered(crm_work_t *lead, PGresult *res)
{
    sales_run_t *run = sales_run_answered(lead, res);
    for (size_t i = 0; run && i < run->n; i++)
        s_registered(run->works[i], run->recs[i], res, (int)i, 1);
}

/* A run of registrations (crm_command_batch_fn): each checked as
 * sales.person.register checks it (a bad one is refused alone, before the
 * statement), then all of them looked up and inserted by one statement
 * over arrays (sql/0022); each gets its own reply and event from its row.
 * No two share an id or an email (commands.c keys them), so each one's
 * lookup sees what it would see alone. A run of one takes the one-command
 * statement, as does the retry of a failed run. */
void sales_person_register_run(crm_work_t *const *works, size_t n)
{
    sales_run_t *run = sales_run_new(works, n);
    if (!run)
        return;
    for (size_t i = 0; i < n; i++) {
        s_person_st_t *st = s_register_read(works[i]);
        if (st)
            sales_run_add(run, works[i], st);
    }
    const char *source = run->n ? crm_service_name(crm_work_service(run->works[0])) : NULL;
    if (run->n == 1) {
        s_person_st_t *st = run->recs[0];
        crm_work_set_data(run->works[0], st);
        sales_store_person_register(run->works[0], &st->p, st->set, st->version_us, source,
                                    s_register_done);
        return;
    }
    if (run->n == 0)
        return;
    const Crm__V1__Person **people = crm_work_alloc(run->works[0], run->n * sizeof *people);
    unsigned *changed = crm_work_alloc(run->works[0], run->n * sizeof *changed);
    int64_t *versions = crm_work_alloc(run->works[0], run->n * sizeof *versions);
    if (!people || !changed || !versions) {
        for (size_t i = 0; i < run->n; i++)
            crm_work_fail_nomem(run->works[i]);
        return;
    }
    for (size_t i = 0; i < run->n; i++) {
        const s_person_st_t *st = run->recs[i];
        people[i] = &st->p;
        changed[i] = st->set;
        versions[i] = st->version_us;
    }
    crm_work_set_data(run->works[0], run);
    sales_store_person_register_run(run->works[0], people, changed, versions, run->n, source,
                                    s_runs_registered);
}

static void s_person_found(crm_work_t *w, PGresult *res)
{
    const Crm__V1__ShowPersonRequest *rq = (const void *)crm_work_request(w);
    Crm__V1__Person *p = NULL;
    if (PQntuples(res) > 0 && !(p = crm_work_returned(w, &crm__v1__person__descriptor, res)))
        return;
    if (!p || !crm_work_may(w, CRM_REC_PERSON, CRM_ACT_READ, p->owner)) {
        if (*rq->id)
            crm_work_fail_not_found(w, "id", "person", rq->id,
                                    "list people with sales.person.list");
        else
            crm_work_fail(w, SALES_CODE(NOT_FOUND), "email", "no person has this email",
                          crm_work_printf(w, "got \"%s\"", rq->email),
                          "register the person with sales.person.register");
        return;
    }
    s_person_reply(w, p, 0);
}

void sales_person_show(crm_work_t *w)
{
    const Crm__V1__ShowPersonRequest *rq = (const void *)crm_work_request(w);
    sales_in_t in = {.w = w};
    char email[SALES_EMAIL_LEN] = "";
    char *id = (char *)"";
    int rc = 0;
    if (!*rq->id && !*rq->email) {
        sales_invalid(w, "id", "id or email is required",
                      "send the person's id or one of its emails");
        return;
    }
    if (*rq->id)
        rc = sales_in_id(&in, rq->id, 1, "id", &id);
    else
        rc = sales_check_email(rq->email, email, sizeof email, "email", &in.e);
    if (sales_in_done(&in, rc) < 0)
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
    Crm__V1__Person *cur = PQntuples(res) ? SALES_PERSON(w, crm_db_get_opt(res, 0, 0)) : NULL;
    if (PQntuples(res) && !cur) {
        crm_work_fail_unreadable(w);
        return;
    }
    if (!cur || !crm_work_may(w, CRM_REC_PERSON, CRM_ACT_EDIT, cur->owner)) {
        crm_work_fail_not_found(w, "id", "person", st->p.id, "list people with sales.person.list");
        return;
    }
    if (crm_db_get_bool(res, 0, 3)) {
        /* Erasure is final (handlers/erasure.c): no one fills it in again. */
        crm_work_fail(w, SALES_CODE(FAILED_PRECONDITION), "id", "person is erased",
                      crm_work_printf(w, "person %s was erased", st->p.id),
                      "register the person anew, under an email of theirs");
        return;
    }
    if ((st->set & SALES_PF_OWNER) &&
        sales_owner(w, CRM_REC_PERSON, CRM_ACT_EDIT, "person.owner", &st->p.owner) < 0)
        return;
    if (!PQgetisnull(res, 0, 1)) {
        crm_work_fail(
            w, SALES_CODE(ALREADY_EXISTS), "person.emails", "email belongs to another person",
            crm_work_printf(w, "person %s has one of these emails", crm_db_get_opt(res, 0, 1)),
            "an email identifies one person; remove it there first");
        return;
    }
    if (!crm_db_get_bool(res, 0, 2)) {
        crm_work_fail_not_found(w, "person.organization_id", "organization", st->p.organization_id,
                                "create the organization first, or leave organization_id empty");
        return;
    }
    const char *name = st->set & SALES_PF_NAME ? st->p.name : cur->name;
    size_t n_emails = st->set & SALES_PF_EMAILS ? st->p.n_emails : cur->n_emails;
    if (!*name && n_emails == 0) {
        sales_invalid(w, "person", "person needs a name or an email",
                      "keep a name or an email when clearing the other");
        return;
    }
    sales_store_person_update(w, &st->p, st->set, crm_now_us(),
                              crm_service_name(crm_work_service(w)), s_update_done);
}

void sales_person_update(crm_work_t *w)
{
    const Crm__V1__UpdatePersonRequest *rq = (const void *)crm_work_request(w);
    static const Crm__V1__Person empty = CRM__V1__PERSON__INIT;
    const Crm__V1__Person *src = rq->person ? rq->person : &empty;
    sales_in_t in = {.w = w};
    s_person_st_t *st = crm_work_alloc(w, sizeof *st);
    if (!st) {
        crm_work_fail_nomem(w);
        return;
    }
    crm__v1__person__init(&st->p);
    int rc = sales_in_id(&in, rq->id, 1, "id", &st->p.id);
    if (rc == 0)
        rc = sales_person_mask(rq->update_mask, rq->n_update_mask, &st->set, &in.e);
    if (rc == 0)
        rc = s_person_in(&in, src, "person", &st->set, &st->p, 1);
    if (sales_in_done(&in, rc) < 0)
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
    if (sales_list_rows(w, res, &crm__v1__person__descriptor, &r.people, &r.n_people,
                        &r.next_page_token) == 0)
        crm_work_ok(w, &r.base);
}

void sales_person_list(crm_work_t *w)
{
    const Crm__V1__ListPeopleRequest *rq = (const void *)crm_work_request(w);
    sales_err_t e;
    if (sales_check_enum(&crm__v1__person_kind__descriptor, rq->kind, 1, "kind", &e) < 0 ||
        sales_check_id(rq->organization_id, 0, "organization_id", &e) < 0 ||
        sales_check_text(rq->query, SALES_NAME_MAX, "query", &e) < 0) {
        sales_fail(w, &e);
        return;
    }
    sales_list_t *l = sales_list_start(w, rq->page_size, rq->page_token);
    if (l)
        sales_store_person_list(w, rq, &l->page, s_people_listed);
}

/* ---- consumer: people registered or updated by other services --------------- */

void sales_people_apply(crm_work_t *w)
{
    const Crm__V1__Event *ev = crm_work_event(w);
    const Crm__V1__Person *src;
    unsigned bits = 0;
    sales_in_t in = {.w = w};
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
        crm_work_fail(w, SALES_INVALID, "person.id", "event has no valid person id",
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
