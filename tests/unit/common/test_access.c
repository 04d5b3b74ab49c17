/* Unit tests for common/src/access.c: roles at EspoCRM's levels, role
 * lines in the directory, the highest level per cell, team reach and the
 * grant a command keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <crm/access.h>
#include <crm/directory.h>

#define KEY_A "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define KEY_B "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define KEY_C "}[.A[8*j2!%c%mLdW6Nb*Or.LTl==07@5VlnX#A6"
#define KEY_D "0000000000000000000000000000000000000000"
#define KEY_E "1111111111111111111111111111111111111111"

static crm_directory_t *s_load(const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/crm-unit-access-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    crm_directory_t *d = crm_directory_load(path, err, errlen);
    unlink(path);
    return d;
}

static const char *s_dir =
    KEY_A " sales service\n" KEY_B " ada staff north sales-rep\n" KEY_C
          " bo staff north,emea sales-rep\n" KEY_D " cy staff north sales-manager,marketer\n" KEY_E
          " di staff south sales-rep,intern\n"
          "role intern *.read=own person.create=own deal.*=none\n";

static void test_builtin_roles(void **state)
{
    (void)state;
    crm_roles_t *r = crm_roles_new();
    assert_non_null(r);
    assert_int_equal(crm_roles_level(r, "admin", CRM_REC_TICKET, CRM_ACT_DELETE), CRM_LEVEL_ALL);
    assert_int_equal(crm_roles_level(r, "sales-rep", CRM_REC_DEAL, CRM_ACT_READ), CRM_LEVEL_OWN);
    assert_int_equal(crm_roles_level(r, "sales-rep", CRM_REC_DEAL, CRM_ACT_DELETE), CRM_LEVEL_NONE);
    assert_int_equal(crm_roles_level(r, "sales-manager", CRM_REC_DEAL, CRM_ACT_EDIT),
                     CRM_LEVEL_TEAM);
    assert_int_equal(crm_roles_level(r, "marketer", CRM_REC_DEAL, CRM_ACT_EDIT), CRM_LEVEL_NONE);
    assert_int_equal(crm_roles_level(r, "marketer", CRM_REC_CAMPAIGN, CRM_ACT_CREATE),
                     CRM_LEVEL_ALL);
    assert_int_equal(crm_roles_level(r, "analyst", CRM_REC_PERSON, CRM_ACT_EDIT), CRM_LEVEL_NONE);
    assert_int_equal(crm_roles_level(r, "subscriber", CRM_REC_TICKET, CRM_ACT_READ), CRM_LEVEL_ALL);
    assert_int_equal(crm_roles_level(r, "support-agent", CRM_REC_TICKET, CRM_ACT_EDIT),
                     CRM_LEVEL_ALL);
    assert_int_equal(crm_roles_level(r, "support-agent", CRM_REC_TICKET, CRM_ACT_DELETE),
                     CRM_LEVEL_NONE);
    assert_int_equal(crm_roles_level(r, "support-lead", CRM_REC_CONFIG, CRM_ACT_EDIT),
                     CRM_LEVEL_ALL);
    /* Personal data as a whole (export, merge, erase): admin and
     * privacy-officer only, although most roles read every type. */
    static const char *const roles[] = {"sales-manager", "sales-rep", "marketer",  "support-agent",
                                        "support-lead",  "analyst",   "subscriber"};
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        for (int a = 0; a < CRM_ACT_COUNT; a++)
            assert_int_equal(crm_roles_level(r, roles[i], CRM_REC_PERSONAL_DATA, a),
                             CRM_LEVEL_NONE);
    for (int a = 0; a < CRM_ACT_COUNT; a++) {
        assert_int_equal(crm_roles_level(r, "privacy-officer", CRM_REC_PERSONAL_DATA, a),
                         CRM_LEVEL_ALL);
        assert_int_equal(crm_roles_level(r, "admin", CRM_REC_PERSONAL_DATA, a), CRM_LEVEL_ALL);
    }
    assert_int_equal(crm_roles_level(r, "privacy-officer", CRM_REC_PERSON, CRM_ACT_READ),
                     CRM_LEVEL_ALL);
    assert_int_equal(crm_roles_level(r, "privacy-officer", CRM_REC_PERSON, CRM_ACT_EDIT),
                     CRM_LEVEL_NONE);
    assert_string_equal(crm_record_name(CRM_REC_PERSONAL_DATA), "personal_data");
    /* The HTTP gateway's role: tracking links only; a marketer may not. */
    assert_int_equal(crm_roles_level(r, "gateway", CRM_REC_TRACKING, CRM_ACT_CREATE),
                     CRM_LEVEL_ALL);
    assert_int_equal(crm_roles_level(r, "gateway", CRM_REC_PERSON, CRM_ACT_READ), CRM_LEVEL_NONE);
    assert_int_equal(crm_roles_level(r, "marketer", CRM_REC_TRACKING, CRM_ACT_CREATE),
                     CRM_LEVEL_NONE);
    assert_int_equal(crm_roles_level(r, "nobody", CRM_REC_PERSON, CRM_ACT_READ), -1);
    crm_roles_destroy(&r);
    assert_null(r);
}

