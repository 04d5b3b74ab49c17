/* util.c: ids, clocks and hashing shared by every module. */
#include <crm/util.h>

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <uuid/uuid.h>

/* Random bytes for ids, drawn from the kernel's CSPRNG a pool at a time:
 * libuuid's uuid_generate_random makes five system calls per id (it
 * reseeds its fallback generator every time), and every emitted event
 * takes an id. The pool is per thread, and a child after fork() starts
 * with an empty one so parent and child never hand out the same bytes. */
#define CRM_RANDOM_POOL 4096
static _Thread_local unsigned char s_pool[CRM_RANDOM_POOL];
static _Thread_local size_t s_pool_left;
static _Atomic unsigned s_fork_gen = 1;
static _Thread_local unsigned s_pool_gen;
static pthread_once_t s_atfork_once = PTHREAD_ONCE_INIT;

static void s_after_fork(void)
{
    s_fork_gen++;
}

static void s_atfork(void)
{
    pthread_atfork(NULL, NULL, s_after_fork);
}

static int s_random(unsigned char *out, size_t n)
{
    pthread_once(&s_atfork_once, s_atfork);
    if (s_pool_gen != s_fork_gen) {
        s_pool_gen = s_fork_gen;
        s_pool_left = 0;
    }
    if (s_pool_left < n) {
        size_t got = 0;
        while (got < sizeof s_pool) {
            ssize_t r = getrandom(s_pool + got, sizeof s_pool - got, 0);
            if (r < 0)
                return -1;
            got += (size_t)r;
        }
        s_pool_left = sizeof s_pool;
    }
    unsigned char *p = s_pool + sizeof s_pool - s_pool_left;
    memcpy(out, p, n);
    memset(p, 0, n); /* not kept around once handed out */
    s_pool_left -= n;
    return 0;
}

/* Ids are UUIDv7 (RFC 9562): 48 bits of Unix time in milliseconds, the
 * version, 12 bits of the fraction of the millisecond (the RFC's method 3),
 * the variant and 62 random bits. An id made later sorts after one made
 * earlier (as text too: fixed-width lower-case hex), so a btree keyed by
 * the ids a service makes (orders, activities, tickets, events, the
 * clients' idempotency keys) takes each insert at its right edge, in pages
 * already in memory, instead of on a random leaf: once such an index
 * outgrows shared buffers a random leaf is a read, and the first write of
 * a leaf after a checkpoint a full-page image in the WAL (bench/README,
 * "the long mode at 1,000,000 rows"). A v7 id is a UUID like any other:
 * nothing reads its version. It shows when it was made, to the
 * millisecond, which every record says in its created_at anyway; the 62
 * random bits keep ids of the same instant apart and unguessable. The
 * clock is the real one (not crm_now_us's test offset). */
void crm_uuid_new(char out[CRM_UUID_LEN + 1])
{
    uuid_t u;
    if (s_random(u, sizeof u) < 0) {
        uuid_generate_random(u);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        /* the rest of the millisecond in 1/4096ths */
        unsigned frac = (unsigned)(((uint64_t)(ts.tv_nsec % 1000000) << 12) / 1000000);
        for (int i = 0; i < 6; i++)
            u[i] = (unsigned char)(ms >> (40 - 8 * i));
        u[6] = (unsigned char)(0x70 | (frac >> 8)); /* version 7 */
        u[7] = (unsigned char)frac;
        u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    }
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
