/* crm/metrics.h: the metrics every process exports beside its own, in the
 * Prometheus text format: crm_build_info{version,schema} and the standard
 * process_* family (as the official client libraries name them), so that
 * dashboards and alerts work the same for every component. */
#ifndef CRM_METRICS_H
#define CRM_METRICS_H

#include "crm/http.h"

/* The release version, e.g. "0.1.0" (CMake's project version). */
const char *crm_version(void);

/* SHA-256 (hex) of the descriptor set crm.binpb this program was built
 * with: equal hashes mean the same schemas. */
const char *crm_schema_hash(void);

/* Appends crm_build_info and process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds and process_start_time_seconds to res.
 * The process figures come from /proc/self (kernel memory, no disk I/O, so
 * fine on the event loop); one that cannot be read is left out. */
void crm_metrics_write_std(crm_http_response_t *res);

#endif
