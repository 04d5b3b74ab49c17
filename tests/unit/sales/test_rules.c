/* Unit tests for services/sales/rules.c: validation, lead transitions,
 * stage moves, conversion planning, order totals and paging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <crm/identity.h>

#include "rules.h"

#include "crm/v1/rpc.pb-c.h"

#define INVALID CRM__V1__STATUS_CODE__STATUS_CODE_INVALID_ARGUMENT
#define PRECONDITION CRM__V1__STATUS_CODE__STATUS_CODE_FAILED_PRECONDITION

/* An error is well-formed: a code, the field, a lower-case message
 * without a final period. */
static void s_assert_err(const sales_err_t *e, int code, const char *field)
{
    assert_int_equal(e->code, code);
    assert_string_equal(e->field, field);
    assert_true(e->message[0] >= 'a' && e->message[0] <= 'z');
    assert_true(e->message[strlen(e->message) - 1] != '.');
    assert_true(e->hint[0] != 0);
}

static void test_email(void **state)
{
    sales_err_t e;
    char out[SALES_EMAIL_LEN];
    assert_int_equal(sales_check_email(" Ada@X.io ", out, sizeof out, "person.emails[0]", &e), 0);
    assert_string_equal(out, "ada@x.io");
    assert_int_equal(sales_check_email("ada@", out, sizeof out, "person.emails[1]", &e), -1);
    s_assert_err(&e, INVALID, "person.emails[1]");
    assert_string_equal(e.message, "email is malformed");
    assert_string_equal(e.detail, "got \"ada@\"");
    assert_int_equal(sales_check_email("", out, sizeof out, "lead.email", &e), -1);
}

static void test_phone(void **state)
{
    sales_err_t e;
    char out[SALES_PHONE_LEN];
    assert_int_equal(sales_check_phone("+44 (20) 7946-0958", out, sizeof out, "p", &e), 0);
    assert_string_equal(out, "+442079460958");
    assert_int_equal(sales_check_phone("call me", out, sizeof out, "person.phones[0]", &e), -1);
    s_assert_err(&e, INVALID, "person.phones[0]");
    assert_int_equal(sales_check_phone("123", out, sizeof out, "p", &e), -1);
}

static void test_country(void **state)
{
    sales_err_t e;
    char c[3];
    assert_int_equal(sales_check_country("gb", c, "person.country", &e), 0);
    assert_string_equal(c, "GB");
    assert_int_equal(sales_check_country(" DE ", c, "person.country", &e), 0);
    assert_string_equal(c, "DE");
    assert_int_equal(sales_check_country("", c, "person.country", &e), 0);
    assert_string_equal(c, "");
    const char *bad[] = {"XX", "UK", "G", "GBR", "1A", "Great Britain", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(sales_check_country(bad[i], c, "person.country", &e), -1);
        s_assert_err(&e, INVALID, "person.country");
    }
}

static void test_currency(void **state)
{
    sales_err_t e;
    char c[4];
    assert_int_equal(sales_check_currency("EUR", c, "deal.currency", &e), 0);
    assert_string_equal(c, "EUR");
    assert_int_equal(sales_check_currency("usd", c, "deal.currency", &e), 0);
    assert_string_equal(c, "USD");
    assert_int_equal(sales_check_currency("", c, "deal.currency", &e), 0);
    assert_string_equal(c, "");
    const char *bad[] = {"EU", "EURO", "E1R", "€", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(sales_check_currency(bad[i], c, "deal.currency", &e), -1);
        s_assert_err(&e, INVALID, "deal.currency");
    }
}

