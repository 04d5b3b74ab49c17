/* test_erase.c: the erasure rule on messages (crm/erase.h): personal
 * fields of an event about the person become the marker, the person's
 * strings become it anywhere, an event about someone else keeps its
 * personal fields, and an event read back from its JSON (as analytics
 * keeps it) is erased exactly as the stored event is. */
#include <crm/erase.h>
#include <crm/input.h>
#include <crm/pbjson.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crm/v1/event.pb-c.h"
#include "crm/v1/person.pb-c.h"
#include "crm/v1/sales.pb-c.h"

#define ID "0b9a4c2e-1f4e-5a8b-9c3d-2e1f0a9b8c7d"

static const char *const s_pii[] = {"Ada Lovelace", "ada@example.org", "+442071234567"};

/* A tiny arena: everything freed at the end of the test. */
static void *s_blocks[4096];
static size_t s_nblocks;
static void *s_alloc(void *d, size_t n)
{
    (void)d;
    void *p = calloc(1, n ? n : 1);
    if (p && s_nblocks < 4096)
        s_blocks[s_nblocks++] = p;
    return p;
}
static void s_nofree(void *d, void *p)
{
    (void)d;
    (void)p;
}
static ProtobufCAllocator s_arena = {s_alloc, s_nofree, NULL};
static void s_arena_free(void)
{
    while (s_nblocks)
        free(s_blocks[--s_nblocks]);
}

static Crm__V1__Event *s_registered(const char *subject)
{
    static Crm__V1__CustomField cf = CRM__V1__CUSTOM_FIELD__INIT;
    static Crm__V1__CustomField *cfs[] = {&cf};
    static char *emails[] = {(char *)"ada@example.org"};
    static char *phones[] = {(char *)"+442071234567"};
    static Crm__V1__Person p = CRM__V1__PERSON__INIT;
    static Crm__V1__PersonRegistered pl = CRM__V1__PERSON_REGISTERED__INIT;
    static Crm__V1__Event ev = CRM__V1__EVENT__INIT;
    cf.key = (char *)"hobby";
    cf.value = (char *)"chess";
    p.id = (char *)subject;
    p.name = (char *)"Ada Lovelace";
    p.emails = emails;
    p.n_emails = 1;
    p.phones = phones;
    p.n_phones = 1;
    p.title = (char *)"Countess";
    p.address = (char *)"12 St James's Square";
    p.custom_fields = cfs;
    p.n_custom_fields = 1;
    p.country = (char *)"GB";
    pl.person = &p;
    ev.type = (char *)"crm.sales.person.registered.v1";
    ev.subject = (char *)subject;
    ev.payload_case = CRM__V1__EVENT__PAYLOAD_PERSON_REGISTERED;
    ev.person_registered = &pl;
    /* A copy through the wire, so the test changes its own message. */
    size_t n = crm__v1__event__get_packed_size(&ev);
    uint8_t *buf = s_alloc(NULL, n);
    crm__v1__event__pack(&ev, buf);
    return crm__v1__event__unpack(&s_arena, n, buf);
}

static void test_event_about_the_person(void **state)
{
    (void)state;
    Crm__V1__Event *ev = s_registered(ID);
    assert_true(crm_erase_event(ev, &s_arena, ID, s_pii, 3) > 0);
    const Crm__V1__Person *p = ev->person_registered->person;
    assert_string_equal(p->name, CRM_ERASED);
    assert_string_equal(p->emails[0], CRM_ERASED);
    assert_string_equal(p->phones[0], CRM_ERASED);
    assert_string_equal(p->title, CRM_ERASED);
    assert_string_equal(p->address, CRM_ERASED);
    assert_string_equal(p->custom_fields[0]->key, "hobby");
    assert_string_equal(p->custom_fields[0]->value, CRM_ERASED);
    assert_string_equal(p->country, "GB"); /* not personal: kept */
    /* Twice changes nothing more. */
    assert_int_equal(crm_erase_event(ev, &s_arena, ID, s_pii, 3), 0);
    s_arena_free();
}

static void test_someone_else_keeps_their_fields(void **state)
{
    (void)state;
    Crm__V1__Event *ev = s_registered("11111111-2222-3333-4444-555555555555");
    static const char *const other[] = {"Charles Babbage", "ADA@example.org"};
    /* Only the strings go (any case), in any field. */
    assert_int_equal(crm_erase_event(ev, &s_arena, ID, other, 2), 1);
    const Crm__V1__Person *p = ev->person_registered->person;
    assert_string_equal(p->name, "Ada Lovelace");
    assert_string_equal(p->emails[0], CRM_ERASED);
    assert_string_equal(p->title, "Countess");
    s_arena_free();
}

static void test_json_round_trip_erases_alike(void **state)
{
    (void)state;
    Crm__V1__Event *stored = s_registered(ID);
    json_t *j = crm_pbjson_from_message(&stored->base);
    assert_non_null(j);
    assert_true(crm_erase_event(stored, &s_arena, ID, s_pii, 3) > 0);
    char err[200] = "";
    Crm__V1__Event *back = (Crm__V1__Event *)crm_input_message(
        &crm__v1__event__descriptor, j, CRM_INPUT_LENIENT, &s_arena, err, sizeof err);
    assert_non_null(back);
    assert_true(crm_erase_event(back, &s_arena, ID, s_pii, 3) > 0);
    json_t *a = crm_pbjson_from_message(&stored->base), *b = crm_pbjson_from_message(&back->base);
    char *ta = json_dumps(a, JSON_SORT_KEYS), *tb = json_dumps(b, JSON_SORT_KEYS);
    assert_string_equal(ta, tb);
    assert_null(strstr(ta, "Countess"));
    free(ta);
    free(tb);
    json_decref(a);
    json_decref(b);
    json_decref(j);
    s_arena_free();
}

static void test_short_strings_are_ignored(void **state)
{
    (void)state;
    Crm__V1__Event *ev = s_registered("11111111-2222-3333-4444-555555555555");
    static const char *const tiny[] = {"Ada", "GB", ""};
    assert_int_equal(crm_erase_event(ev, &s_arena, ID, tiny, 3), 0);
    s_arena_free();
}

static void test_personal_table(void **state)
{
    (void)state;
    assert_true(crm_erase_personal("crm.v1.Person", "name"));
    assert_true(crm_erase_personal("crm.v1.TicketMessage", "body"));
    assert_false(crm_erase_personal("crm.v1.Deal", "title"));
    assert_false(crm_erase_personal("crm.v1.Person", "country"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_about_the_person),
        cmocka_unit_test(test_someone_else_keeps_their_fields),
        cmocka_unit_test(test_json_round_trip_erases_alike),
        cmocka_unit_test(test_short_strings_are_ignored),
        cmocka_unit_test(test_personal_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
