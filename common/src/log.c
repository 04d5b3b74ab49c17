/* log.c: JSON-lines logs. jansson does the escaping so any message is safe. */
#include <crm/log.h>
#include <crm/util.h>

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Process-wide by nature (stdout is too); written once before threads start. */
static char s_service[64] = "crm";
static crm_log_level_t s_level = CRM_LOG_INFO;
static const char *const s_names[] = {"debug", "info", "warn", "error"};

void crm_log_init(const char *service, crm_log_level_t level)
{
    snprintf(s_service, sizeof s_service, "%s", service ? service : "crm");
    s_level = level;
}

int crm_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, s_names[i]) == 0)
            return i;
    return -1;
}

int crm_log_enabled(crm_log_level_t level)
{
    return level >= s_level;
}

void crm_log_write(crm_log_level_t level, const char *event, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    char ts[40];
    crm_time_format(crm_now_us(), ts, sizeof ts);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", ts, "level", s_names[level],
                          "service", s_service, "event", event, "msg", msg);
    if (!o)
        return;
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line)
        return;
    /* One write per line keeps lines whole when several threads log. */
    size_t n = strlen(line);
    line[n] = '\n';
    fwrite(line, 1, n + 1, stdout);
    fflush(stdout);
    free(line);
}
