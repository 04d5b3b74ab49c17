/* crm/identity.h: one customer id across every service, without asking.
 *
 * The rule (docs/architecture.md, "Customer identity"): a person first met
 * with an email gets the id UUIDv5(CRM namespace, normalised email), so two
 * services that register the same email independently compute the same id
 * and their records meet. A person met without an email gets a random
 * (v4) id; adding an email later does not change it. Normalisation is
 * deliberately conservative: trim, lower-case the whole address, and check
 * its shape; no provider-specific rewriting (dots, +tags), which would
 * merge different people. */
#ifndef CRM_IDENTITY_H
#define CRM_IDENTITY_H

#include <stddef.h>

#include <crm/util.h>

/* The namespace of customer ids (a fixed, random v4 UUID of our own). */
#define CRM_CUSTOMER_NAMESPACE "6f1c1b1e-3c0b-4c55-9d3e-2a8f7c9e5b10"

/* Writes the normalised form of `email` into out. Returns 0, or -EINVAL if
 * it is not an address (one '@', a non-empty local part, a domain with a
 * dot and no empty label, no spaces or control characters, at most 254
 * bytes), or -ENOSPC if out is too small. */
int crm_email_normalize(const char *email, char *out, size_t len);

/* The customer id for a normalised email. */
void crm_customer_id_for_email(const char *normalized_email, char out[CRM_UUID_LEN + 1]);

/* Writes a phone number as '+' and digits only when it had a leading '+' or
 * "00", else digits only; spaces, dots, dashes and brackets are dropped.
 * Persian (U+06F0-U+06F9) and Arabic-Indic (U+0660-U+0669) digits count as
 * the digits 0-9, a no-break space as a space, and right-to-left direction
 * marks are ignored, so "۰۹۱۲ ۳۴۵ ۶۷۸۹" is "09123456789".
 * Returns 0, or -EINVAL if it holds other characters or fewer than 5 or more
 * than 15 digits, or -ENOSPC. */
int crm_phone_normalize(const char *phone, char *out, size_t len);

#endif
