/* smtp.c: mail to an SMTP relay (crm/smtp.h). The message comes whole
 * (crm_mime_build makes it with GMime) and is uploaded by libcurl, which
 * speaks SMTP and does the dot-stuffing. */
#include <crm/smtp.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *data;
    size_t len, off;
} s_upload_t;

static size_t s_read(char *buf, size_t size, size_t n, void *user)
{
    s_upload_t *u = user;
    size_t room = size * n, left = u->len - u->off;
    size_t k = left < room ? left : room;
    memcpy(buf, u->data + u->off, k);
    u->off += k;
    return k;
}

int crm_smtp_send(const char *url, const char *from, const char *to, const char *msg, size_t len,
                  char *err, size_t errlen)
{
    char rcpt_addr[320], from_addr[320];
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(err, errlen, "could not start an SMTP transaction");
        return -1;
    }
    snprintf(rcpt_addr, sizeof rcpt_addr, "<%s>", to);
    snprintf(from_addr, sizeof from_addr, "<%s>", from);
    struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_addr);
    s_upload_t up = {msg, len, 0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from_addr);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)CRM_SMTP_TIMEOUT_S);
    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    if (rc != CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        if (code)
            snprintf(err, errlen, "%s (the relay replied %ld)", curl_easy_strerror(rc), code);
        else
            snprintf(err, errlen, "%s", curl_easy_strerror(rc));
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK)
        return 0;
    /* RFC 5321: 5yz replies are permanent; 4yz replies and failures
     * without a reply (no connection, a timeout) may pass. */
    return code >= 500 && code < 600 ? CRM_SMTP_PERMANENT : CRM_SMTP_TRANSIENT;
}