static void test_define_cells_and_errors(void **state)
{
    (void)state;
    char err[256];
    crm_roles_t *r = crm_roles_new();
    const char *ok[] = {"*.*=team", "deal.*=own", "organization.read=all", "ticket.delete=none"};
    assert_int_equal(crm_roles_define(r, "x", ok, 4, err, sizeof err), 0);
    assert_int_equal(crm_roles_level(r, "x", CRM_REC_PERSON, CRM_ACT_EDIT), CRM_LEVEL_TEAM);
    assert_int_equal(crm_roles_level(r, "x", CRM_REC_DEAL, CRM_ACT_CREATE), CRM_LEVEL_OWN);
    assert_int_equal(crm_roles_level(r, "x", CRM_REC_ORGANISATION, CRM_ACT_READ), CRM_LEVEL_ALL);
    assert_int_equal(crm_roles_level(r, "x", CRM_REC_TICKET, CRM_ACT_DELETE), CRM_LEVEL_NONE);
    /* A built-in can be redefined. */
    const char *none[] = {"*.*=none"};
    assert_int_equal(crm_roles_define(r, "sales-rep", none, 1, err, sizeof err), 0);
    assert_int_equal(crm_roles_level(r, "sales-rep", CRM_REC_DEAL, CRM_ACT_READ), CRM_LEVEL_NONE);
    const char *bad[][1] = {
        {"deal.read"}, {"dael.read=all"}, {"deal.view=all"}, {"deal.read=most"}};
    for (size_t i = 0; i < 4; i++) {
        err[0] = 0;
        assert_int_equal(crm_roles_define(r, "x", bad[i], 1, err, sizeof err), -1);
        assert_non_null(strstr(err, bad[i][0]));
    }
    /* A failed definition leaves the role as it was. */
    assert_int_equal(crm_roles_level(r, "x", CRM_REC_DEAL, CRM_ACT_CREATE), CRM_LEVEL_OWN);
    crm_roles_destroy(&r);
}

