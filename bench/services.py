"""Benchmarks of the real services' hot paths, driven by bench.py:

- analytics: events per second crm-analytics applies, from a backlog
  (replay catch-up) and live (steady rate, event to projection latency);
- sales: sales.person.register through crm-sales at a few concurrencies
  (crm-bench-commands, the program of the durable-commands benchmark)
  against pgbench in the same run, at half its ceiling, order.create and
  activity.log, and with --sales-preload people in the table;
- marketing: recipients decided per second by crm-marketing's send scan for
  an SMS campaign (deliveries are only recorded: no SMTP);
- bridge: events per second crm-bridge-nats puts into NATS JetStream from a
  backlog (skipped when nats-server is not installed);
- api: POST /v1/people requests per second through crm-api (crm-bench-http)
  against sales.person.register over the native protocol
  (crm-bench-commands), at the same concurrency on the same stack, and
  their ratio (target at least 0.8).

Each part is a module of its own (svc_analytics.py, svc_sales.py,
svc_marketing.py, svc_edges.py) on what they share (svc_common.py); this
module is the one name bench.py and the tools import."""
from svc_common import (
    Rpc, Stack, load_protos, positions, q1)
from svc_analytics import (
    analytics_events, bench_analytics, campaign_created, emit_bodies, emit_watched)
from svc_sales import bench_sales
from svc_marketing import bench_marketing
from svc_edges import bench_api, bench_bridge, bench_webhooks

# What bench.py and the tools (live_trace.py, sales_set_cost.py,
# ticket_cost.py, marketing_cost.py) take from here.
__all__ = ["Rpc", "Stack", "load_protos", "positions", "q1", "analytics_events",
           "bench_analytics", "campaign_created", "emit_bodies", "emit_watched",
           "bench_sales", "bench_marketing", "bench_api", "bench_bridge", "bench_webhooks"]
