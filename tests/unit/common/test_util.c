/* Unit tests for common/src/util.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <crm/util.h>

static void test_uuid_is_valid_and_unique(void **state)
{
    char a[CRM_UUID_LEN + 1], b[CRM_UUID_LEN + 1];
    crm_uuid_new(a);
    crm_uuid_new(b);
    assert_int_equal(strlen(a), CRM_UUID_LEN);
    assert_true(crm_uuid_valid(a));
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '7'); /* version 7 */
}

/* v7: the first 48 bits are the Unix time in milliseconds, and ids made
 * one after another never sort backwards (text order; at most the same
 * fraction of a millisecond, then the random bits decide). */
static void test_uuid_is_time_ordered(void **state)
{
    char prev[CRM_UUID_LEN + 1], id[CRM_UUID_LEN + 1];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long before = (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    crm_uuid_new(prev);
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long after = (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char hex[13];
    memcpy(hex, prev, 8);
    memcpy(hex + 8, prev + 9, 4);
    hex[12] = 0;
    unsigned long long ms = strtoull(hex, NULL, 16);
    assert_true(ms >= before && ms <= after);
    int backwards = 0;
    for (int i = 0; i < 2000; i++) {
        crm_uuid_new(id);
        /* the 60 bits of time (48 of ms, 12 of fraction) never go back */
        backwards += strncmp(id, prev, 18) < 0;
        memcpy(prev, id, sizeof id);
    }
    assert_int_equal(backwards, 0);
}

/* Ids come from a pool of random bytes: across refills they stay v7,
 * RFC 4122 variant and distinct, and a child after fork() does not hand
 * out the parent's next one. */
static void test_uuid_pool_refills_and_forks_apart(void **state)
{
    enum { N = 1000 }; /* 16,000 bytes: several refills of the pool */
    static char ids[N][CRM_UUID_LEN + 1];
    for (int i = 0; i < N; i++) {
        crm_uuid_new(ids[i]);
        assert_true(crm_uuid_valid(ids[i]));
        assert_int_equal(ids[i][14], '7');
        assert_non_null(strchr("89ab", ids[i][19]));
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            assert_string_not_equal(ids[i], ids[j]);
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char id[CRM_UUID_LEN + 1];
        crm_uuid_new(id);
        _exit(write(fd[1], id, sizeof id) == (ssize_t)sizeof id ? 0 : 1);
    }
    char mine[CRM_UUID_LEN + 1], theirs[CRM_UUID_LEN + 1];
    crm_uuid_new(mine);
    assert_int_equal(read(fd[0], theirs, sizeof theirs), (ssize_t)sizeof theirs);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_string_not_equal(mine, theirs);
    close(fd[0]);
    close(fd[1]);
}

static void test_uuid_rejects_garbage(void **state)
{
    assert_false(crm_uuid_valid(NULL));
    assert_false(crm_uuid_valid(""));
    assert_false(crm_uuid_valid("not-a-uuid"));
    assert_false(crm_uuid_valid("123e4567-e89b-12d3-a456-42661417400Z"));
    assert_false(crm_uuid_valid("123e4567-e89b-12d3-a456-4266141740000"));
    assert_true(crm_uuid_valid("123e4567-e89b-12d3-a456-426614174000"));
}

static void test_time_format(void **state)
{
    char buf[40];
    assert_string_equal(crm_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00.000000Z");
    assert_string_equal(crm_time_format(1795360415123456LL, buf, sizeof buf),
                        "2026-11-22T15:13:35.123456Z");
    /* Before the epoch the fraction stays positive. */
    assert_string_equal(crm_time_format(-1, buf, sizeof buf), "1969-12-31T23:59:59.999999Z");
}

static void test_hash_is_fnv1a(void **state)
{
    /* Reference values of 64-bit FNV-1a. */
    assert_true(crm_hash64(CRM_HASH_SEED, "", 0) == 0xcbf29ce484222325ULL);
    assert_true(crm_hash64(CRM_HASH_SEED, "a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(crm_hash64(CRM_HASH_SEED, "foobar", 6) == 0x85944171f73967e8ULL);
    /* Chaining equals hashing the concatenation. */
    assert_true(crm_hash64(crm_hash64(CRM_HASH_SEED, "foo", 3), "bar", 3) ==
                crm_hash64(CRM_HASH_SEED, "foobar", 6));
}

static void test_clocks_move_forward(void **state)
{
    int64_t m1 = crm_mono_us(), w = crm_now_us(), m2 = crm_mono_us();
    assert_true(m2 >= m1);
    assert_true(w > 1700000000LL * 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_is_valid_and_unique),
        cmocka_unit_test(test_uuid_is_time_ordered),
        cmocka_unit_test(test_uuid_pool_refills_and_forks_apart),
        cmocka_unit_test(test_uuid_rejects_garbage),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_hash_is_fnv1a),
        cmocka_unit_test(test_clocks_move_forward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