static void test_directory_role_lines_and_levels(void **state)
{
    (void)state;
    char err[256];
    crm_directory_t *d = s_load(s_dir, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(crm_directory_size(d), 5); /* role lines are not principals */
    const crm_principal_t *svc = crm_directory_by_name(d, "sales");
    const crm_principal_t *ada = crm_directory_by_name(d, "ada");
    const crm_principal_t *cy = crm_directory_by_name(d, "cy");
    const crm_principal_t *di = crm_directory_by_name(d, "di");
    assert_int_equal(crm_access_level(d, svc, CRM_REC_DEAL, CRM_ACT_DELETE), CRM_LEVEL_ALL);
    assert_int_equal(crm_access_level(d, ada, CRM_REC_DEAL, CRM_ACT_EDIT), CRM_LEVEL_OWN);
    assert_int_equal(crm_access_level(d, ada, CRM_REC_NONE, CRM_ACT_EDIT), CRM_LEVEL_ALL);
    /* The highest level per cell: manager's team beats marketer's none
     * for deals, marketer's all beats manager's read for campaigns. */
    assert_int_equal(crm_access_level(d, cy, CRM_REC_DEAL, CRM_ACT_EDIT), CRM_LEVEL_TEAM);
    assert_int_equal(crm_access_level(d, cy, CRM_REC_CAMPAIGN, CRM_ACT_EDIT), CRM_LEVEL_ALL);
    /* di: sales-rep and the file's intern (deal none): rep's own wins. */
    assert_int_equal(crm_access_level(d, di, CRM_REC_DEAL, CRM_ACT_EDIT), CRM_LEVEL_OWN);
    assert_int_equal(crm_access_level(d, di, CRM_REC_TICKET, CRM_ACT_READ), CRM_LEVEL_ALL);

    assert_true(crm_access_may_see(d, ada, CRM_LEVEL_OWN, "ada"));
    assert_false(crm_access_may_see(d, ada, CRM_LEVEL_OWN, "bo"));
    assert_false(crm_access_may_see(d, ada, CRM_LEVEL_OWN, ""));
    assert_true(crm_access_may_see(d, cy, CRM_LEVEL_TEAM, "bo"));
    assert_false(crm_access_may_see(d, cy, CRM_LEVEL_TEAM, "di")); /* south */
    assert_false(crm_access_may_see(d, cy, CRM_LEVEL_TEAM, ""));
    assert_true(crm_access_may_see(d, cy, CRM_LEVEL_ALL, ""));
    assert_false(crm_access_may_see(d, cy, CRM_LEVEL_NONE, "cy"));
    crm_directory_destroy(&d);
}

static void test_directory_refuses_bad_roles(void **state)
{
    (void)state;
    char err[256];
    assert_null(s_load(KEY_B " ada staff north sales-wizard\n", err, sizeof err));
    assert_non_null(strstr(err, "sales-wizard"));
    assert_null(s_load("role x deal.read=maybe\n", err, sizeof err));
    assert_non_null(strstr(err, "line 1"));
    assert_null(s_load("role\n", err, sizeof err));
    /* A role may be defined below the staff holding it. */
    crm_directory_t *d =
        s_load(KEY_B " ada staff north late\nrole late *.read=all\n", err, sizeof err);
    assert_non_null(d);
    crm_directory_destroy(&d);
}

static void test_grant(void **state)
{
    (void)state;
    char err[256];
    crm_directory_t *d = s_load(s_dir, err, sizeof err);
    assert_non_null(d);
    crm_grant_t *ada = crm_grant_new(d, crm_directory_by_name(d, "ada"));
    crm_grant_t *cy = crm_grant_new(d, crm_directory_by_name(d, "cy"));
    assert_non_null(ada);
    assert_non_null(cy);
    assert_string_equal(crm_grant_name(ada), "ada");
    size_t n;
    const char *const *v = crm_grant_owners(ada, CRM_REC_DEAL, CRM_ACT_READ, &n);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "ada");
    /* cy edits deals at team level (a marketer too, it reads them all). */
    v = crm_grant_owners(cy, CRM_REC_DEAL, CRM_ACT_EDIT, &n);
    assert_int_equal(n, 3); /* cy, ada, bo: north */
    assert_string_equal(v[0], "cy");
    assert_null(crm_grant_owners(cy, CRM_REC_DEAL, CRM_ACT_READ, &n));
    assert_null(crm_grant_owners(cy, CRM_REC_CAMPAIGN, CRM_ACT_READ, &n));
    assert_non_null(crm_grant_owners(ada, CRM_REC_DEAL, CRM_ACT_DELETE, &n));
    assert_int_equal(n, 0);
    assert_true(crm_grant_may(cy, CRM_REC_DEAL, CRM_ACT_EDIT, "bo"));
    assert_false(crm_grant_may(ada, CRM_REC_DEAL, CRM_ACT_EDIT, "bo"));
    assert_false(crm_grant_may(cy, CRM_REC_DEAL, CRM_ACT_EDIT, "di"));
    assert_false(crm_grant_may(cy, CRM_REC_DEAL, CRM_ACT_EDIT, ""));
    /* No grant: a service or a consumer, everything. */
    assert_true(crm_grant_may(NULL, CRM_REC_DEAL, CRM_ACT_EDIT, ""));
    /* The grant outlives the directory it was taken from. */
    crm_directory_destroy(&d);
    assert_true(crm_grant_may(cy, CRM_REC_DEAL, CRM_ACT_EDIT, "ada"));
    crm_grant_destroy(&ada);
    crm_grant_destroy(&cy);
    assert_null(ada);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_roles),
        cmocka_unit_test(test_define_cells_and_errors),
        cmocka_unit_test(test_directory_role_lines_and_levels),
        cmocka_unit_test(test_directory_refuses_bad_roles),
        cmocka_unit_test(test_grant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
