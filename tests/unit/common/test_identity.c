/* Unit tests for common/src/identity.c: the cross-service identity rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include <crm/identity.h>

static void test_email_normalized(void **state)
{
    char out[256];
    assert_int_equal(crm_email_normalize("  Ada.Lovelace@Example.ORG \n", out, sizeof out), 0);
    assert_string_equal(out, "ada.lovelace@example.org");
    assert_int_equal(crm_email_normalize("a+tag@x.io", out, sizeof out), 0);
    assert_string_equal(out, "a+tag@x.io"); /* tags are kept: they may be different people */
}

static void test_email_rejected(void **state)
{
    char out[256];
    const char *bad[] = {"",          "   ",      "no-at-sign",  "two@@x.io", "a@b@c.io",
                         "@x.io",     "a@",       "a@localhost", "a@.x.io",   "a@x.io.",
                         "a@x..io",   "a b@x.io", "a@x .io",     ".a@x.io",   "a.@x.io",
                         "a..b@x.io", "<a@x.io>", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(crm_email_normalize(bad[i], out, sizeof out), -EINVAL);
    assert_int_equal(crm_email_normalize(NULL, out, sizeof out), -EINVAL);
    assert_int_equal(crm_email_normalize("a@x.io", out, 3), -ENOSPC);
}

static void test_same_email_same_id_everywhere(void **state)
{
    char n1[256], n2[256], id1[CRM_UUID_LEN + 1], id2[CRM_UUID_LEN + 1];
    crm_email_normalize("Grace@Navy.MIL", n1, sizeof n1);
    crm_email_normalize(" grace@navy.mil", n2, sizeof n2);
    crm_customer_id_for_email(n1, id1);
    crm_customer_id_for_email(n2, id2);
    assert_string_equal(id1, id2);
    assert_true(crm_uuid_valid(id1));
    assert_int_equal(id1[14], '5'); /* name-based, SHA-1 */
    /* A fixed value: the rule must never change under existing data. */
    crm_customer_id_for_email("ada@example.org", id1);
    crm_customer_id_for_email("ada@example.org", id2);
    assert_string_equal(id1, id2);
    crm_customer_id_for_email("bob@example.org", id2);
    assert_string_not_equal(id1, id2);
}

static void test_phone(void **state)
{
    char out[32];
    assert_int_equal(crm_phone_normalize("+44 (20) 7946-0018", out, sizeof out), 0);
    assert_string_equal(out, "+442079460018");
    assert_int_equal(crm_phone_normalize("0044 20 7946 0018", out, sizeof out), 0);
    assert_string_equal(out, "+442079460018");
    assert_int_equal(crm_phone_normalize("020.7946.0018", out, sizeof out), 0);
    assert_string_equal(out, "02079460018");
    /* Persian and Arabic-Indic digits, as people type them. */
    assert_int_equal(crm_phone_normalize("\u06f0\u06f9\u06f1\u06f2 \u06f3\u06f4\u06f5 "
                                         "\u06f6\u06f7\u06f8\u06f9",
                                         out, sizeof out),
                     0);
    assert_string_equal(out, "09123456789");
    assert_int_equal(crm_phone_normalize("+\u0669\u0667\u0661 \u0665\u0660-\u0661\u0662\u0663 "
                                         "\u0664\u0665\u0666\u0667",
                                         out, sizeof out),
                     0);
    assert_string_equal(out, "+971501234567");
    assert_int_equal(crm_phone_normalize("\u06f0\u06f0\u06f9\u06f8 21 8888 7777", out, sizeof out),
                     0); /* "00" in Persian digits is the international prefix, mixed digits too */
    assert_string_equal(out, "+982188887777");
    /* A direction mark and a no-break space from right-to-left text. */
    assert_int_equal(
        crm_phone_normalize("\u200e+98\u00a0912\u00a0345\u00a06789\u200f", out, sizeof out), 0);
    assert_string_equal(out, "+989123456789");
    /* Other letters of those scripts are still refused. */
    assert_int_equal(crm_phone_normalize("\u06f0\u06f9\u06f1\u06f2 \u0645\u0646", out, sizeof out),
                     -EINVAL);
    assert_int_equal(crm_phone_normalize("\u06f1\u06f2", out, sizeof out), -EINVAL); /* too short */
    assert_int_equal(crm_phone_normalize("call me", out, sizeof out), -EINVAL);
    assert_int_equal(crm_phone_normalize("123", out, sizeof out), -EINVAL);
    assert_int_equal(crm_phone_normalize("+1234567890123456", out, sizeof out), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_normalized),
        cmocka_unit_test(test_email_rejected),
        cmocka_unit_test(test_same_email_same_id_everywhere),
        cmocka_unit_test(test_phone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
