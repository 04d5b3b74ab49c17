/* test_token.c: API token secrets (crm/token.h): made tokens parse back to
 * their id and hash; anything else is refused; hashes compare. */
#include <crm/token.h>

#include <errno.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_round_trip(void **state)
{
    (void)state;
    char tok[CRM_TOKEN_MAX], id[CRM_TOKEN_ID_LEN + 1], id2[CRM_TOKEN_ID_LEN + 1];
    uint8_t h[CRM_TOKEN_HASH_LEN], h2[CRM_TOKEN_HASH_LEN];
    assert_int_equal(crm_token_new("crm", tok, id, h), 0);
    assert_int_equal(strlen(tok), 4 + CRM_TOKEN_ID_LEN + 1 + CRM_TOKEN_SECRET_LEN);
    assert_int_equal(strncmp(tok, "crm_", 4), 0);
    assert_int_equal(crm_token_parse("crm", tok, id2, h2), 0);
    assert_string_equal(id, id2);
    assert_true(crm_token_hash_equal(h, h2, sizeof h2));
    /* Another prefix does not read it; a second token differs. */
    assert_int_equal(crm_token_parse("crs", tok, id2, h2), -EINVAL);
    char tok2[CRM_TOKEN_MAX];
    assert_int_equal(crm_token_new("crm", tok2, id2, h2), 0);
    assert_string_not_equal(tok, tok2);
    assert_false(crm_token_hash_equal(h, h2, sizeof h2));
}

static void test_refused(void **state)
{
    (void)state;
    char tok[CRM_TOKEN_MAX], id[CRM_TOKEN_ID_LEN + 1];
    uint8_t h[CRM_TOKEN_HASH_LEN];
    assert_int_equal(crm_token_new("crm", tok, id, h), 0);
    const char *bad[] = {"", "crm_", "crm_abc_def", "Bearer x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(crm_token_parse("crm", bad[i], id, h), -EINVAL);
    char t[CRM_TOKEN_MAX];
    strcpy(t, tok);
    t[10] = 'G'; /* not hex */
    assert_int_equal(crm_token_parse("crm", t, id, h), -EINVAL);
    strcpy(t, tok);
    t[strlen(t) - 1] = '\0'; /* one short */
    assert_int_equal(crm_token_parse("crm", t, id, h), -EINVAL);
    assert_int_equal(crm_token_new("CRM", tok, id, h), -EINVAL);
    assert_int_equal(crm_token_new("toolongprefix", tok, id, h), -EINVAL);
    assert_false(crm_token_hash_equal(h, h, 16)); /* a stored hash of the wrong size */
    assert_false(crm_token_hash_equal(h, NULL, 32));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
