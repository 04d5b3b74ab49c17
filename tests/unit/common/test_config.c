/* Unit tests for common/src/config.c: the declarative settings table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <crm/config.h>

static const crm_conf_def_t s_defs[] = {
    {"T_URL", CRM_CONF_STR, NULL, "required string", 1, 0, 0},
    {"T_PORT", CRM_CONF_INT, "7410", "bounded int", 0, 1, 65535},
    {"T_FLAG", CRM_CONF_BOOL, "false", "a flag", 0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

static int s_setup(void **state)
{
    unsetenv("T_URL");
    unsetenv("T_URL_FILE");
    unsetenv("T_PORT");
    unsetenv("T_FLAG");
    return 0;
}

static void test_defaults_and_values(void **state)
{
    char err[256];
    setenv("T_URL", "host=x", 1);
    crm_config_t *c = crm_config_load(s_defs, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(crm_config_str(c, "T_URL"), "host=x");
    assert_int_equal(crm_config_int(c, "T_PORT"), 7410);
    assert_false(crm_config_bool(c, "T_FLAG"));
    crm_config_destroy(&c);
    assert_null(c);
    setenv("T_FLAG", "yes", 1);
    setenv("T_PORT", "9000", 1);
    c = crm_config_load(s_defs, err, sizeof err);
    assert_true(crm_config_bool(c, "T_FLAG"));
    assert_int_equal(crm_config_int(c, "T_PORT"), 9000);
    crm_config_destroy(&c);
}

static void test_list(void **state)
{
    char err[256], **v = NULL;
    size_t n = 99;
    setenv("T_URL", " ana , ben,,  carla ,", 1);
    crm_config_t *c = crm_config_load(s_defs, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(crm_config_list(c, "T_URL", &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "ana");
    assert_string_equal(v[1], "ben");
    assert_string_equal(v[2], "carla");
    crm_config_list_free(&v, n);
    assert_null(v);
    crm_config_destroy(&c);
    /* Only separators and blanks: an empty list, still freeable. */
    setenv("T_URL", " , ,", 1);
    c = crm_config_load(s_defs, err, sizeof err);
    assert_int_equal(crm_config_list(c, "T_URL", &v, &n), 0);
    assert_int_equal(n, 0);
    crm_config_list_free(&v, n);
    crm_config_destroy(&c);
}

static void test_missing_required(void **state)
{
    char err[256];
    assert_null(crm_config_load(s_defs, err, sizeof err));
    assert_non_null(strstr(err, "missing required setting T_URL"));
}

static void test_bad_values_are_refused(void **state)
{
    char err[256];
    setenv("T_URL", "x", 1);
    setenv("T_PORT", "12ab", 1);
    assert_null(crm_config_load(s_defs, err, sizeof err));
    assert_non_null(strstr(err, "T_PORT"));
    setenv("T_PORT", "70000", 1);
    assert_null(crm_config_load(s_defs, err, sizeof err));
    assert_non_null(strstr(err, "outside 1..65535"));
    setenv("T_PORT", "1", 1);
    setenv("T_FLAG", "maybe", 1);
    assert_null(crm_config_load(s_defs, err, sizeof err));
    assert_non_null(strstr(err, "not a boolean"));
}

static void test_secret_from_file(void **state)
{
    char path[] = "/tmp/crm-test-secret-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret\n", 7), 7);
    close(fd);
    setenv("T_URL_FILE", path, 1);
    crm_config_t *c = crm_config_load(s_defs, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(crm_config_str(c, "T_URL"), "s3cret");
    crm_config_destroy(&c);
    unlink(path);
    assert_null(crm_config_load(s_defs, err, sizeof err));
    assert_non_null(strstr(err, "could not read T_URL_FILE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults_and_values, s_setup),
        cmocka_unit_test_setup(test_list, s_setup),
        cmocka_unit_test_setup(test_missing_required, s_setup),
        cmocka_unit_test_setup(test_bad_values_are_refused, s_setup),
        cmocka_unit_test_setup(test_secret_from_file, s_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
