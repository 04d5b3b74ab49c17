/* crm/log.h: JSON-lines logging on stdout, one object per line, so that
 * docker and any log shipper can parse it without configuration.
 *
 * The level is checked before any formatting happens (as redis does), so a
 * disabled debug line costs one comparison. */
#ifndef CRM_LOG_H
#define CRM_LOG_H

typedef enum { CRM_LOG_DEBUG = 0, CRM_LOG_INFO, CRM_LOG_WARN, CRM_LOG_ERROR } crm_log_level_t;

/* Process-wide settings, set once at start before any thread exists. */
void crm_log_init(const char *service, crm_log_level_t level);
/* Parses "debug", "info", "warn", "error"; returns -1 if unknown. */
int crm_log_level_parse(const char *s);
int crm_log_enabled(crm_log_level_t level);

/* Writes one line {"time","level","service","event","msg"}, the message
 * formatted printf-style. Use the macros below, which skip the formatting
 * when the level is disabled. */
void crm_log_write(crm_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* `event` is a short stable name ("db.connected") operators can grep for. */
#define crm_log(level, event, ...)                                                                 \
    do {                                                                                           \
        if (crm_log_enabled(level))                                                                \
            crm_log_write(level, event, __VA_ARGS__);                                              \
    } while (0)
#define crm_debug(event, ...) crm_log(CRM_LOG_DEBUG, event, __VA_ARGS__)
#define crm_info(event, ...) crm_log(CRM_LOG_INFO, event, __VA_ARGS__)
#define crm_warn(event, ...) crm_log(CRM_LOG_WARN, event, __VA_ARGS__)
#define crm_error(event, ...) crm_log(CRM_LOG_ERROR, event, __VA_ARGS__)

#endif
