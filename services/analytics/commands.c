/* commands.c: the whole surface of crm-analytics on one screen: every
 * command it answers, with its request message and whether it only reads,
 * and the streams it consumes. The handlers are in handlers/, one file per
 * aggregate. */
#include "analytics.h"

#include "handlers/handlers.h"

#include "crm/v1/person.pb-c.h"

#define S_REPORT(name, fn)                                                                         \
    {                                                                                              \
        name, &crm__v1__analytics_query__descriptor, fn, 1, CRM_REC_REPORT, CRM_ACT_READ           \
    }

const crm_command_def_t analytics_commands[] = {
    /* handlers/customer.c */
    S_REPORT("analytics.customer.show", analytics_customer_show),
    S_REPORT("analytics.customer.timeline", analytics_customer_timeline),
    /* handlers/report.c */
    S_REPORT("analytics.report.kpis", analytics_report_kpis),
    S_REPORT("analytics.report.health", analytics_report_health),
    S_REPORT("analytics.report.potential", analytics_report_potential),
    S_REPORT("analytics.report.pipeline", analytics_report_pipeline),
    S_REPORT("analytics.report.forecast", analytics_report_forecast),
    S_REPORT("analytics.report.weekly_activity", analytics_report_weekly),
    S_REPORT("analytics.report.campaigns", analytics_report_campaigns),
    S_REPORT("analytics.report.data_quality", analytics_report_data_quality),
    S_REPORT("analytics.report.trends", analytics_report_trends),
    S_REPORT("analytics.report.channels", analytics_report_channels),
    /* handlers/data_quality.c */
    {"analytics.data_quality.scan", &crm__v1__data_quality_scan_request__descriptor,
     analytics_dq_scan_cmd, 0, CRM_REC_REPORT, CRM_ACT_CREATE},
    {"analytics.data_quality.resolve", &crm__v1__data_quality_resolve_request__descriptor,
     analytics_dq_resolve, 0, CRM_REC_REPORT, CRM_ACT_EDIT},
    /* handlers/rebuild.c */
    {"analytics.rebuild", &crm__v1__rebuild_request__descriptor, analytics_rebuild, 0,
     CRM_REC_CONFIG, CRM_ACT_EDIT},
    {"analytics.status", &crm__v1__analytics_status_request__descriptor, analytics_status, 1,
     CRM_REC_NONE, CRM_ACT_READ},
    /* handlers/erasure.c */
    {"analytics.person.export", &crm__v1__export_person_request__descriptor,
     analytics_person_export, 1, CRM_REC_PERSONAL_DATA, CRM_ACT_READ},
    {NULL, NULL, NULL, 0, CRM_REC_NONE, CRM_ACT_READ},
};

/* handlers/fold.c. Every topic of each source: one consumer per source, so
 * that each keeps its own position and a slow source does not hold the
 * others back. */
static const char *const s_sales[] = {"crm.sales.", NULL};
static const char *const s_marketing[] = {"crm.marketing.", NULL};
static const char *const s_support[] = {"crm.support.", NULL};

const crm_consumer_def_t analytics_consumers[] = {
    {"analytics.sales", s_sales, analytics_apply},
    {"analytics.marketing", s_marketing, analytics_apply},
    {"analytics.support", s_support, analytics_apply},
    {NULL, NULL, NULL},
};
