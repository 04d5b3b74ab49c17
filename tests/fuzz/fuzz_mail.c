/* fuzz_mail.c: the help desk's mail reader (services/support/mail.c), fed
 * raw messages as a mail server would hand them over. The text it finds
 * must lie inside the caller's buffer and every field must be a string
 * within its size. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* support.email.receive caps the raw message; keep the fuzzer there. */
    if (size > 256 * 1024)
        return 0;
    size_t cap = 3 * size + 1024; /* as support.email.receive gives it */
    char *buf = malloc(cap);
    if (!buf)
        return 0;
    support_mail_t out;
    crm_err_t e;
    memset(&out, 0, sizeof out);
    if (support_mail_parse((const char *)data, size, buf, cap, &out, &e) == 0) {
        CRM_FUZZ_CHECK(out.body != NULL);
        CRM_FUZZ_CHECK(out.body >= buf && out.body < buf + cap);
        CRM_FUZZ_CHECK(strlen(out.body) < (size_t)(buf + cap - out.body));
        CRM_FUZZ_CHECK(memchr(out.from, 0, sizeof out.from) != NULL);
        CRM_FUZZ_CHECK(memchr(out.name, 0, sizeof out.name) != NULL);
        CRM_FUZZ_CHECK(memchr(out.subject, 0, sizeof out.subject) != NULL);
        CRM_FUZZ_CHECK(memchr(out.ticket_id, 0, sizeof out.ticket_id) != NULL);
    }
    free(buf);
    return 0;
}