static void test_amount_probability_enum(void **state)
{
    sales_err_t e;
    assert_int_equal(sales_check_amount(0, "deal.amount_minor", &e), 0);
    assert_int_equal(sales_check_amount(-1, "deal.amount_minor", &e), -1);
    s_assert_err(&e, INVALID, "deal.amount_minor");
    assert_string_equal(e.detail, "got -1");
    assert_int_equal(sales_check_probability(0, "p", &e), 0);
    assert_int_equal(sales_check_probability(100, "p", &e), 0);
    assert_int_equal(sales_check_probability(101, "probability", &e), -1);
    s_assert_err(&e, INVALID, "probability");
    assert_int_equal(sales_check_probability(-5, "p", &e), -1);
    assert_int_equal(sales_check_enum(&crm__v1__person_kind__descriptor, 0, 1, "k", &e), 0);
    assert_int_equal(sales_check_enum(&crm__v1__person_kind__descriptor, 10, 1, "k", &e), 0);
    assert_int_equal(sales_check_enum(&crm__v1__person_kind__descriptor, 11, 1, "person.kind", &e),
                     -1);
    s_assert_err(&e, INVALID, "person.kind");
    assert_non_null(strstr(e.hint, "PERSON_KIND_CUSTOMER"));
    assert_int_equal(
        sales_check_enum(&crm__v1__activity_kind__descriptor, 0, 0, "activity.kind", &e), -1);
    assert_string_equal(e.message, "value is required");
}

