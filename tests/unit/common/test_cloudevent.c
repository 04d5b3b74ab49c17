/* Unit tests for common/src/cloudevent.c: the CloudEvents rendering of an
 * Event, its edge cases (empty attributes, bytes that are not UTF-8, 64-bit
 * sequences, payloads this build does not know). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <crm/cloudevent.h>

static const char *s_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void test_full_event(void **state)
{
    Crm__V1__Event ev = CRM__V1__EVENT__INIT;
    Crm__V1__DealWon won = CRM__V1__DEAL_WON__INIT;
    Crm__V1__Deal deal = CRM__V1__DEAL__INIT;
    deal.title = "Renewal";
    won.deal = &deal;
    ev.id = "id-1";
    ev.source = "sales";
    ev.type = "crm.sales.deal.won.v1";
    ev.subject = "cust-1";
    ev.time_us = 1795360415123456LL;
    ev.sequence = UINT64_MAX;
    ev.epoch = "ep";
    ev.correlation_id = "corr";
    ev.causation_id = "cause";
    ev.actor = "ann";
    ev.payload_case = CRM__V1__EVENT__PAYLOAD_DEAL_WON;
    ev.deal_won = &won;
    json_t *o = crm_cloudevent_json(&ev);
    assert_non_null(o);
    const char *keys[] = {"specversion",   "id",          "source",   "type",
                          "subject",       "time",        "sequence", "epoch",
                          "correlationid", "causationid", "actor",    "datacontenttype",
                          "dataschema",    "data"};
    assert_int_equal(json_object_size(o), sizeof keys / sizeof *keys);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) assert_string_equal(k, keys[i++]);
    assert_string_equal(s_str(o, "specversion"), "1.0");
    assert_string_equal(s_str(o, "time"), "2026-11-22T15:13:35.123456Z");
    assert_string_equal(s_str(o, "sequence"), "18446744073709551615");
    assert_string_equal(s_str(o, "actor"), "ann");
    assert_string_equal(s_str(o, "datacontenttype"), "application/json");
    assert_string_equal(s_str(o, "dataschema"), "proto:crm.v1.DealWon");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(o, "data"), "deal"), "title")),
                        "Renewal");
    json_decref(o);
}

static void test_empty_attributes_are_left_out(void **state)
{
    Crm__V1__Event ev = CRM__V1__EVENT__INIT;
    ev.id = "id-1";
    ev.source = "probe";
    ev.type = "crm.probe.x.v1";
    ev.sequence = 7;
    json_t *o = crm_cloudevent_json(&ev);
    assert_non_null(o);
    /* No subject, time, epoch, chain ids, actor; no payload: no data either. */
    assert_int_equal(json_object_size(o), 5);
    assert_null(json_object_get(o, "subject"));
    assert_null(json_object_get(o, "actor"));
    assert_null(json_object_get(o, "data"));
    assert_null(json_object_get(o, "dataschema"));
    assert_string_equal(s_str(o, "sequence"), "7");
    json_decref(o);
}

static void test_unknown_payload_and_bad_utf8(void **state)
{
    Crm__V1__Event ev = CRM__V1__EVENT__INIT;
    ev.id = "id-\xff";
    ev.source = "sales";
    ev.type = "crm.sales.future.v9";
    ev.subject = "a\xc3(b";
    /* A field number this build does not know. */
    ev.payload_case = (Crm__V1__Event__PayloadCase)999;
    json_t *o = crm_cloudevent_json(&ev);
    assert_non_null(o);
    assert_string_equal(s_str(o, "id"), "id-?");
    assert_string_equal(s_str(o, "subject"), "a?(b");
    assert_null(json_object_get(o, "data"));
    assert_null(crm_cloudevent_payload(&ev));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_event),
        cmocka_unit_test(test_empty_attributes_are_left_out),
        cmocka_unit_test(test_unknown_payload_and_bad_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
