/* metrics.c: build information and process metrics for /metrics (see
 * crm/metrics.h). Linux only, like the rest of the project: the figures are
 * those of /proc/self, read at each scrape. */
#include "crm/metrics.h"

#include "crm/version.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

const char *crm_version(void)
{
    return CRM_VERSION;
}

const char *crm_schema_hash(void)
{
    return CRM_SCHEMA_SHA256;
}

typedef struct {
    double cpu_seconds;
    double start_seconds; /* since the Unix epoch */
    uint64_t vsize, rss;
} s_stat_t;

/* The boot time from /proc/stat ("btime"), or 0. */
static long long s_boot_time(void)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return 0;
    char line[256];
    long long btime = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lld", &btime) == 1)
            break;
    fclose(f);
    return btime;
}

/* Fields of /proc/self/stat (proc(5)): utime 14, stime 15, starttime 22,
 * vsize 23, rss 24. The command name (field 2) may hold spaces and
 * parentheses, so parsing starts after its last ')'. Returns 0 or -1. */
static int s_read_stat(s_stat_t *st)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long utime, stime;
    unsigned long long start, vsize;
    long rss;
    /* From field 3 (state) on; %*s skips the ones we do not use. */
    if (sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d"
               " %llu %llu %ld",
               &utime, &stime, &start, &vsize, &rss) != 5)
        return -1;
    long tck = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    if (tck <= 0 || page <= 0)
        return -1;
    st->cpu_seconds = (double)(utime + stime) / (double)tck;
    st->start_seconds = (double)s_boot_time() + (double)start / (double)tck;
    st->vsize = vsize;
    st->rss = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
    return 0;
}

static int s_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* not the descriptor opendir itself holds */
}

void crm_metrics_write_std(crm_http_response_t *res)
{
    crm_http_response_printf(res,
                             "# HELP crm_build_info Release version and schema hash (SHA-256"
                             " of crm.binpb) of this program.\n# TYPE crm_build_info gauge\n"
                             "crm_build_info{version=\"%s\",schema=\"%s\"} 1\n",
                             CRM_VERSION, CRM_SCHEMA_SHA256);
    s_stat_t st;
    if (s_read_stat(&st) == 0)
        crm_http_response_printf(
            res,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %" PRIu64
            "\n# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %" PRIu64
            "\n# HELP process_start_time_seconds Start time of the process since unix epoch in"
            " seconds.\n# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds %.2f\n",
            st.cpu_seconds, st.rss, st.vsize, st.start_seconds);
    int fds = s_open_fds();
    if (fds >= 0)
        crm_http_response_printf(res,
                                 "# HELP process_open_fds Number of open file descriptors.\n"
                                 "# TYPE process_open_fds gauge\nprocess_open_fds %d\n",
                                 fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        crm_http_response_printf(res,
                                 "# HELP process_max_fds Maximum number of open file descriptors.\n"
                                 "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
                                 (unsigned long long)rl.rlim_cur);
}
