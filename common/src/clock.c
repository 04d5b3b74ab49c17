/* clock.c: the test clock of a service (CRM_TEST_CLOCK).
 *
 * Tests of time (SLA instants, activities falling due) should not wait for
 * the wall clock. With CRM_TEST_CLOCK set (off by default, a warning at
 * start when on) the service's crm_now_us() runs an offset ahead of the
 * wall clock: the setting gives the offset at start (so a restart can
 * resume "later"), and the command crm.clock.set moves it while running
 * and runs the periodic scans at once, so what fell due is found without
 * waiting for a period. Without the setting the command does not exist. */
#include "svc_int.h"

#include <crm/config.h>
#include <crm/log.h>
#include <crm/util.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/testing.pb-c.h"

#define S_SETTING "CRM_TEST_CLOCK"

static void s_clock_set(crm_work_t *w)
{
    const Crm__V1__ClockSetRequest *rq = (const void *)crm_work_request(w);
    crm_clock_set_offset(rq->offset_us);
    crm_warn("clock.test", "test clock set %lld us ahead of the wall clock",
             (long long)rq->offset_us);
    crm_service_every_now(crm_work_service(w));
    Crm__V1__ClockSetReply r = CRM__V1__CLOCK_SET_REPLY__INIT;
    r.now_us = crm_now_us();
    r.offset_us = rq->offset_us;
    crm_work_ok(w, &r.base);
}

/* Read-only: it writes nothing to the database, so it needs no
 * idempotency key; setting an offset twice sets the same time. */
static const crm_command_def_t s_clock_cmd = {
    "crm.clock.set", &crm__v1__clock_set_request__descriptor, s_clock_set, 1, CRM_REC_CONFIG,
    CRM_ACT_EDIT};

int crm_clock_init(crm_service_t *svc)
{
    const char *v = crm_config_str(svc->config, S_SETTING);
    if (!v || !*v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long off = strtoll(v, &end, 10);
    if (errno || end == v || *end) {
        crm_error("config.invalid", "%s: not a number of microseconds", S_SETTING);
        return -1;
    }
    svc->test_clock = 1;
    crm_clock_set_offset(off);
    crm_warn("clock.test",
             "%s is on: time runs %lld us ahead of the wall clock and crm.clock.set moves it;"
             " for tests only",
             S_SETTING, off);
    return 0;
}

const crm_command_def_t *crm_clock_command(const crm_service_t *svc, const char *name)
{
    return svc->test_clock && !strcmp(name, s_clock_cmd.name) ? &s_clock_cmd : NULL;
}
