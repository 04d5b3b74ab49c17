/* crm/util.h: small helpers every module needs: ids, clocks, hashing. */
#ifndef CRM_UTIL_H
#define CRM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define CRM_UUID_LEN 36 /* without the terminating NUL */

/* Writes a new time-ordered UUID (v7: the millisecond it was made, then
 * random bits), lower-case, NUL-terminated, into out. Ids made later sort
 * after earlier ones, as uuid and as text. */
void crm_uuid_new(char out[CRM_UUID_LEN + 1]);

/* 1 if s is a well-formed UUID in canonical text form, else 0. */
int crm_uuid_valid(const char *s);

/* Wall clock, microseconds since the Unix epoch; plus the test clock's
 * offset (0 unless a test moved it). */
int64_t crm_now_us(void);

/* The test clock (CRM_TEST_CLOCK, tests only): crm_now_us() runs offset_us
 * ahead of the wall clock, so that a test moves time instead of waiting
 * for it. Process-wide; safe from any thread. */
void crm_clock_set_offset(int64_t offset_us);
int64_t crm_clock_offset(void);

/* Monotonic clock in microseconds, for durations. */
int64_t crm_mono_us(void);

/* RFC 3339 UTC with microseconds ("2026-11-22T16:13:35.123456Z") into buf
 * (at least 32 bytes). Returns buf. */
char *crm_time_format(int64_t us, char *buf, size_t len);

/* 64-bit FNV-1a over a buffer, chained through `seed` (start with
 * CRM_HASH_SEED). Used to detect a reused idempotency key with different
 * content, not for security. */
#define CRM_HASH_SEED 0xcbf29ce484222325ULL
uint64_t crm_hash64(uint64_t seed, const void *data, size_t len);

/* The ETag of a record as a read command answered it: crm_hash64 of the
 * reply bytes as a quoted 16-digit hex string ("\"0123456789abcdef\"").
 * The gateway sends it in ETag headers; the service computes it again to
 * check a crm.v1.Precondition. out holds at least CRM_ETAG_LEN bytes. */
#define CRM_ETAG_LEN 20
void crm_etag(const void *reply, size_t len, char out[CRM_ETAG_LEN]);

/* strdup that returns NULL for NULL. */
char *crm_strdup0(const char *s);

#endif
