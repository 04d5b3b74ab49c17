/* Unit tests for common/src/directory.c and common/src/curve.c: the
 * directory of principals and keypair files, as read from disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <crm/curve.h>
#include <crm/directory.h>

static char s_dir[64];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/crm-unit-keys-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *s_write(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A valid key with '#' in it (Z85 allows it, never at a chunk's start):
 * comments must not cut it. */
#define KEY_A "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define KEY_B "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define KEY_H "}[.A[8*j2!%c%mLdW6Nb*Or.LTl==07@5VlnX#A6"

static void test_directory_reads_every_field(void **state)
{
    (void)state;
    char err[256];
    const char *path = s_write("d1", "# a comment line\n"
                                     "\n" KEY_A " sales service\n" KEY_B
                                     "  ada  staff  north,emea  sales-rep  # trailing note\n" KEY_H
                                     "\tbi-team\tsubscriber\tanalysts\t-\n");
    crm_directory_t *d = crm_directory_load(path, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(crm_directory_size(d), 3);
    const crm_principal_t *p = crm_directory_by_key(d, KEY_B);
    assert_non_null(p);
    assert_string_equal(p->name, "ada");
    assert_int_equal(p->kind, CRM_KIND_STAFF);
    assert_true(crm_principal_in_team(p, "emea"));
    assert_true(crm_principal_has_role(p, "sales-rep"));
    assert_false(crm_principal_has_role(p, "admin"));
    p = crm_directory_by_name(d, "sales");
    assert_non_null(p);
    assert_string_equal(p->public_key, KEY_A);
    assert_null(p->teams[0]);
    p = crm_directory_by_key(d, KEY_H);
    assert_non_null(p);
    assert_int_equal(p->kind, CRM_KIND_SUBSCRIBER);
    assert_null(crm_directory_by_key(d, "nope"));
    crm_directory_destroy(&d);
    assert_null(d);
}

static void test_directory_is_taken_whole_or_not_at_all(void **state)
{
    (void)state;
    static const char *const bad[] = {
        KEY_A " sales\n",                               /* no kind */
        KEY_A " sales robot\n",                         /* unknown kind */
        "tooshort sales service\n",                     /* not a key */
        KEY_A " sa/les service\n",                      /* bad name */
        KEY_A " sales service a,,b\n",                  /* empty team */
        KEY_A " sales service\n" KEY_A " x service\n",  /* a key twice */
        KEY_A " ada staff\n" KEY_B " ada subscriber\n", /* one name, two kinds */
        KEY_A " sales service - - extra\n",             /* too many fields */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        const char *path = s_write("bad", bad[i]);
        crm_directory_t *d = crm_directory_load(path, err, sizeof err);
        assert_null(d);
        assert_non_null(strstr(err, "line"));
    }
    char err[256];
    assert_null(crm_directory_load("/nonexistent/dir", err, sizeof err));
    assert_non_null(strstr(err, "could not open"));
}

static void test_keypair_files(void **state)
{
    (void)state;
    crm_keypair_t kp, back;
    char err[512], path[128];
    assert_int_equal(crm_keypair_new(&kp), 0);
    assert_true(crm_key_valid(kp.public_key));
    assert_int_equal(crm_keypair_write(&kp, s_dir, "svc", err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/svc.key", s_dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(crm_keypair_read(path, 1, &back, err, sizeof err), 0);
    assert_string_equal(back.public_key, kp.public_key);
    assert_string_equal(back.secret_key, kp.secret_key);
    /* Never overwritten. */
    assert_int_not_equal(crm_keypair_write(&kp, s_dir, "svc", err, sizeof err), 0);
    /* The public file has no secret: fine as a public key, not as a keypair. */
    snprintf(path, sizeof path, "%s/svc.pub", s_dir);
    assert_int_equal(crm_keypair_read(path, 0, &back, err, sizeof err), 0);
    assert_string_equal(back.public_key, kp.public_key);
    assert_string_equal(back.secret_key, "");
    assert_int_not_equal(crm_keypair_read(path, 1, &back, err, sizeof err), 0);
    assert_null(strstr(err, kp.secret_key));
    /* A name that would escape the directory is refused. */
    assert_int_not_equal(crm_keypair_write(&kp, s_dir, "../evil", err, sizeof err), 0);
}

static void test_keypair_mismatch_and_garbage(void **state)
{
    (void)state;
    crm_keypair_t a, b, out;
    char err[512], text[512];
    assert_int_equal(crm_keypair_new(&a), 0);
    assert_int_equal(crm_keypair_new(&b), 0);
    snprintf(text, sizeof text, "curve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
             b.public_key, a.secret_key);
    assert_int_not_equal(crm_keypair_read(s_write("mix", text), 1, &out, err, sizeof err), 0);
    assert_non_null(strstr(err, "does not belong"));
    assert_int_not_equal(
        crm_keypair_read(s_write("junk", "secret-key = \"short\"\n"), 1, &out, err, sizeof err), 0);
    assert_int_not_equal(crm_keypair_read(s_dir, 1, &out, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory_reads_every_field),
        cmocka_unit_test(test_directory_is_taken_whole_or_not_at_all),
        cmocka_unit_test(test_keypair_files),
        cmocka_unit_test(test_keypair_mismatch_and_garbage),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
