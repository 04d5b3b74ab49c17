/* identity.c: normalised contact details and deterministic customer ids. */
#include <crm/identity.h>

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <uuid/uuid.h>

int crm_email_normalize(const char *email, char *out, size_t len)
{
    if (!email)
        return -EINVAL;
    while (*email && isspace((unsigned char)*email))
        email++;
    size_t n = strlen(email);
    while (n > 0 && isspace((unsigned char)email[n - 1]))
        n--;
    if (n == 0 || n > 254)
        return -EINVAL;
    if (n + 1 > len)
        return -ENOSPC;
    const char *at = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c <= ' ' || c == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ';' ||
            c == '<' || c == '>' || c == '[' || c == ']' || c == '\\')
            return -EINVAL;
        if (c == '@') {
            if (at)
                return -EINVAL;
            at = email + i;
        }
        out[i] = (char)tolower(c);
    }
    out[n] = 0;
    if (!at || at == email || (size_t)(at - email) > 64)
        return -EINVAL;
    const char *domain = out + (at - email) + 1;
    size_t dl = strlen(domain);
    if (dl < 3 || !strchr(domain, '.') || domain[0] == '.' || domain[dl - 1] == '.' ||
        strstr(domain, "..") || domain[0] == '-')
        return -EINVAL;
    for (const char *p = out; p < domain - 1; p++)
        if (p[0] == '.' && p[1] == '.')
            return -EINVAL;
    if (out[0] == '.' || out[at - email - 1] == '.')
        return -EINVAL;
    return 0;
}

void crm_customer_id_for_email(const char *normalized_email, char out[CRM_UUID_LEN + 1])
{
    uuid_t ns, id;
    uuid_parse(CRM_CUSTOMER_NAMESPACE, ns);
    uuid_generate_sha1(id, ns, normalized_email, strlen(normalized_email));
    uuid_unparse_lower(id, out);
}

/* Phone numbers as people type them in Persian or Arabic: Persian digits
 * (U+06F0-U+06F9) and Arabic-Indic ones (U+0660-U+0669) are the digits 0-9,
 * a no-break space is a space, and the invisible direction marks that right-
 * to-left text carries around a number (LRM, RLM, ALM, embeddings and
 * isolates) are dropped. Writes the ASCII form into out; -EINVAL when it does
 * not fit (no phone number is that long). */
static int s_phone_ascii(const char *in, char *out, size_t len)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    while (*p) {
        char c = 0;
        size_t n = 1;
        if (p[0] == 0xDB && p[1] >= 0xB0 && p[1] <= 0xB9) { /* U+06F0.. Persian */
            c = (char)('0' + (p[1] - 0xB0));
            n = 2;
        } else if (p[0] == 0xD9 && p[1] >= 0xA0 && p[1] <= 0xA9) { /* U+0660.. Arabic */
            c = (char)('0' + (p[1] - 0xA0));
            n = 2;
        } else if (p[0] == 0xC2 && p[1] == 0xA0) { /* U+00A0 no-break space */
            c = ' ';
            n = 2;
        } else if (p[0] == 0xD8 && p[1] == 0x9C) { /* U+061C arabic letter mark */
            n = 2;
        } else if (p[0] == 0xE2 && p[1] == 0x80 &&
                   (p[2] == 0x8E || p[2] == 0x8F || (p[2] >= 0xAA && p[2] <= 0xAE))) {
            n = 3; /* U+200E LRM, U+200F RLM, U+202A..U+202E embeddings */
        } else if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9) {
            n = 3; /* U+2066..U+2069 isolates */
        } else {
            c = (char)p[0];
        }
        if (c) {
            if (o + 1 >= len)
                return -EINVAL;
            out[o++] = c;
        }
        p += n;
    }
    out[o] = 0;
    return 0;
}

int crm_phone_normalize(const char *typed, char *out, size_t len)
{
    char ascii[256];
    if (!typed || s_phone_ascii(typed, ascii, sizeof ascii) < 0)
        return -EINVAL;
    const char *phone = ascii;
    while (*phone && isspace((unsigned char)*phone))
        phone++;
    size_t o = 0, digits = 0;
    int plus = 0;
    if (*phone == '+') {
        plus = 1;
        phone++;
    } else if (phone[0] == '0' && phone[1] == '0') {
        plus = 1;
        phone += 2;
    }
    if (plus) {
        if (len < 2)
            return -ENOSPC;
        out[o++] = '+';
    }
    for (; *phone; phone++) {
        unsigned char c = (unsigned char)*phone;
        if (isdigit(c)) {
            if (o + 2 > len)
                return -ENOSPC;
            out[o++] = (char)c;
            digits++;
        } else if (c != ' ' && c != '.' && c != '-' && c != '(' && c != ')' && c != '/') {
            return -EINVAL;
        }
    }
    out[o] = 0;
    return digits >= 5 && digits <= 15 ? 0 : -EINVAL;
}
