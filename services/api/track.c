/* track.c: the tracking links of campaign mail, unauthenticated, the
 * signed token in the path: GET /t/o/{token} (the open pixel), GET
 * /t/c/{token} (a click: 302 to the link's target), GET /t/u/{token} (a
 * page confirming an unsubscribe) and POST /t/u/{token} (RFC 8058 one-click
 * unsubscribe, body "List-Unsubscribe=One-Click"). Marketing checks the
 * token's signature and records the response once (marketing.track.*);
 * the gateway only forwards. A forged or expired token gets a bare 404:
 * nothing tells a guesser why. */
#include "api.h"

#include <crm/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crm/v1/marketing.pb-c.h"

#define S_TOKEN_MAX 512

typedef struct {
    api_t *api;
    crm_http_req_t *req;
    char kind; /* 'o', 'c', 'u' */
} s_track_t;

/* The smallest transparent GIF (43 bytes). */
static const unsigned char s_gif[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

static const char s_nostore[] = "Cache-Control: no-store\r\n";

static void s_gone(api_t *api, crm_http_req_t **req)
{
    api_problem(api, req, API_P_NOT_FOUND, 404, "unknown or expired link", NULL, NULL, NULL,
                s_nostore);
}

static int s_url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return strlen(u) < 2000;
}

static void s_on_reply(api_t *api, int rc, const Crm__V1__CommandReply *rep, void *arg)
{
    s_track_t *t = arg;
    if (rc < 0 ||
        (rep->status && rep->status->code == CRM__V1__STATUS_CODE__STATUS_CODE_UNAVAILABLE)) {
        api_problem(api, &t->req, API_P_UNAVAILABLE, 503, "try again later", NULL, NULL, NULL,
                    "Retry-After: 5\r\n");
    } else if (rep->status && rep->status->code != CRM__V1__STATUS_CODE__STATUS_CODE_OK) {
        s_gone(api, &t->req);
    } else {
        Crm__V1__TrackReply *r = crm__v1__track_reply__unpack(NULL, rep->body.len, rep->body.data);
        if (t->kind == 'o') {
            crm_http_req_respond(&t->req, 200, "image/gif", s_nostore, (const char *)s_gif,
                                 sizeof s_gif);
        } else if (t->kind == 'c') {
            if (r && s_url_ok(r->redirect_url)) {
                char hdr[2100];
                snprintf(hdr, sizeof hdr, "Location: %s\r\nCache-Control: no-store\r\n",
                         r->redirect_url);
                crm_http_req_respond(&t->req, 302, "text/plain", hdr, "", 0);
            } else {
                s_gone(api, &t->req);
            }
        } else {
            static const char page[] =
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribed</title>"
                "</head><body><p>You are unsubscribed and will get no more of these "
                "messages.</p></body></html>";
            crm_http_req_respond(&t->req, 200, "text/html; charset=utf-8", s_nostore, page,
                                 sizeof page - 1);
        }
        if (r)
            crm__v1__track_reply__free_unpacked(r, NULL);
    }
    free(t);
}

int api_track_request(api_t *api, crm_http_req_t **req)
{
    const char *path = crm_http_req_path(*req);
    const char *method = crm_http_req_method(*req);
    if (strlen(path) < 6 || path[4] != '/' || !strchr("ocu", path[3]))
        return 0;
    char kind = path[3];
    const char *token = path + 5;
    size_t n = strlen(token);
    int ok = n > 0 && n <= S_TOKEN_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (token[i] >= 'a' && token[i] <= 'z') || (token[i] >= 'A' && token[i] <= 'Z') ||
             (token[i] >= '0' && token[i] <= '9') || strchr("-_.~", token[i]);
    if (!ok) {
        s_gone(api, req);
        return 1;
    }
    int post = !strcmp(method, "POST");
    if (strcmp(method, "GET") != 0 && !(post && kind == 'u')) {
        api_problem(api, req, API_P_METHOD, 405, "method not allowed", NULL, NULL, NULL, NULL);
        return 1;
    }
    if (kind == 'u' && !post) {
        /* Mail scanners follow GET links: only the POST unsubscribes. */
        char page[1400];
        int len = snprintf(page, sizeof page,
                           "<!doctype html><html><head><meta charset=\"utf-8\">"
                           "<title>Unsubscribe</title></head><body>"
                           "<form method=\"post\" action=\"/t/u/%s\">"
                           "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                           "<p>Stop receiving these messages?</p>"
                           "<button type=\"submit\">Unsubscribe</button></form></body></html>",
                           token);
        crm_http_req_respond(req, 200, "text/html; charset=utf-8", s_nostore, page, (size_t)len);
        return 1;
    }
    if (post) {
        size_t blen = 0;
        const char *body = crm_http_req_body(*req, &blen);
        if (!strstr(body, "List-Unsubscribe=One-Click")) {
            api_problem(api, req, API_P_INVALID_INPUT, 400, "not a one-click unsubscribe", NULL,
                        "the body must be List-Unsubscribe=One-Click (RFC 8058)", NULL, NULL);
            return 1;
        }
    }
    Crm__V1__TrackRequest tr = CRM__V1__TRACK_REQUEST__INIT;
    tr.token = (char *)token;
    size_t len = crm__v1__track_request__get_packed_size(&tr);
    uint8_t *buf = malloc(len ? len : 1);
    s_track_t *t = calloc(1, sizeof *t);
    if (!buf || !t) {
        free(buf);
        free(t);
        api_problem(api, req, API_P_UNAVAILABLE, 503, "try again later", NULL, NULL, NULL, NULL);
        return 1;
    }
    crm__v1__track_request__pack(&tr, buf);
    t->api = api;
    t->req = *req;
    t->kind = kind;
    *req = NULL;
    /* One key per link and kind: following a link twice is answered the
     * same way, and marketing records the response once anyway. */
    char key[64];
    snprintf(key, sizeof key, "track:%c:%016llx%016llx", kind,
             (unsigned long long)crm_hash64(1, token, n),
             (unsigned long long)crm_hash64(2, token, n));
    const char *cmd = kind == 'o'   ? "marketing.track.open"
                      : kind == 'c' ? "marketing.track.click"
                                    : "marketing.track.unsubscribe";
    int rc = api_call(api, "marketing", cmd, buf, len, key, "", s_on_reply, t);
    free(buf);
    if (rc < 0) {
        api_problem(api, &t->req, API_P_UNAVAILABLE, 503, "try again later", NULL, NULL, NULL,
                    "Retry-After: 5\r\n");
        free(t);
    }
    return 1;
}
