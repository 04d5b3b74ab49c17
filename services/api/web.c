/* web.c: the dashboard's static files (services/api/web, copied into the
 * build's web/ directory by the `dashboard` target; docs/dashboard.md).
 * They are few and small, so they are read once at start, before the loop
 * runs, into one table: serving is a lookup in memory that never touches
 * the disk, and a path that is not in the table - "..", an encoded
 * slash, a symlink skipped at load - simply is not found, so there is no
 * directory traversal to guard against. `/` is index.html and `/ui/<path>`
 * the rest. Every answer carries an ETag (answered 304 to If-None-Match),
 * Cache-Control: no-cache (the browser revalidates, so a new build shows at
 * once), and a Content-Security-Policy that allows only this origin's
 * scripts, styles and connections. */
#include "api.h"

#include <crm/log.h>
#include <crm/util.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_MAX_FILES 256
#define S_MAX_FILE_BYTES (8u << 20)
#define S_MAX_DEPTH 4

typedef struct {
    char *path; /* relative, "lib/api.js" */
    char *data;
    size_t len;
    const char *type;
    char etag[24];
} s_file_t;

struct api_web {
    s_file_t files[S_MAX_FILES];
    size_t n;
};

static const char S_HEADERS[] =
    "Cache-Control: no-cache\r\n"
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';"
    " img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Frame-Options: DENY\r\n";

static const char *s_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL; /* not served */
}

static int s_load_file(struct api_web *w, const char *full, const char *rel, off_t size)
{
    const char *type = s_type(rel);
    if (!type)
        return 0; /* not a kind of file the dashboard serves */
    if (w->n >= S_MAX_FILES || size < 0 || (size_t)size > S_MAX_FILE_BYTES) {
        crm_warn("api.web", "not served: %s (more than %d files, or over %u bytes)", rel,
                 S_MAX_FILES, S_MAX_FILE_BYTES);
        return 0;
    }
    FILE *f = fopen(full, "rb");
    if (!f)
        return -errno;
    s_file_t *sf = &w->files[w->n];
    sf->data = malloc((size_t)size + 1);
    sf->path = strdup(rel);
    size_t got = sf->data ? fread(sf->data, 1, (size_t)size, f) : 0;
    fclose(f);
    if (!sf->data || !sf->path || got != (size_t)size) {
        free(sf->data);
        free(sf->path);
        return -EIO;
    }
    sf->len = got;
    sf->type = type;
    snprintf(sf->etag, sizeof sf->etag, "\"%016" PRIx64 "\"",
             crm_hash64(CRM_HASH_SEED, sf->data, sf->len));
    w->n++;
    return 0;
}

static int s_load_dir(struct api_web *w, const char *root, const char *rel, int depth)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", hidden files */
        char full[1024], sub[512];
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                (int)sizeof sub ||
            snprintf(full, sizeof full, "%s/%s", root, sub) >= (int)sizeof full)
            continue;
        struct stat st;
        if (lstat(full, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < S_MAX_DEPTH)
            rc = s_load_dir(w, root, sub, depth + 1);
        else if (S_ISREG(st.st_mode))
            rc = s_load_file(w, full, sub, st.st_size);
        /* symlinks and anything else are not served */
    }
    closedir(d);
    return rc;
}

int api_web_start(api_t *api, const char *dir)
{
    if (!*dir)
        return 0;
    struct api_web *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    int rc = s_load_dir(w, dir, "", 0);
    api->web = w;
    if (rc < 0 || w->n == 0) {
        crm_warn("api.web", "the dashboard is not served: could not read %s: %s", dir,
                 rc < 0 ? strerror(-rc) : "no files");
        return 0;
    }
    crm_info("api.web", "serving the dashboard: %zu files from %s", w->n, dir);
    return 0;
}

void api_web_stop(api_t *api)
{
    struct api_web *w = api->web;
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->files[i].path);
        free(w->files[i].data);
    }
    free(w);
    api->web = NULL;
}

int api_web_request(api_t *api, crm_http_req_t **req)
{
    const char *path = crm_http_req_path(*req);
    const char *rel;
    if (!strcmp(path, "/") || !strcmp(path, "/ui/") || !strcmp(path, "/ui"))
        rel = "index.html";
    else if (!strncmp(path, "/ui/", 4))
        rel = path + 4;
    else
        return 0;
    if (strcmp(crm_http_req_method(*req), "GET") != 0) {
        api_problem(api, req, API_P_METHOD, 405, "method not allowed", NULL,
                    crm_http_req_method(*req), "the dashboard's files are read with GET", NULL);
        return 1;
    }
    const s_file_t *f = NULL;
    for (size_t i = 0; api->web && i < api->web->n && !f; i++)
        if (!strcmp(api->web->files[i].path, rel))
            f = &api->web->files[i];
    if (!f) {
        api_problem(api, req, API_P_NOT_FOUND, 404, "no such file", NULL, NULL,
                    api->web && api->web->n ? NULL : "the dashboard is not installed (API_WEB_DIR)",
                    NULL);
        return 1;
    }
    char headers[sizeof S_HEADERS + 64];
    snprintf(headers, sizeof headers, "%sETag: %s\r\n", S_HEADERS, f->etag);
    const char *inm = crm_http_req_header(*req, "If-None-Match");
    if (inm && strstr(inm, f->etag))
        crm_http_req_respond(req, 304, NULL, headers, "", 0);
    else
        crm_http_req_respond(req, 200, f->type, headers, f->data, f->len);
    return 1;
}