static void test_text_and_ids(void **state)
{
    sales_err_t e;
    char long_text[300];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = 0;
    assert_int_equal(sales_check_text("  fine  ", SALES_NAME_MAX, "person.name", &e), 0);
    assert_int_equal(sales_check_text(long_text, SALES_NAME_MAX, "person.name", &e), -1);
    s_assert_err(&e, INVALID, "person.name");
    assert_int_equal(sales_check_text("bell\a", SALES_NAME_MAX, "person.name", &e), -1);
    assert_int_equal(sales_check_required("   ", SALES_NAME_MAX, "deal.title", &e), -1);
    assert_string_equal(e.message, "deal.title is required");
    assert_int_equal(sales_check_id("", 0, "deal.person_id", &e), 0);
    assert_int_equal(sales_check_id("", 1, "id", &e), -1);
    assert_int_equal(sales_check_id("not-a-uuid", 0, "deal.person_id", &e), -1);
    s_assert_err(&e, INVALID, "deal.person_id");
    assert_int_equal(sales_check_id("6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10", 1, "id", &e), 0);
    const char *t;
    size_t n;
    assert_int_equal(sales_check_tag("  vip ", &t, &n, "person.tags[0]", &e), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(t, "vip", 3);
    assert_int_equal(sales_check_tag("  ", &t, &n, "person.tags[0]", &e), -1);
}

static void test_person_fields_and_mask(void **state)
{
    sales_err_t e;
    unsigned bits;
    char *mask[] = {"name", "emails", "owner"};
    assert_int_equal(sales_person_mask(mask, 3, &bits, &e), 0);
    assert_int_equal(bits, SALES_PF_NAME | SALES_PF_EMAILS | SALES_PF_OWNER);
    char *bad[] = {"name", "id"};
    assert_int_equal(sales_person_mask(bad, 2, &bits, &e), -1);
    s_assert_err(&e, INVALID, "update_mask[1]");
    assert_int_equal(sales_person_mask(NULL, 0, &bits, &e), -1);
    s_assert_err(&e, INVALID, "update_mask");
    for (int i = 0; i < SALES_PF_COUNT; i++)
        assert_int_equal(sales_person_field(sales_person_field_name(i)), 1u << i);
    assert_int_equal(sales_person_field("created_at_us"), 0);

    Crm__V1__Person p = CRM__V1__PERSON__INIT;
    assert_int_equal(sales_person_set_fields(&p), 0);
    char *emails[] = {"a@x.io"};
    p.name = "Ada";
    p.emails = emails;
    p.n_emails = 1;
    p.country = "  ";
    assert_int_equal(sales_person_set_fields(&p), SALES_PF_NAME | SALES_PF_EMAILS);
}

static void test_lead_transitions(void **state)
{
    sales_err_t e;
    int next;
    assert_int_equal(
        sales_lead_next(CRM__V1__LEAD_STATUS__LEAD_STATUS_NEW, SALES_LEAD_QUALIFY, &next, &e), 0);
    assert_int_equal(next, CRM__V1__LEAD_STATUS__LEAD_STATUS_QUALIFIED);
    assert_int_equal(
        sales_lead_next(CRM__V1__LEAD_STATUS__LEAD_STATUS_QUALIFIED, SALES_LEAD_CONVERT, &next, &e),
        0);
    assert_int_equal(next, CRM__V1__LEAD_STATUS__LEAD_STATUS_CONVERTED);
    assert_int_equal(
        sales_lead_next(CRM__V1__LEAD_STATUS__LEAD_STATUS_NEW, SALES_LEAD_CONVERT, &next, &e), 0);
    assert_int_equal(sales_lead_next(CRM__V1__LEAD_STATUS__LEAD_STATUS_QUALIFIED,
                                     SALES_LEAD_DISQUALIFY, &next, &e),
                     0);
    assert_int_equal(next, CRM__V1__LEAD_STATUS__LEAD_STATUS_DISQUALIFIED);
    /* Refused moves. */
    assert_int_equal(
        sales_lead_next(CRM__V1__LEAD_STATUS__LEAD_STATUS_QUALIFIED, SALES_LEAD_QUALIFY, &next, &e),
        -1);
    s_assert_err(&e, PRECONDITION, "id");
    for (int a = SALES_LEAD_QUALIFY; a <= SALES_LEAD_DISQUALIFY; a++) {
        assert_int_equal(sales_lead_next(CRM__V1__LEAD_STATUS__LEAD_STATUS_CONVERTED,
                                         (sales_lead_action_t)a, &next, &e),
                         -1);
        s_assert_err(&e, PRECONDITION, "id");
        assert_int_equal(sales_lead_next(CRM__V1__LEAD_STATUS__LEAD_STATUS_DISQUALIFIED,
                                         (sales_lead_action_t)a, &next, &e),
                         -1);
    }
    assert_int_equal(
        sales_lead_next(CRM__V1__LEAD_STATUS__LEAD_STATUS_CONVERTED, SALES_LEAD_CONVERT, &next, &e),
        -1);
    assert_string_equal(e.message, "cannot convert a converted lead");
}

static const sales_stage_t s_stages[] = {
    {"Qualification", 10}, {"Needs analysis", 25}, {"Proposal", 50}, {"Negotiation", 75}};

static void test_stage_moves(void **state)
{
    sales_err_t e;
    size_t idx;
    int open = CRM__V1__DEAL_STATUS__DEAL_STATUS_OPEN;
    assert_int_equal(sales_stage_find(s_stages, 4, " proposal "), 2);
    assert_int_equal(sales_stage_find(s_stages, 4, "Won"), -1);
    assert_int_equal(sales_deal_move(open, s_stages, 4, "Qualification", "negotiation", &idx, &e),
                     0);
    assert_int_equal(idx, 3);
    /* Backwards is allowed: deals slip. */
    assert_int_equal(sales_deal_move(open, s_stages, 4, "Proposal", "Qualification", &idx, &e), 0);
    /* Unknown stage: named, with the pipeline's stages as the hint. */
    assert_int_equal(sales_deal_move(open, s_stages, 4, "Proposal", "Closing", &idx, &e), -1);
    s_assert_err(&e, INVALID, "stage");
    assert_string_equal(e.message, "stage is unknown");
    assert_non_null(strstr(e.hint, "Needs analysis"));
    /* Same stage. */
    assert_int_equal(sales_deal_move(open, s_stages, 4, "Proposal", "PROPOSAL", &idx, &e), -1);
    s_assert_err(&e, PRECONDITION, "stage");
    /* Closed deals do not move. */
    assert_int_equal(sales_deal_move(CRM__V1__DEAL_STATUS__DEAL_STATUS_WON, s_stages, 4, "Proposal",
                                     "Negotiation", &idx, &e),
                     -1);
    s_assert_err(&e, PRECONDITION, "id");
    assert_string_equal(e.message, "cannot move a closed deal");
    assert_int_equal(sales_deal_move(open, s_stages, 4, "Proposal", "", &idx, &e), -1);
    s_assert_err(&e, INVALID, "stage");
    /* New deals: first stage by default, or the one named. */
    assert_int_equal(sales_stage_pick(s_stages, 4, "", "deal.stage", &idx, &e), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(sales_stage_pick(s_stages, 4, "negotiation", "deal.stage", &idx, &e), 0);
    assert_int_equal(idx, 3);
    assert_int_equal(sales_stage_pick(s_stages, 4, "Nope", "deal.stage", &idx, &e), -1);
    s_assert_err(&e, INVALID, "deal.stage");
}

static void test_close(void **state)
{
    sales_err_t e;
    int open = CRM__V1__DEAL_STATUS__DEAL_STATUS_OPEN;
    assert_int_equal(sales_deal_close(open, 1, "", &e), 0);
    assert_int_equal(sales_deal_close(open, 0, "price", &e), 0);
    assert_int_equal(sales_deal_close(open, 0, "  ", &e), -1);
    s_assert_err(&e, INVALID, "reason");
    assert_int_equal(sales_deal_close(CRM__V1__DEAL_STATUS__DEAL_STATUS_LOST, 1, "", &e), -1);
    s_assert_err(&e, PRECONDITION, "id");
    assert_int_equal(sales_deal_close(CRM__V1__DEAL_STATUS__DEAL_STATUS_WON, 0, "late", &e), -1);
    assert_string_equal(e.message, "cannot lose a closed deal");
}

static void test_convert_plan(void **state)
{
    sales_err_t e;
    sales_convert_plan_t plan;
    char expect[CRM_UUID_LEN + 1];
    sales_convert_in_t in = {
        .lead_status = CRM__V1__LEAD_STATUS__LEAD_STATUS_QUALIFIED,
        .lead_person_id = "",
        .lead_email = "ada@x.io",
        .lead_company = "Analytical Engines",
        .found_person_id = "",
        .found_org_id = "",
        .stages = s_stages,
        .n_stages = 4,
        .stage = "",
    };
    /* Nothing known: everything is created; the person id is the email's. */
    assert_int_equal(sales_convert_plan(&in, &plan, &e), 0);
    crm_customer_id_for_email("ada@x.io", expect);
    assert_true(plan.create_person);
    assert_string_equal(plan.person_id, expect);
    assert_true(plan.create_org && plan.link_org && plan.create_deal);
    assert_int_equal(plan.stage_index, 0);
    /* Known person and organisation: reused, only the deal is new. */
    in.found_person_id = "11111111-2222-4333-8444-555555555555";
    in.found_org_id = "99999999-2222-4333-8444-555555555555";
    in.stage = "Proposal";
    assert_int_equal(sales_convert_plan(&in, &plan, &e), 0);
    assert_false(plan.create_person);
    assert_string_equal(plan.person_id, in.found_person_id);
    assert_false(plan.create_org);
    assert_true(plan.link_org);
    assert_int_equal(plan.stage_index, 2);
    /* A customer id linked on the lead wins over the email's. */
    in.found_person_id = "";
    in.lead_person_id = "22222222-2222-4333-8444-555555555555";
    assert_int_equal(sales_convert_plan(&in, &plan, &e), 0);
    assert_string_equal(plan.person_id, in.lead_person_id);
    /* No email, no link: a new random id; no company: no organisation;
     * no_deal: no deal. */
    in.lead_person_id = "";
    in.lead_email = "";
    in.lead_company = " ";
    in.no_deal = 1;
    in.stage = "Nope"; /* not looked at without a deal */
    assert_int_equal(sales_convert_plan(&in, &plan, &e), 0);
    assert_true(plan.create_person);
    assert_true(crm_uuid_valid(plan.person_id));
    assert_int_equal(plan.person_id[14], '7'); /* a new id, not derived */
    assert_false(plan.link_org || plan.create_org || plan.create_deal);
    /* Unknown stage. */
    in.no_deal = 0;
    assert_int_equal(sales_convert_plan(&in, &plan, &e), -1);
    s_assert_err(&e, INVALID, "stage");
    /* Converted and disqualified leads are final. */
    in.stage = "";
    in.lead_status = CRM__V1__LEAD_STATUS__LEAD_STATUS_CONVERTED;
    assert_int_equal(sales_convert_plan(&in, &plan, &e), -1);
    s_assert_err(&e, PRECONDITION, "id");
    in.lead_status = CRM__V1__LEAD_STATUS__LEAD_STATUS_DISQUALIFIED;
    assert_int_equal(sales_convert_plan(&in, &plan, &e), -1);
}

static void test_order_total(void **state)
{
    sales_err_t e;
    int64_t total = -1;
    Crm__V1__OrderItem a = CRM__V1__ORDER_ITEM__INIT, b = CRM__V1__ORDER_ITEM__INIT;
    a.product_code = "SKU-1";
    a.quantity = 3;
    a.unit_price_minor = 1250;
    b.name = "Setup";
    b.quantity = 1;
    b.unit_price_minor = 0;
    Crm__V1__OrderItem *items[] = {&a, &b};
    assert_int_equal(sales_order_total(items, 2, &total, &e), 0);
    assert_int_equal(total, 3750);
    assert_int_equal(sales_order_total(items, 0, &total, &e), -1);
    s_assert_err(&e, INVALID, "order.items");
    b.quantity = 0;
    assert_int_equal(sales_order_total(items, 2, &total, &e), -1);
    s_assert_err(&e, INVALID, "order.items[1].quantity");
    b.quantity = 1;
    b.unit_price_minor = -1;
    assert_int_equal(sales_order_total(items, 2, &total, &e), -1);
    s_assert_err(&e, INVALID, "order.items[1].unit_price_minor");
    b.unit_price_minor = 1;
    b.name = "";
    assert_int_equal(sales_order_total(items, 2, &total, &e), -1);
    s_assert_err(&e, INVALID, "order.items[1].product_code");
    b.name = "x";
    b.quantity = 2;
    b.unit_price_minor = INT64_MAX / 2 + 1;
    assert_int_equal(sales_order_total(items, 2, &total, &e), -1);
    s_assert_err(&e, INVALID, "order.items[1]");
}

static void test_pipeline_check(void **state)
{
    sales_err_t e;
    Crm__V1__Stage s1 = CRM__V1__STAGE__INIT, s2 = CRM__V1__STAGE__INIT;
    Crm__V1__Stage *stages[] = {&s1, &s2};
    Crm__V1__Pipeline p = CRM__V1__PIPELINE__INIT;
    p.name = "Renewals";
    p.stages = stages;
    p.n_stages = 2;
    s1.name = "Notice";
    s1.probability = 30;
    s2.name = "Signed";
    s2.probability = 90;
    assert_int_equal(sales_pipeline_check(&p, &e), 0);
    s2.name = "NOTICE";
    assert_int_equal(sales_pipeline_check(&p, &e), -1);
    s_assert_err(&e, INVALID, "pipeline.stages[1].name");
    s2.name = "Signed";
    s2.probability = 120;
    assert_int_equal(sales_pipeline_check(&p, &e), -1);
    s_assert_err(&e, INVALID, "pipeline.stages[1].probability");
    p.n_stages = 0;
    assert_int_equal(sales_pipeline_check(&p, &e), -1);
    s_assert_err(&e, INVALID, "pipeline.stages");
    p.name = "";
    assert_int_equal(sales_pipeline_check(&p, &e), -1);
    s_assert_err(&e, INVALID, "pipeline.name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_country),
        cmocka_unit_test(test_currency),
        cmocka_unit_test(test_amount_probability_enum),
        cmocka_unit_test(test_text_and_ids),
        cmocka_unit_test(test_person_fields_and_mask),
        cmocka_unit_test(test_lead_transitions),
        cmocka_unit_test(test_stage_moves),
        cmocka_unit_test(test_close),
        cmocka_unit_test(test_convert_plan),
        cmocka_unit_test(test_order_total),
        cmocka_unit_test(test_pipeline_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
