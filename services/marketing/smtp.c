/* smtp.c: the email adapter. The message is built in memory (headers,
 * a blank line, the body with CRLF line ends) and uploaded by libcurl,
 * which speaks SMTP and does the dot-stuffing. */
#include "smtp.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The message text (subject already free of CR and LF); caller frees. */
static char *s_message(const char *from, const char *to, const char *subject, const char *body)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    size_t cap = strlen(from) + strlen(to) + strlen(subject) + 2 * strlen(body) + 256;
    char *m = malloc(cap);
    if (!m)
        return NULL;
    int n = snprintf(m, cap,
                     "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n\r\n",
                     date, from, to, subject);
    char *o = m + n;
    for (const char *b = body; *b; b++) {
        if (*b == '\r')
            continue;
        if (*b == '\n')
            *o++ = '\r';
        *o++ = *b;
    }
    memcpy(o, "\r\n", 3);
    return m;
}

int mkt_smtp_send(const char *url, const char *from, const char *to, const char *subject,
                  const char *body, char *err, size_t errlen)
{
    char *clean = strdup(subject), rcpt_addr[320], from_addr[320];
    if (!clean) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (char *c = clean; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    char *msg = s_message(from, to, clean, body);
    free(clean);
    CURL *curl = msg ? curl_easy_init() : NULL;
    if (!curl) {
        free(msg);
        snprintf(err, errlen, "could not start an SMTP transaction");
        return -1;
    }
    snprintf(rcpt_addr, sizeof rcpt_addr, "<%s>", to);
    snprintf(from_addr, sizeof from_addr, "<%s>", from);
    struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_addr);
    s_upload_t up = {msg, strlen(msg), 0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from_addr);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)MKT_SMTP_TIMEOUT_S);
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
    free(msg);
    if (rc == CURLE_OK)
        return 0;
    /* RFC 5321: 5yz replies are permanent; 4yz replies and failures
     * without a reply (no connection, a timeout) may pass. */
    return code >= 500 && code < 600 ? MKT_SMTP_PERMANENT : MKT_SMTP_TRANSIENT;
}
