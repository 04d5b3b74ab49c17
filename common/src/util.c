/* util.c: ids, clocks and hashing shared by every module. */
#include <crm/util.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

void crm_uuid_new(char out[CRM_UUID_LEN + 1])
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

int crm_uuid_valid(const char *s)
{
    uuid_t u;
    if (!s || strlen(s) != CRM_UUID_LEN)
        return 0;
    return uuid_parse(s, u) == 0;
}

/* The one process-wide value: the clock is the process's, like the
 * real one, and 0 outside tests. */
static _Atomic int64_t s_clock_offset;

int64_t crm_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
           atomic_load_explicit(&s_clock_offset, memory_order_relaxed);
}

void crm_clock_set_offset(int64_t offset_us)
{
    atomic_store_explicit(&s_clock_offset, offset_us, memory_order_relaxed);
}

int64_t crm_clock_offset(void)
{
    return atomic_load_explicit(&s_clock_offset, memory_order_relaxed);
}

int64_t crm_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *crm_time_format(int64_t us, char *buf, size_t len)
{
    time_t secs = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06ldZ", base, frac);
    return buf;
}

uint64_t crm_hash64(uint64_t seed, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void crm_etag(const void *reply, size_t len, char out[CRM_ETAG_LEN])
{
    snprintf(out, CRM_ETAG_LEN, "\"%016" PRIx64 "\"", crm_hash64(CRM_HASH_SEED, reply, len));
}

char *crm_strdup0(const char *s)
{
    return s ? strdup(s) : NULL;
}
