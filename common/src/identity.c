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

int crm_phone_normalize(const char *phone, char *out, size_t len)
{
    if (!phone)
        return -EINVAL;
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
