/* Unit tests for common/src/fairq.c, common/src/limits.c and the queue's
 * deadline (service_command.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "svc_int.h"

/* A work from client `id` ("" = the service itself), received at `at`. */
static crm_work_t *s_work(const char *id, int64_t at)
{
    crm_work_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    if (*id) {
        w->identity = (uint8_t *)strdup(id);
        w->identity_len = strlen(id);
    }
    w->received_us = at;
    return w;
}

static char s_client(const crm_work_t *w)
{
    return w->identity ? (char)w->identity[0] : '-';
}

static void s_free(crm_work_t *w)
{
    free(w->identity);
    free(w);
}

static void test_clients_take_turns(void **state)
{
    crm_fairq_t *q = crm_fairq_new();
    assert_non_null(q);
    for (int i = 0; i < 5; i++)
        assert_int_equal(crm_fairq_push(q, s_work("a", i)), 0);
    assert_int_equal(crm_fairq_push(q, s_work("b", 10)), 0);
    assert_int_equal(crm_fairq_push(q, s_work("", 11)), 0);
    assert_int_equal(crm_fairq_push(q, s_work("b", 12)), 0);
    assert_int_equal(crm_fairq_len(q), 8);
    char order[16] = {0};
    int64_t a_seen = -1;
    for (int i = 0; i < 8; i++) {
        crm_work_t *w = crm_fairq_pop(q);
        assert_non_null(w);
        order[i] = s_client(w);
        if (order[i] == 'a') {
            assert_true(w->received_us > a_seen); /* each client in order */
            a_seen = w->received_us;
        }
        s_free(w);
    }
    assert_string_equal(order, "ab-abaaa");
    assert_null(crm_fairq_pop(q));
    assert_int_equal(crm_fairq_len(q), 0);
    crm_fairq_destroy(&q);
    assert_null(q);
}

static void test_expired_are_taken_out_but_never_our_own(void **state)
{
    crm_fairq_t *q = crm_fairq_new();
    crm_fairq_push(q, s_work("", 1));
    crm_fairq_push(q, s_work("a", 2));
    crm_fairq_push(q, s_work("b", 3));
    crm_fairq_push(q, s_work("a", 50));
    assert_int_equal(crm_fairq_oldest(q)->received_us, 1);
    /* The deadline timer's: the service's own never expire. */
    assert_int_equal(crm_fairq_oldest_client(q)->received_us, 2);
    int n = 0;
    crm_work_t *w;
    while ((w = crm_fairq_expired(q, 10))) {
        assert_true(w->received_us < 10);
        assert_non_null(w->identity);
        s_free(w);
        n++;
    }
    assert_int_equal(n, 2);
    assert_int_equal(crm_fairq_len(q), 2);
    assert_int_equal(crm_fairq_oldest_client(q)->received_us, 50);
    /* What is left still takes turns, and is the service's and a's newer. */
    w = crm_fairq_pop(q);
    int64_t first = w->received_us;
    s_free(w);
    w = crm_fairq_pop(q);
    assert_int_equal(first + w->received_us, 51);
    s_free(w);
    assert_null(crm_fairq_pop(q));
    crm_fairq_destroy(&q);
}

static void test_inflight_per_peer_and_total(void **state)
{
    crm_inflight_t *f = crm_inflight_new(2, 3);
    assert_non_null(f);
    const uint8_t a[] = "a", b[] = "b";
    assert_int_equal(crm_inflight_take(f, a, 1), 0);
    assert_int_equal(crm_inflight_take(f, a, 1), 0);
    assert_int_equal(crm_inflight_take(f, a, 1), -EBUSY); /* per peer */
    assert_int_equal(crm_inflight_take(f, b, 1), 0);
    assert_int_equal(crm_inflight_take(f, b, 1), -EBUSY); /* in total */
    crm_inflight_give(f, a, 1);
    assert_int_equal(crm_inflight_take(f, b, 1), 0);
    crm_inflight_give(f, b, 1);
    crm_inflight_give(f, b, 1);
    crm_inflight_give(f, b, 1); /* one too many: ignored */
    assert_int_equal(crm_inflight_take(f, b, 1), 0);
    assert_int_equal(crm_inflight_take(f, b, 1), 0);
    crm_inflight_destroy(&f);
    assert_null(f);
}

/* The queue's deadline leaves room for a batch's recent time: past what
 * the next batch takes, a command waits at most CRM_COMMAND_DEADLINE_MS
 * less it, so that the wait and the batch fit in the deadline together;
 * never less than a quarter of the deadline, so that batches still run
 * after a stall and the estimate follows them down. */
static void test_the_queue_deadline_leaves_room_for_a_batch(void **state)
{
    crm_service_t *svc = calloc(1, sizeof *svc);
    assert_non_null(svc);
    svc->cmd_deadline_us = 80000;
    svc->cmd_deadline_batch = 1;
    svc->batch_max = 2; /* the next batch takes two */
    svc->cmdq = crm_fairq_new();
    assert_non_null(svc->cmdq);
    crm_service_batch_observed(svc, 20000);
    assert_int_equal(svc->cmd_batch_est_us, 20000); /* rises at once */
    /* Not past the next batch: the whole deadline (refusing one of them
     * would shorten nobody's wait). */
    assert_int_equal(crm_fairq_push(svc->cmdq, s_work("a", 1)), 0);
    assert_int_equal(crm_fairq_push(svc->cmdq, s_work("b", 2)), 0);
    assert_int_equal(crm_service_queue_deadline_us(svc), 80000);
    /* Past it: the deadline less the batch. */
    crm_work_t *c = s_work("c", 3);
    assert_int_equal(crm_fairq_push(svc->cmdq, c), 0);
    assert_int_equal(crm_service_queue_deadline_us(svc), 60000);
    crm_service_batch_observed(svc, 12000);
    assert_int_equal(svc->cmd_batch_est_us, 19000); /* falls by an eighth */
    assert_int_equal(crm_service_queue_deadline_us(svc), 61000);
    crm_service_batch_observed(svc, 500000); /* a stall */
    assert_int_equal(crm_service_queue_deadline_us(svc), 20000);
    for (int i = 0; i < 100; i++)
        crm_service_batch_observed(svc, 10000);
    assert_in_range(crm_service_queue_deadline_us(svc), 69000, 70000);
    svc->cmd_deadline_batch = 0; /* CRM_COMMAND_DEADLINE_BATCH=0: the wait alone */
    assert_int_equal(crm_service_queue_deadline_us(svc), 80000);
    crm_work_t *w;
    while ((w = crm_fairq_pop(svc->cmdq)))
        s_free(w);
    crm_fairq_destroy(&svc->cmdq);
    free(svc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clients_take_turns),
        cmocka_unit_test(test_expired_are_taken_out_but_never_our_own),
        cmocka_unit_test(test_inflight_per_peer_and_total),
        cmocka_unit_test(test_the_queue_deadline_leaves_room_for_a_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
