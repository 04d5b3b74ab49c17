/* crmctl: the staff's command-line tool for the CRM services.
 *
 * This file holds the table of verbs and the plumbing they share: the
 * command line (global options, verb words, the verb's own options), the
 * configuration (CRM_SERVICES, CRM_BUS_SUB_ENDPOINT), calling a service with
 * a deadline, printing failures in the postgres style and the two output
 * formats. Each verb group lives in its own file (status.c, tail.c,
 * deadletter.c, stream.c; the sales verbs in person.c, org.c, lead.c,
 * pipeline.c, deal.c, order.c, activity.c and demo.c on sales.c; the
 * marketing verbs in campaign.c, segment.c and preference.c on the same
 * engine); adding a
 * verb is adding a row to s_verbs. */
#include "crmctl.h"

#include <crm/config.h>
#include <crm/util.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* Options of one verb plus the global ones. */
#define CRMCTL_MAX_OPTS 32

static int s_help(crmctl_t *ctl, const crmctl_args_t *args);

/* ---- the table of verbs ----------------------------------------------- */

static const crmctl_opt_t s_no_opts[] = {{NULL, 0, NULL, NULL, 0}};

/* Paragraphs the sales verbs share. */
#define SALES_HELP_WRITE                                                                           \
    "Each run sends a new idempotency key (retries of a lost request apply once); give\n"          \
    "--idempotency-key to make running the command again a no-op. Money is decimal text\n"         \
    "(1234.50, at most 2 decimals); dates are YYYY-MM-DD; times are RFC 3339 (UTC when no\n"       \
    "offset is given) or relative (+2h, +30m, +1d, -1d)."
#define SUPPORT_HELP_WRITE                                                                         \
    "Each run sends a new idempotency key (retries of a lost request apply once); give\n"          \
    "--idempotency-key to make running the command again a no-op. The service checks the\n"        \
    "rules: a refused change prints its error, exits with status 1 and changes nothing."
#define SALES_HELP_LIST                                                                            \
    "Prints one page (--limit, default 50) and the --page-token of the next; --all follows\n"      \
    "the pages to the end. -o json prints the reply as in the service's .proto file."

static const crmctl_verb_t s_verbs[] = {
    {"status", crmctl_status, "[--service NAME]...",
     "show each service's stream position and consumers",
     "Calls stream.info on every configured service at once (2 s deadline, no retry). A\n"
     "service that does not answer is shown as down; the command fails (exit 3) only when\n"
     "none answers.",
     crmctl_status_opts, 0},
    {"tail", crmctl_tail,
     "[--type PREFIX] [--source NAME] [--from beginning|now|SEQ] [-n COUNT] [-e] [-v]",
     "print the event stream, one event per line (like kcat -C)",
     "Subscribes to the bus first, then replays each selected source from --from (by default\n"
     "now: only events committed from now on) through stream.replay until it reaches the\n"
     "head, then follows the live stream. Gaps in the live stream (a sequence jump, or a\n"
     "heartbeat ahead of what was printed) are repaired by replay, so no event is skipped or\n"
     "printed twice. -o json prints one JSON object per event: id, source, sequence, type,\n"
     "subject, time, epoch, correlation_id, causation_id and data (the event's payload).\n"
     "A selected source that cannot be reached at start is an error (exit 3); later outages\n"
     "are retried. SIGINT and SIGTERM end it with exit status 0.",
     crmctl_tail_opts, 0},
    {"deadletter list", crmctl_deadletter_list, "[--service NAME] [--consumer NAME] [--limit N]",
     "list the dead letters still failing", NULL, crmctl_deadletter_list_opts, 0},
    {"deadletter retry", crmctl_deadletter_retry, "--service NAME [--consumer NAME] [ID]...",
     "queue dead letters for another attempt",
     "Without IDs every unresolved dead letter of --consumer (of every consumer when\n"
     "--consumer is not given either) is retried. Each invocation is one idempotent\n"
     "request: retries of a lost request are applied at most once.",
     crmctl_deadletter_retry_opts, -1},
    {"stream rotate-epoch", crmctl_stream_rotate_epoch, "--service NAME",
     "start a new stream epoch (after restoring a database)",
     "Consumers that are ahead of the restored stream rewind to the new epoch's start, so\n"
     "events written after the restore are not mistaken for ones they applied already.",
     crmctl_stream_rotate_epoch_opts, 0},
    /* Support (ticket.c, sla.c). */
    {"ticket open", crmctl_ticket_open,
     "--customer ID | --email E [--name N] --subject S [--description D] [--channel C]"
     " [--type T] [--priority P] [--assignee A] [--team T] [--tag T]...",
     "open a ticket for a customer or an unknown requester",
     "An email is enough: an unknown requester is registered and gets the one customer id\n"
     "every service computes from the address. The SLA targets come from the policy of the\n"
     "ticket's priority.\n" SUPPORT_HELP_WRITE,
     crmctl_ticket_open_opts, 0},
    {"ticket show", crmctl_ticket_show, "ID",
     "show a ticket, the customer's do-not-contact channels and the conversation", NULL,
     crmctl_ticket_show_opts, 1},
    {"ticket list", crmctl_ticket_list,
     "[--status S] [--priority P] [--assignee A] [--breached] [--customer ID] [--limit N]"
     " [--page-token T] [--all]",
     "list tickets, oldest first", SALES_HELP_LIST, crmctl_ticket_list_opts, 0},
    {"ticket assign", crmctl_ticket_assign, "ID AGENT [--team T]",
     "give a ticket to an agent (a new ticket opens)",
     "The agent must be one of the service's SUPPORT_AGENTS when that list is "
     "set.\n" SUPPORT_HELP_WRITE,
     crmctl_ticket_assign_opts, 2},
    {"ticket reply", crmctl_ticket_reply, "ID TEXT [--author A] [--from-customer]",
     "add a public reply (the first one meets the first-response target)",
     "--from-customer records the customer's own reply: a pending ticket opens again and its\n"
     "SLA clock resumes; a resolved one is reopened.\n" SUPPORT_HELP_WRITE,
     crmctl_ticket_reply_opts, 2},
    {"ticket note", crmctl_ticket_note, "ID TEXT [--author A]",
     "add an internal note (agents only)", SUPPORT_HELP_WRITE, crmctl_ticket_note_opts, 2},
    {"ticket pend", crmctl_ticket_pend, "ID [--reason R]",
     "wait on the customer (the SLA clock pauses)", SUPPORT_HELP_WRITE, crmctl_ticket_pend_opts, 1},
    {"ticket hold", crmctl_ticket_hold, "ID [--reason R]",
     "wait on a third party (the SLA clock pauses)", SUPPORT_HELP_WRITE, crmctl_ticket_hold_opts,
     1},
    {"ticket resolve", crmctl_ticket_resolve, "ID --category C [--text T] [--tag T]...",
     "record how a ticket was solved", SUPPORT_HELP_WRITE, crmctl_ticket_resolve_opts, 1},
    {"ticket reopen", crmctl_ticket_reopen, "ID [--reason R]",
     "reopen a resolved ticket, or end a wait", SUPPORT_HELP_WRITE, crmctl_ticket_reopen_opts, 1},
    {"ticket close", crmctl_ticket_close, "ID [--reason R]", "close a resolved ticket",
     SUPPORT_HELP_WRITE, crmctl_ticket_close_opts, 1},
    {"ticket rate", crmctl_ticket_rate, "ID --rating 1-5 [--comment C]",
     "record the customer's satisfaction with a resolved or closed ticket", SUPPORT_HELP_WRITE,
     crmctl_ticket_rate_opts, 1},
    {"ticket priority", crmctl_ticket_priority, "ID --priority P [--reason R]",
     "change a ticket's priority; its SLA targets follow the new priority's policy",
     "Business time already used counts against the new targets.\n" SUPPORT_HELP_WRITE,
     crmctl_ticket_priority_opts, 1},
    {"ticket email", crmctl_ticket_email, "[FILE | -]",
     "hand support a customer's email as received (from a mail server)",
     "Reads one message (RFC 5322 headers and body, MIME parts) from FILE or standard input,\n"
     "as a mail server's pipe delivers it. A subject naming a ticket ([ticket:ID]) adds the\n"
     "text as the customer's message to that ticket (a pending ticket opens again and its SLA\n"
     "clock resumes); the sender must be the ticket's requester. Any other mail opens a\n"
     "ticket on the email channel. The Message-ID is the idempotency key, so a delivery\n"
     "retried by the mail server is applied once. Exit status 1: the service refused the\n"
     "mail (printed; nothing changed).",
     crmctl_ticket_email_opts, 1},
    {"sla policy set", crmctl_sla_policy_set,
     "--priority P --first-response MINUTES --resolution MINUTES",
     "set the SLA targets of a priority, in business minutes",
     "Tickets opened from now on use the new targets.\n" SUPPORT_HELP_WRITE,
     crmctl_sla_policy_set_opts, 0},
    {"sla policy list", crmctl_sla_policy_list, "", "list the SLA targets of each priority", NULL,
     crmctl_sla_policy_list_opts, 0},
    {"sla calendar set", crmctl_sla_calendar_set,
     "--hours DAYS=HH:MM-HH:MM... [--holiday DATE]... [--zone ZONE | --utc-offset +HH:MM]",
     "replace the business calendar SLA time is measured in",
     "The hours are local time of --zone (an IANA name such as Europe/Berlin, which follows\n"
     "daylight saving) or of a fixed --utc-offset. Tickets whose SLA clock runs move to the\n"
     "new calendar at once (the business time they had left is laid out in it); paused ones\n"
     "when their clock resumes.\n" SUPPORT_HELP_WRITE,
     crmctl_sla_calendar_set_opts, 0},
    {"sla calendar show", crmctl_sla_calendar_show, "", "show the business calendar", NULL,
     crmctl_sla_calendar_show_opts, 0},
    /* Sales (sales.h): one file per entity. */
    {"person register", crmctl_person_register,
     "[--name N] [--email E]... [--phone P]... [--kind KIND] [--org ID] [--title T] [--country CC]"
     " [--industry I] [--tag T]... [--owner O] [--field KEY=VALUE]...",
     "register a person (a name or an email is enough)",
     "Prints the person's id and whether it was registered now or already known: a known\n"
     "email returns the existing person, whichever service registered it first.\n" SALES_HELP_WRITE,
     crmctl_person_register_opts, 0},
    {"person show", crmctl_person_show, "ID | --email EMAIL", "show one person", NULL,
     crmctl_person_show_opts, 1},
    {"person update", crmctl_person_update, "ID [--name N] [--email E]... ... [--clear FIELD]...",
     "change some fields of a person",
     "Only the fields given change (they form the update_mask); --clear empties "
     "one.\n" SALES_HELP_WRITE,
     crmctl_person_update_opts, 1},
    {"person list", crmctl_person_list,
     "[--kind K] [--owner O] [--tag T] [--org ID] [--query Q] [--since DATE] [--until DATE]"
     " [--limit N] [--page-token T] [--all]",
     "list people", SALES_HELP_LIST, crmctl_person_list_opts, 0},
    {"org create", crmctl_org_create,
     "--name N [--domain D] [--industry I] [--country CC] [--owner O] [--tag T]...",
     "create an organisation", SALES_HELP_WRITE, crmctl_org_create_opts, 0},
    {"org show", crmctl_org_show, "ID", "show an organisation and its people", NULL,
     crmctl_org_show_opts, 1},
    {"org list", crmctl_org_list, "[--owner O] [--query Q] [--limit N] [--page-token T] [--all]",
     "list organisations", SALES_HELP_LIST, crmctl_org_list_opts, 0},
    {"lead create", crmctl_lead_create,
     "[--name N] [--email E] [--phone P] [--company C] [--source SOURCE] [--campaign ID]"
     " [--owner O] [--notes TEXT]",
     "record a lead", SALES_HELP_WRITE, crmctl_lead_create_opts, 0},
    {"lead qualify", crmctl_lead_qualify, "ID [--note TEXT]", "mark a lead qualified",
     SALES_HELP_WRITE, crmctl_lead_qualify_opts, 1},
    {"lead convert", crmctl_lead_convert,
     "ID [--title T] [--amount 1234.50] [--currency EUR] [--pipeline ID] [--stage NAME]"
     " [--no-deal]",
     "turn a lead into a person, an organisation and a deal",
     "The person is found by the lead's email or created; the organisation is found by the\n"
     "lead's company name or created; the deal opens in the default pipeline's first stage\n"
     "unless --pipeline or --stage say otherwise. Prints the three ids.\n" SALES_HELP_WRITE,
     crmctl_lead_convert_opts, 1},
    {"lead disqualify", crmctl_lead_disqualify, "ID --reason TEXT", "close a lead as not a fit",
     SALES_HELP_WRITE, crmctl_lead_disqualify_opts, 1},
    {"lead list", crmctl_lead_list,
     "[--status S] [--owner O] [--source S] [--campaign ID] [--limit N] [--page-token T] [--all]",
     "list leads", SALES_HELP_LIST, crmctl_lead_list_opts, 0},
    {"pipeline create", crmctl_pipeline_create, "--name N --stage NAME:PROBABILITY...",
     "create a pipeline of ordered stages", SALES_HELP_WRITE, crmctl_pipeline_create_opts, 0},
    {"pipeline list", crmctl_pipeline_list, "", "list pipelines and their stages", NULL,
     crmctl_pipeline_list_opts, 0},
    {"deal create", crmctl_deal_create,
     "--title T --person ID [--org ID] [--pipeline ID] [--stage S] [--amount 1234.50]"
     " [--currency EUR] [--probability P] [--close YYYY-MM-DD] [--owner O] [--next-step TEXT]",
     "open a deal", SALES_HELP_WRITE, crmctl_deal_create_opts, 0},
    {"deal stage", crmctl_deal_stage, "ID STAGE [--probability P] [--next-step TEXT]",
     "move a deal to another stage of its pipeline", SALES_HELP_WRITE, crmctl_deal_stage_opts, 2},
    {"deal win", crmctl_deal_win, "ID", "close a deal as won", SALES_HELP_WRITE,
     crmctl_deal_win_opts, 1},
    {"deal lose", crmctl_deal_lose, "ID --reason TEXT", "close a deal as lost", SALES_HELP_WRITE,
     crmctl_deal_lose_opts, 1},
    {"deal show", crmctl_deal_show, "ID", "show a deal and its stage history", NULL,
     crmctl_deal_show_opts, 1},
    {"deal list", crmctl_deal_list,
     "[--owner O] [--pipeline ID] [--stage S] [--status open|won|lost] [--person ID]"
     " [--close-from DATE] [--close-to DATE] [--limit N] [--page-token T] [--all]",
     "list deals", SALES_HELP_LIST, crmctl_deal_list_opts, 0},
    {"order create", crmctl_order_create,
     "--person ID [--org ID] [--deal ID] --item CODE:NAME:QTY:PRICE... [--currency EUR]"
     " [--at DATE] | --json '{\"order\": {...}}'",
     "record what a customer bought",
     "Item names cannot hold commas on the command line (repeated options are joined with\n"
     "commas); give such an order whole with --json, as a CreateOrderRequest.\n" SALES_HELP_WRITE,
     crmctl_order_create_opts, 0},
    {"order list", crmctl_order_list,
     "[--person ID] [--org ID] [--since DATE] [--until DATE] [--limit N] [--page-token T] [--all]",
     "list orders (purchase history)", SALES_HELP_LIST, crmctl_order_list_opts, 0},
    {"activity log", crmctl_activity_log,
     "--kind KIND --person ID [--deal ID] --subject S [--body B] [--outcome O] [--next-action A]"
     " [--next-due WHEN] [--owner O]",
     "record a call, meeting, email, note ... that happened", SALES_HELP_WRITE,
     crmctl_activity_log_opts, 0},
    {"activity schedule", crmctl_activity_schedule,
     "--kind KIND --person ID [--deal ID] --subject S --due WHEN [--owner O] ...",
     "schedule an activity that falls due later", SALES_HELP_WRITE, crmctl_activity_schedule_opts,
     0},
    {"activity complete", crmctl_activity_complete,
     "ID [--outcome O] [--next-action A] [--next-due WHEN]", "close a scheduled activity",
     SALES_HELP_WRITE, crmctl_activity_complete_opts, 1},
    {"activity list", crmctl_activity_list,
     "[--owner O] [--person ID] [--deal ID] [--status scheduled|done] [--due WHEN] [--overdue]"
     " [--limit N] [--page-token T] [--all]",
     "list activities", SALES_HELP_LIST, crmctl_activity_list_opts, 0},
    /* Marketing (marketing.h): campaign.c, segment.c, preference.c. */
    {"campaign create", crmctl_campaign_create,
     "--name N --channel CH... --currency CODE [--budget AMOUNT] [--overspend refuse|flag]"
     " [--objective T] [--owner O] [--start-date D] [--end-date D] [--attribution-days N]"
     " [--throttle N] [--follows ID [--delay D] [--non-responders]]",
     "create a campaign (a draft)",
     "With --follows it is a later step of another campaign (a reminder): each recipient\n"
     "that campaign sent to becomes one of this campaign --delay after, only if it did not\n"
     "respond with --non-responders. Launch or schedule it as any campaign.\n" SALES_HELP_WRITE,
     crmctl_campaign_create_opts, 0},
    {"campaign show", crmctl_campaign_show, "ID", "show a campaign, its offers and its budget",
     NULL, crmctl_campaign_show_opts, 1},
    {"campaign list", crmctl_campaign_list, "[--status S]", "list campaigns (newest first)", NULL,
     crmctl_campaign_list_opts, 0},
    {"campaign offer", crmctl_campaign_offer, "ID [--product CODE] [--discount P] [--text T]",
     "add a product offer to a campaign", SALES_HELP_WRITE, crmctl_campaign_offer_opts, 1},
    {"campaign budget", crmctl_campaign_budget,
     "ID --amount AMOUNT [--currency CODE] [--overspend refuse|flag]", "set a campaign's budget",
     "A budget below what is spent already is accepted; the campaign then shows as\n"
     "overspent.\n" SALES_HELP_WRITE,
     crmctl_campaign_budget_opts, 1},
    {"campaign expense", crmctl_campaign_expense,
     "ID --amount AMOUNT [--category C] [--date D] [--note T]",
     "record an expense in a campaign's ledger",
     "An expense past the budget is refused (exit 1) or recorded and flagged, as the\n"
     "campaign's overspend policy says.\n" SALES_HELP_WRITE,
     crmctl_campaign_expense_opts, 1},
    {"campaign target", crmctl_campaign_target, "ID [--customer ID]... [--segment ID]",
     "add recipients: customers, or the members of a segment", SALES_HELP_WRITE,
     crmctl_campaign_target_opts, 1},
    {"campaign exclude", crmctl_campaign_exclude, "ID --segment ID",
     "never contact the members of a segment in this campaign",
     "Checked at send time: a recipient who is then a member of the segment is suppressed\n"
     "with reason \"excluded_segment <segment id>\".\n" SALES_HELP_WRITE,
     crmctl_campaign_exclude_opts, 1},
    {"campaign message", crmctl_campaign_message, "ID --channel CH [--subject T] --body T",
     "save a campaign's message for one channel",
     "Personalisation fields are {{name}}, {{email}}, {{offer}}, {{owner}} and {{campaign}};\n"
     "any other field is refused.\n" SALES_HELP_WRITE,
     crmctl_campaign_message_opts, 1},
    {"campaign preview", crmctl_campaign_preview, "ID --channel CH --customer ID",
     "show a campaign's message as a customer would receive it", NULL, crmctl_campaign_preview_opts,
     1},
    {"campaign schedule", crmctl_campaign_schedule, "ID --at TIME",
     "schedule a draft campaign to start at TIME",
     "It then runs by itself at that time, also when the service restarted in between.\n"
     "The campaign needs a message.\n" SALES_HELP_WRITE,
     crmctl_campaign_schedule_opts, 1},
    {"campaign launch", crmctl_campaign_launch, "ID", "start a draft or scheduled campaign now",
     "The campaign needs a message. Recipients are then decided under the contact policy\n"
     "(opt-outs, preferred channel, contact window) by the service's send scan.",
     crmctl_campaign_launch_opts, 1},
    {"campaign pause", crmctl_campaign_pause, "ID", "pause a scheduled or running campaign",
     SALES_HELP_WRITE, crmctl_campaign_pause_opts, 1},
    {"campaign resume", crmctl_campaign_resume, "ID", "resume a paused campaign", SALES_HELP_WRITE,
     crmctl_campaign_resume_opts, 1},
    {"campaign cancel", crmctl_campaign_cancel, "ID", "cancel a campaign that is not over",
     SALES_HELP_WRITE, crmctl_campaign_cancel_opts, 1},
    {"campaign results", crmctl_campaign_results, "ID",
     "show a campaign's results: sends, responses, revenue, cost, ROI",
     "ROI = (revenue - cost) / cost; \"-\" where a figure has nothing to divide by. -o json\n"
     "prints the reply as in marketing.proto (ratios in basis points).",
     crmctl_campaign_results_opts, 1},
    {"campaign compare", crmctl_campaign_compare, "ID ID...",
     "show several campaigns' results side by side", NULL, crmctl_campaign_compare_opts, -1},
    {"segment create", crmctl_segment_create, "--name N --rule RULE...",
     "create a segment of customers by rules",
     "A rule is KIND=VALUE, or !KIND=VALUE for \"not\": country=FR, industry=retail, tag=vip,\n"
     "person-kind=customer, bought-product=SKU-1, total-spent-at-least=1000.00 EUR,\n"
     "last-order-within-days=30, responded-to-campaign=ID, converted-in-campaign=ID,\n"
     "open-ticket, open-support-complaint, low-satisfaction=2 (or 2:any), interest-tag=T.\n"
     "A customer is a member when every rule holds; membership follows events.",
     crmctl_segment_create_opts, 0},
    {"segment preview", crmctl_segment_preview, "ID | --rule RULE... [--limit N]",
     "count and list who a segment (or rules) matches now", NULL, crmctl_segment_preview_opts, 1},
    {"segment members", crmctl_segment_members, "ID [--limit N]",
     "list a segment's members as the service keeps them", NULL, crmctl_segment_members_opts, 1},
    {"segment list", crmctl_segment_list, "", "list segments", NULL, crmctl_segment_list_opts, 0},
    {"preference set", crmctl_preference_set,
     "CUSTOMER [--preferred CH] [--window HH:MM-HH:MM] [--time-zone Z | --utc-offset +HH:MM]"
     " [--opt-out CH]... [--consent SOURCE]",
     "replace a customer's contact preferences and consent",
     "What is not given goes back to its default (no opt-out, any time, no consent).\n"
     "Changes are published, so that sales and support respect them too.\n" SALES_HELP_WRITE,
     crmctl_preference_set_opts, 1},
    {"preference show", crmctl_preference_show, "CUSTOMER", "show a customer's contact preferences",
     NULL, crmctl_preference_show_opts, 1},
    {"response record", crmctl_response_record,
     "--campaign ID --type TYPE (--customer ID | --email E) [--channel CH] [--revenue AMOUNT"
     " --currency CODE] [--note T]",
     "record a customer's response to a campaign",
     "unsubscribed opts the customer out at once (of --channel, else of every channel of\n"
     "the campaign).\n" SALES_HELP_WRITE,
     crmctl_response_record_opts, 0},
    {"demo load", crmctl_demo_load, "[--service NAME]",
     "load a small demo data set into sales (idempotent)",
     "About 20 people of several kinds in 6 organisations, a Renewals pipeline beside the\n"
     "default one, deals in various stages, a year of orders, activities (some overdue, some\n"
     "due in the coming days) and leads. Every change has a fixed idempotency key\n"
     "(demo-<n>) and the dates are anchored to the first load, so loading again changes\n"
     "nothing. All names are fictional.\n"
     "Then, when a support service is configured (or --support names one), a help desk:\n"
     "tickets from the demo customers in every status, with replies, notes, resolutions and\n"
     "ratings (keys demo-support-<n>); a complaint from a customer with an open deal makes a\n"
     "task for the deal's owner in sales.",
     crmctl_demo_load_opts, 0},
    /* Analytics (analytics.h). */
    {"customer show", crmctl_customer_show, "ID [--as-of DATE] [--at TIME]",
     "Customer 360: profile, open deals and tickets, key figures, KPIs and timeline",
     "The profile merges what every service said about the person (per field, the latest\n"
     "change wins). --as-of shows the profile and the timeline as they stood then, rebuilt\n"
     "from the events (a bare date means the end of that day, UTC).",
     crmctl_customer_show_opts, 1},
    {"customer timeline", crmctl_customer_timeline, "ID [--as-of DATE]",
     "the customer's whole cross-team timeline, oldest first", NULL, crmctl_customer_timeline_opts,
     1},
    {"report kpis", crmctl_report_kpis, "[--at TIME]",
     "lifetime value, cost to acquire and to support, health and churn risk per customer",
     "Definitions: docs/analytics.md. Time-dependent figures are evaluated at --at\n"
     "(default now).",
     crmctl_report_opts, 0},
    {"report health", crmctl_report_health, "[--at TIME]",
     "health score per customer with what raised or lowered it", NULL, crmctl_report_opts, 0},
    {"report potential", crmctl_report_potential, "[--at TIME]",
     "customers with high sales potential, with the reasons", NULL, crmctl_report_opts, 0},
    {"report pipeline", crmctl_report_pipeline, "",
     "open deals by stage, win rate, average time to close, lost reasons", NULL, crmctl_report_opts,
     0},
    {"report forecast", crmctl_report_forecast, "",
     "open deals and weighted amount by expected close month", NULL, crmctl_report_opts, 0},
    {"report weekly-activity", crmctl_report_weekly_activity,
     "[--week 2026-W47] [--rep NAME] [--at TIME]",
     "the weekly activity report per rep, with the next week's scheduled activities",
     "The week is an ISO week (Monday to Sunday, UTC); by default the week containing --at.",
     crmctl_report_opts, 0},
    {"report campaigns", crmctl_report_campaigns, "[--campaign ID]",
     "campaign results side by side, as marketing counts them, with acquisition cost", NULL,
     crmctl_report_opts, 0},
    {"report data-quality", crmctl_report_data_quality, "[--at TIME]",
     "data-quality findings: unreachable, duplicates, not contacted, no next step, overdue",
     "Unreachable people, likely duplicates, people nobody contacted in twelve months, open\n"
     "deals without a next step, overdue activities; each is also published once as\n"
     "crm.analytics.data_quality.issue_found.v1.",
     crmctl_report_opts, 0},
    {"analytics rebuild", crmctl_analytics_rebuild, "",
     "drop analytics' projections and replay every stream from its first event",
     "Returns at once; `crmctl analytics status` shows the replay's progress. The replay\n"
     "publishes no derived event again.",
     crmctl_analytics_rebuild_opts, 0},
    {"analytics status", crmctl_analytics_status, "",
     "analytics' position per source, lag, and whether a rebuild is running", NULL,
     crmctl_analytics_status_opts, 0},
    {"analytics scan", crmctl_analytics_scan, "",
     "publish the data-quality findings not published yet, now", NULL, crmctl_analytics_scan_opts,
     0},
    {"help", s_help, "[VERB]", "show the help of crmctl or of one verb", NULL, s_no_opts, -1},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0},
};

/* Options every verb accepts, before or after the verb's name. */
static const crmctl_opt_t s_global_opts[] = {
    {"output", 'o', "FORMAT", "output format: table (the default; also \"text\") or json", 0},
    {"services", 0, "SPEC", "services as name=endpoint,... (overrides CRM_SERVICES)", 0},
    {"bus", 0, "ENDPOINT", "bus endpoint to subscribe to (overrides CRM_BUS_SUB_ENDPOINT)", 0},
    {"help", 'h', NULL, "show help, then exit", 0},
    {NULL, 0, NULL, NULL, 0},
};

static const crm_conf_def_t s_conf[] = {
    {"CRM_SERVICES", CRM_CONF_STR,
     "sales=tcp://127.0.0.1:7410,marketing=tcp://127.0.0.1:7420,support=tcp://127.0.0.1:7430,"
     "analytics=tcp://127.0.0.1:7440",
     "command endpoints of the services, as name=endpoint,...", 0, 0, 0},
    {"CRM_BUS_SUB_ENDPOINT", CRM_CONF_STR, "tcp://127.0.0.1:7401",
     "the bus endpoint subscribers connect to", 0, 0, 0},
    {NULL, 0, NULL, NULL, 0, 0, 0},
};

/* ---- the context ------------------------------------------------------ */

struct crmctl {
    crmctl_service_t *services;
    size_t n_services;
    char *bus;
    crmctl_output_t output;
    void *zctx;
    crm_creds_t *creds; /* read on first use: verbs that call nothing need no key */
    const crmctl_verb_t *verb; /* for "Try crmctl VERB --help" */
};

struct crmctl_args {
    /* The verb's options first, then the global ones. */
    const crmctl_opt_t *opts[CRMCTL_MAX_OPTS];
    char *values[CRMCTL_MAX_OPTS];
    size_t n_opts;
    const char **positional;
    size_t n_positional;
};

size_t crmctl_n_services(const crmctl_t *ctl)
{
    return ctl->n_services;
}

crmctl_service_t *crmctl_service_find(crmctl_t *ctl, const char *name)
{
    for (size_t i = 0; i < ctl->n_services; i++)
        if (!strcmp(ctl->services[i].name, name))
            return &ctl->services[i];
    return NULL;
}

/* "sales, marketing, support" into buf. */
static const char *s_service_names(const crmctl_t *ctl, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < ctl->n_services && at < len; i++) {
        int n = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", ctl->services[i].name);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    return buf;
}

static void s_unknown_service(const crmctl_t *ctl, const char *what, const char *name)
{
    char names[512], detail[600];
    snprintf(detail, sizeof detail, "Configured services: %s.",
             s_service_names(ctl, names, sizeof names));
    crmctl_error(detail, "Name one of them, or add it to CRM_SERVICES (or --services).",
                 "unknown %s \"%s\"", what, name);
}

crmctl_service_t *crmctl_service_require(crmctl_t *ctl, const char *name)
{
    crmctl_service_t *svc = crmctl_service_find(ctl, name);
    if (!svc)
        s_unknown_service(ctl, "service", name);
    return svc;
}

int crmctl_select_services(crmctl_t *ctl, const char *list, const char *what,
                           crmctl_service_t **sel)
{
    size_t n = 0;
    if (!list) {
        for (size_t i = 0; i < ctl->n_services; i++)
            sel[n++] = &ctl->services[i];
        return (int)n;
    }
    char *copy = strdup(list), *save = NULL;
    if (!copy) {
        crmctl_error(NULL, NULL, "out of memory");
        return -1;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        crmctl_service_t *svc = crmctl_service_find(ctl, tok);
        if (!svc) {
            s_unknown_service(ctl, what, tok);
            free(copy);
            return -1;
        }
        size_t k = 0;
        while (k < n && sel[k] != svc)
            k++;
        if (k == n)
            sel[n++] = svc;
    }
    free(copy);
    if (n == 0) {
        crmctl_error(NULL, NULL, "no %s given", what);
        return -1;
    }
    return (int)n;
}

const char *crmctl_bus_endpoint(const crmctl_t *ctl)
{
    return ctl->bus;
}

crmctl_output_t crmctl_output(const crmctl_t *ctl)
{
    return ctl->output;
}

void *crmctl_zctx(crmctl_t *ctl)
{
    return ctl->zctx;
}

int crmctl_secure(crmctl_t *ctl, void *sock, const char *server)
{
    char err[1024];
    if (!ctl->creds) {
        ctl->creds = crm_creds_from_env(err, sizeof err);
        if (!ctl->creds) {
            crmctl_error(NULL, "Run `crmctl keys new NAME`, have NAME.pub added to the directory "
                               "of principals, and set CRM_KEY_FILE and CRM_DIRECTORY_FILE.",
                         "no usable key: %s", err);
            return -1;
        }
    }
    if (sock && crm_creds_client(ctl->creds, sock, server, err, sizeof err) != 0) {
        crmctl_error(NULL, "Add the service to the directory of principals (CRM_DIRECTORY_FILE).",
                     "%s", err);
        return -1;
    }
    return 0;
}

/* ---- messages --------------------------------------------------------- */

static void s_detail_hint(const char *detail, const char *hint)
{
    if (detail && *detail)
        fprintf(stderr, "DETAIL:  %s\n", detail);
    if (hint && *hint)
        fprintf(stderr, "HINT:  %s\n", hint);
}

void crmctl_error(const char *detail, const char *hint, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("crmctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    s_detail_hint(detail, hint);
}

void crmctl_warn(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("crmctl: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void s_try_help(const crmctl_t *ctl)
{
    if (ctl && ctl->verb)
        fprintf(stderr, "Try \"crmctl %s --help\" for more information.\n", ctl->verb->name);
    else
        fputs("Try \"crmctl --help\" for more information.\n", stderr);
}

int crmctl_usage_error(const crmctl_t *ctl, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("crmctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    s_try_help(ctl);
    return CRMCTL_EXIT_USAGE;
}

int crmctl_parse_int(const crmctl_t *ctl, const char *what, const char *text, int64_t min,
                     int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        crmctl_usage_error(
            ctl, "invalid value \"%s\" for %s: expected an integer from %" PRId64 " to %" PRId64,
            text, what, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int crmctl_parse_u64(const crmctl_t *ctl, const char *what, const char *text, uint64_t min,
                     uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min) {
        crmctl_usage_error(ctl,
                           "invalid value \"%s\" for %s: expected an integer of at least %" PRIu64,
                           text, what, min);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- calling services ------------------------------------------------- */

void crmctl_print_status(const crmctl_service_t *svc, const char *command,
                         const Crm__V1__Status *st)
{
    int code = st ? (int)st->code : CRM__V1__STATUS_CODE__STATUS_CODE_INTERNAL;
    const char *msg = st && st->message && *st->message ? st->message : "no message";
    fflush(stdout);
    fprintf(stderr, "crmctl: %s on %s failed: %s: %s\n", command, svc->name, crm_status_name(code),
            msg);
    if (st && st->field && *st->field)
        fprintf(stderr, "FIELD:  %s\n", st->field);
    s_detail_hint(st ? st->detail : NULL, st ? st->hint : NULL);
}

void crmctl_print_unreachable(const crmctl_service_t *svc, const char *command, int err)
{
    char detail[160];
    snprintf(detail, sizeof detail, "No reply to %s from %s.", command, svc->endpoint);
    crmctl_error(detail,
                 "Check that the service is running and that CRM_SERVICES (or --services)"
                 " names its command endpoint.",
                 "could not reach %s at %s: %s", svc->name, svc->endpoint,
                 err == -ETIMEDOUT ? "timeout" : strerror(-err));
}

int crmctl_call(crmctl_t *ctl, crmctl_service_t *svc, const char *command,
                const ProtobufCMessage *body, const char *idempotency_key, int timeout_ms,
                int attempts, const ProtobufCMessageDescriptor *reply_desc,
                ProtobufCMessage **reply_p, int flags, Crm__V1__CommandReply **status_p)
{
    int quiet = flags & CRMCTL_CALL_QUIET;
    if (reply_p)
        *reply_p = NULL;
    if (status_p)
        *status_p = NULL;
    if (!svc->client) {
        if (crmctl_secure(ctl, NULL, NULL) < 0)
            return CRMCTL_EXIT_USAGE;
        char why[256];
        if (crm_creds_client(ctl->creds, NULL, svc->name, why, sizeof why) != 0) {
            if (!quiet)
                crmctl_error(NULL, "Add the service to the directory of principals.", "%s", why);
            return CRMCTL_EXIT_USAGE;
        }
        svc->client = crm_client_new(ctl->zctx, svc->endpoint, ctl->creds, svc->name);
        if (!svc->client) {
            /* zmq_connect refused the endpoint (errno is gone by now). */
            crmctl_result_t r = {CRMCTL_EXIT_USAGE, NULL, NULL};
            if (!quiet)
                crmctl_print_result(svc, command, &r);
            return CRMCTL_EXIT_USAGE;
        }
    }
    Crm__V1__CommandReply *rep = NULL;
    int rc =
        crm_client_call(svc->client, command, body, idempotency_key, timeout_ms, attempts, &rep);
    if (rc < 0 || !rep) {
        if (!quiet && !(flags & CRMCTL_CALL_QUIET_DOWN))
            crmctl_print_unreachable(svc, command, rc < 0 ? rc : -ETIMEDOUT);
        return CRMCTL_EXIT_UNREACHABLE;
    }
    if (rep->status && rep->status->code != CRM__V1__STATUS_CODE__STATUS_CODE_OK) {
        if (!quiet)
            crmctl_print_status(svc, command, rep->status);
        if (status_p)
            *status_p = rep;
        else
            crm__v1__command_reply__free_unpacked(rep, NULL);
        return CRMCTL_EXIT_FAILED;
    }
    if (reply_desc && reply_p) {
        *reply_p = protobuf_c_message_unpack(reply_desc, NULL, rep->body.len, rep->body.data);
        if (!*reply_p) {
            if (!quiet) {
                char detail[200];
                snprintf(detail, sizeof detail, "The body of %zu bytes is not a %s.", rep->body.len,
                         reply_desc->name);
                crmctl_error(detail, "Check that crmctl and the service are of the same version.",
                             "could not decode the reply of %s to %s", svc->name, command);
            }
            crm__v1__command_reply__free_unpacked(rep, NULL);
            return CRMCTL_EXIT_FAILED;
        }
    }
    crm__v1__command_reply__free_unpacked(rep, NULL);
    return CRMCTL_EXIT_OK;
}

typedef struct {
    crmctl_t *ctl;
    crmctl_service_t *svc;
    const char *command;
    const ProtobufCMessage *body;
    int timeout_ms, attempts;
    const ProtobufCMessageDescriptor *reply_desc;
    crmctl_result_t *result;
    pthread_t thread;
    int threaded;
} s_call_job_t;

static void *s_call_job(void *arg)
{
    s_call_job_t *j = arg;
    j->result->rc =
        crmctl_call(j->ctl, j->svc, j->command, j->body, NULL, j->timeout_ms, j->attempts,
                    j->reply_desc, &j->result->reply, CRMCTL_CALL_QUIET, &j->result->error);
    return NULL;
}

void crmctl_call_all(crmctl_t *ctl, crmctl_service_t *const *svcs, size_t n, const char *command,
                     const ProtobufCMessage *body, int timeout_ms, int attempts,
                     const ProtobufCMessageDescriptor *reply_desc, crmctl_result_t *results)
{
    s_call_job_t *jobs = calloc(n + 1, sizeof *jobs);
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof results[i]);
        s_call_job_t one;
        memset(&one, 0, sizeof one);
        one.ctl = ctl;
        one.svc = svcs[i];
        one.command = command;
        one.body = body;
        one.timeout_ms = timeout_ms;
        one.attempts = attempts;
        one.reply_desc = reply_desc;
        one.result = &results[i];
        if (!jobs) { /* no memory for threads: one after the other */
            s_call_job(&one);
            continue;
        }
        jobs[i] = one;
        jobs[i].threaded = pthread_create(&jobs[i].thread, NULL, s_call_job, &jobs[i]) == 0;
        if (!jobs[i].threaded)
            s_call_job(&jobs[i]);
    }
    /* Joining is the memory barrier that hands each socket back to us. */
    for (size_t i = 0; jobs && i < n; i++)
        if (jobs[i].threaded)
            pthread_join(jobs[i].thread, NULL);
    free(jobs);
}

void crmctl_print_result(const crmctl_service_t *svc, const char *command, const crmctl_result_t *r)
{
    if (r->rc == CRMCTL_EXIT_UNREACHABLE)
        crmctl_print_unreachable(svc, command, -ETIMEDOUT);
    else if (r->rc == CRMCTL_EXIT_USAGE)
        crmctl_error(NULL, "Write endpoints as tcp://HOST:PORT.",
                     "could not connect to %s at \"%s\": invalid endpoint", svc->name,
                     svc->endpoint);
    else if (r->error)
        crmctl_print_status(svc, command, r->error->status);
    else if (r->rc != CRMCTL_EXIT_OK)
        crmctl_error(NULL, "Check that crmctl and the service are of the same version.",
                     "could not decode the reply of %s to %s", svc->name, command);
}

void crmctl_result_clear(crmctl_result_t *r)
{
    if (r->reply)
        protobuf_c_message_free_unpacked(r->reply, NULL);
    if (r->error)
        crm__v1__command_reply__free_unpacked(r->error, NULL);
    memset(r, 0, sizeof *r);
}

/* ---- output ----------------------------------------------------------- */

int crmctl_json_line(json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!s) {
        crmctl_error(NULL, NULL, "out of memory");
        return -1;
    }
    int ok = fputs(s, stdout) >= 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
    free(s);
    return ok ? 0 : -1;
}

json_t *crmctl_json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

struct crmctl_table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, the header being row 0 */
};

crmctl_table_t *crmctl_table_new(const char *const *headers)
{
    crmctl_table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    while (headers[self->ncols])
        self->ncols++;
    if (crmctl_table_add(self, headers) < 0)
        crmctl_table_destroy(&self);
    return self;
}

int crmctl_table_add(crmctl_table_t *self, const char *const *cells)
{
    if (self->nrows == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        char **nc = realloc(self->cells, cap * self->ncols * sizeof *nc);
        if (!nc)
            return -1;
        self->cells = nc;
        self->cap = cap;
    }
    char **row = &self->cells[self->nrows * self->ncols];
    for (size_t c = 0; c < self->ncols; c++) {
        row[c] = strdup(cells[c] ? cells[c] : "-");
        if (!row[c]) {
            while (c > 0)
                free(row[--c]);
            return -1;
        }
    }
    self->nrows++;
    return 0;
}

size_t crmctl_table_rows(const crmctl_table_t *self)
{
    return self->nrows - 1;
}

void crmctl_table_print(const crmctl_table_t *self)
{
    size_t width[64] = {0};
    size_t ncols = self->ncols < 64 ? self->ncols : 64;
    for (size_t r = 0; r < self->nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            size_t w = strlen(self->cells[r * self->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < self->nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = self->cells[r * self->ncols + c];
            if (c + 1 < ncols)
                printf("%-*s  ", (int)width[c], cell);
            else
                printf("%s\n", cell);
        }
    }
    fflush(stdout);
}

void crmctl_table_destroy(crmctl_table_t **self_p)
{
    crmctl_table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nrows * self->ncols; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self);
    *self_p = NULL;
}

/* ---- arguments -------------------------------------------------------- */

const char *crmctl_arg(const crmctl_args_t *args, const char *name)
{
    for (size_t i = 0; i < args->n_opts; i++)
        if (!strcmp(args->opts[i]->name, name))
            return args->values[i];
    return NULL;
}

size_t crmctl_n_positional(const crmctl_args_t *args)
{
    return args->n_positional;
}

const char *crmctl_positional(const crmctl_args_t *args, size_t i)
{
    return i < args->n_positional ? args->positional[i] : NULL;
}

static int s_args_init(crmctl_args_t *args, const crmctl_opt_t *verb_opts, int argc)
{
    memset(args, 0, sizeof *args);
    for (const crmctl_opt_t *o = verb_opts; o && o->name; o++)
        if (args->n_opts < CRMCTL_MAX_OPTS)
            args->opts[args->n_opts++] = o;
    for (const crmctl_opt_t *o = s_global_opts; o->name; o++)
        if (args->n_opts < CRMCTL_MAX_OPTS)
            args->opts[args->n_opts++] = o;
    args->positional = calloc((size_t)argc + 1, sizeof *args->positional);
    return args->positional ? 0 : -1;
}

static void s_args_free(crmctl_args_t *args)
{
    for (size_t i = 0; i < args->n_opts; i++)
        free(args->values[i]);
    free(args->positional);
    memset(args, 0, sizeof *args);
}

static int s_args_set(const crmctl_t *ctl, crmctl_args_t *args, size_t i, const char *value)
{
    const crmctl_opt_t *o = args->opts[i];
    char *v;
    if (args->values[i] && o->repeat && o->arg) {
        size_t n = strlen(args->values[i]) + strlen(value) + 2;
        v = malloc(n);
        if (v)
            snprintf(v, n, "%s,%s", args->values[i], value);
    } else {
        v = strdup(value);
    }
    if (!v) {
        crmctl_error(NULL, NULL, "out of memory");
        return -1;
    }
    free(args->values[i]);
    args->values[i] = v;
    return 0;
}

/* Parses options and positional arguments of argv[from..argc). When
 * `stop_at_positional` is set, stops at the first positional argument and
 * stores its index in *next (used before the verb's name). Returns 0 or a
 * CRMCTL_EXIT_* code after printing a usage error. */
static int s_args_parse(const crmctl_t *ctl, crmctl_args_t *args, int argc, char **argv, int from,
                        int stop_at_positional, int *next)
{
    int i = from, only_positional = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == 0) {
            if (stop_at_positional)
                break;
            args->positional[args->n_positional++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            if (stop_at_positional) {
                i++;
                break;
            }
            only_positional = 1;
            continue;
        }
        size_t k = args->n_opts;
        const char *inline_value = NULL;
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (k = 0; k < args->n_opts; k++)
                if (strlen(args->opts[k]->name) == len && !strncmp(args->opts[k]->name, name, len))
                    break;
            if (k == args->n_opts)
                return crmctl_usage_error(ctl, "unknown option \"--%.*s\"", (int)len, name);
            if (eq) {
                if (!args->opts[k]->arg)
                    return crmctl_usage_error(ctl, "option \"--%s\" takes no value",
                                              args->opts[k]->name);
                inline_value = eq + 1;
            }
        } else {
            for (const char *c = a + 1; *c; c++) {
                for (k = 0; k < args->n_opts; k++)
                    if (args->opts[k]->short_name == *c)
                        break;
                if (k == args->n_opts)
                    return crmctl_usage_error(ctl, "unknown option \"-%c\"", *c);
                if (args->opts[k]->arg) {
                    if (c[1])
                        inline_value = c + 1;
                    break;
                }
                /* A flag; others may follow in the same word (-eo json). */
                if (c[1] && s_args_set(ctl, args, k, "") < 0)
                    return CRMCTL_EXIT_USAGE;
            }
        }
        const crmctl_opt_t *o = args->opts[k];
        const char *value = "";
        if (o->arg) {
            if (inline_value) {
                value = inline_value;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return crmctl_usage_error(ctl, "option \"%s\" requires a value (%s)", a, o->arg);
            }
        }
        if (s_args_set(ctl, args, k, value) < 0)
            return CRMCTL_EXIT_USAGE;
    }
    if (next)
        *next = i;
    return 0;
}

/* ---- help ------------------------------------------------------------- */

static void s_print_opts(const crmctl_opt_t *opts)
{
    for (const crmctl_opt_t *o = opts; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                 o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-26s %s\n", left, o->help);
    }
}

static void s_print_env(void)
{
    printf("\nEnvironment:\n");
    for (const crm_conf_def_t *d = s_conf; d->name; d++)
        printf("  %-26s %s\n  %-26s (default: %s)\n", d->name, d->help, "", d->def);
}

static void s_print_main_help(void)
{
    printf("crmctl is the staff's command-line tool for the CRM services.\n\n"
           "Usage:\n  crmctl [OPTION]... VERB [ARG]...\n\nVerbs:\n");
    for (const crmctl_verb_t *v = s_verbs; v->name; v++)
        printf("  %-22s %s\n", v->name, v->help);
    printf("\nOptions (also accepted after the verb):\n");
    s_print_opts(s_global_opts);
    s_print_env();
    printf("\nExit status: 0 success, 1 the service answered with an error, 2 usage error,\n"
           "3 a service could not be reached in time.\n"
           "Run \"crmctl VERB --help\" for the options of a verb.\n");
    fflush(stdout);
}

static void s_print_verb_help(const crmctl_verb_t *v)
{
    printf("crmctl %s: %s\n\nUsage:\n  crmctl %s %s\n", v->name, v->help, v->name, v->synopsis);
    if (v->description)
        printf("\n%s\n", v->description);
    if (v->opts && v->opts->name) {
        printf("\nOptions:\n");
        s_print_opts(v->opts);
    }
    printf("\nCommon options:\n");
    s_print_opts(s_global_opts);
    s_print_env();
    fflush(stdout);
}

/* The verb whose words are argv[at..], the longest match; *words = its
 * number of words. */
static const crmctl_verb_t *s_find_verb(int argc, char **argv, int at, int *words)
{
    const crmctl_verb_t *best = NULL;
    int best_words = 0;
    for (const crmctl_verb_t *v = s_verbs; v->name; v++) {
        const char *p = v->name;
        int w = 0, ok = 1;
        while (*p && ok) {
            size_t len = strcspn(p, " ");
            ok = at + w < argc && strlen(argv[at + w]) == len && !strncmp(argv[at + w], p, len);
            w++;
            p += len;
            p += strspn(p, " ");
        }
        if (ok && w > best_words) {
            best = v;
            best_words = w;
        }
    }
    *words = best_words;
    return best;
}

/* 1 if some multi-word verb starts with `word` ("deadletter"). */
static int s_is_group(const char *word)
{
    size_t len = strlen(word);
    for (const crmctl_verb_t *v = s_verbs; v->name; v++)
        if (!strncmp(v->name, word, len) && v->name[len] == ' ')
            return 1;
    return 0;
}

static int s_group_usage(const char *word)
{
    size_t len = strlen(word);
    fflush(stdout);
    fprintf(stderr, "crmctl: \"%s\" needs a subcommand\nHINT:  Use one of:\n", word);
    for (const crmctl_verb_t *v = s_verbs; v->name; v++)
        if (!strncmp(v->name, word, len) && v->name[len] == ' ')
            fprintf(stderr, "  crmctl %s %s\n", v->name, v->synopsis);
    return CRMCTL_EXIT_USAGE;
}

static int s_help(crmctl_t *ctl, const crmctl_args_t *args)
{
    size_t n = crmctl_n_positional(args);
    if (n == 0) {
        s_print_main_help();
        return CRMCTL_EXIT_OK;
    }
    int words = 0;
    const crmctl_verb_t *v = s_find_verb((int)n, (char **)args->positional, 0, &words);
    if (v && words == (int)n) {
        s_print_verb_help(v);
        return CRMCTL_EXIT_OK;
    }
    if (n == 1 && s_is_group(args->positional[0])) {
        printf("Verbs of %s:\n", args->positional[0]);
        size_t len = strlen(args->positional[0]);
        for (const crmctl_verb_t *g = s_verbs; g->name; g++)
            if (!strncmp(g->name, args->positional[0], len) && g->name[len] == ' ')
                printf("  %-22s %s\n", g->name, g->help);
        return CRMCTL_EXIT_OK;
    }
    ctl->verb = NULL;
    return crmctl_usage_error(ctl, "unknown verb \"%s\"", args->positional[0]);
}

/* ---- configuration ---------------------------------------------------- */

/* CRM_SERVICES: "sales=tcp://127.0.0.1:7410,marketing=...". */
static int s_parse_services(crmctl_t *ctl, const char *spec, const char *origin)
{
    char *copy = strdup(spec), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    for (char *tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1]) {
            char detail[320];
            snprintf(detail, sizeof detail, "Entry \"%.200s\" is not NAME=ENDPOINT.", tok);
            crmctl_error(detail, "Write the services as name=tcp://host:port, separated by commas.",
                         "invalid %s", origin);
            rc = -1;
            break;
        }
        *eq = 0;
        if (crmctl_service_find(ctl, tok)) {
            crmctl_error(NULL, "Name each service once.",
                         "invalid %s: service \"%s\" is listed"
                         " twice",
                         origin, tok);
            rc = -1;
            break;
        }
        crmctl_service_t *ns = realloc(ctl->services, (ctl->n_services + 1) * sizeof *ns);
        if (!ns) {
            rc = -1;
            break;
        }
        ctl->services = ns;
        crmctl_service_t *svc = &ctl->services[ctl->n_services];
        memset(svc, 0, sizeof *svc);
        svc->name = strdup(tok);
        svc->endpoint = strdup(eq + 1);
        ctl->n_services++;
        if (!svc->name || !svc->endpoint) {
            rc = -1;
            break;
        }
    }
    free(copy);
    if (rc == 0 && ctl->n_services == 0) {
        crmctl_error(NULL, "Set CRM_SERVICES or --services to name=endpoint pairs.",
                     "invalid %s: no services", origin);
        rc = -1;
    }
    return rc;
}

static void s_ctl_close(crmctl_t *ctl)
{
    for (size_t i = 0; i < ctl->n_services; i++) {
        crm_client_destroy(&ctl->services[i].client);
        free(ctl->services[i].name);
        free(ctl->services[i].endpoint);
    }
    free(ctl->services);
    free(ctl->bus);
    crm_creds_destroy(&ctl->creds);
    if (ctl->zctx)
        zmq_ctx_term(ctl->zctx);
    memset(ctl, 0, sizeof *ctl);
}

/* Applies the global options and the environment to ctl. */
static int s_configure(crmctl_t *ctl, const crmctl_args_t *args, const crm_config_t *conf)
{
    const char *out = crmctl_arg(args, "output");
    if (!out || !strcmp(out, "table") || !strcmp(out, "text"))
        ctl->output = CRMCTL_OUT_TABLE;
    else if (!strcmp(out, "json"))
        ctl->output = CRMCTL_OUT_JSON;
    else
        return crmctl_usage_error(ctl, "invalid output format \"%s\": expected table, text or json",
                                  out);
    const char *spec = crmctl_arg(args, "services");
    if (s_parse_services(ctl, spec ? spec : crm_config_str(conf, "CRM_SERVICES"),
                         spec ? "--services" : "CRM_SERVICES") < 0)
        return CRMCTL_EXIT_USAGE;
    const char *bus = crmctl_arg(args, "bus");
    ctl->bus = strdup(bus ? bus : crm_config_str(conf, "CRM_BUS_SUB_ENDPOINT"));
    if (!ctl->bus || !*ctl->bus)
        return crmctl_usage_error(ctl, "invalid bus endpoint: empty");
    ctl->zctx = zmq_ctx_new();
    if (!ctl->zctx) {
        crmctl_error(NULL, NULL, "could not create a ZeroMQ context: %s", zmq_strerror(errno));
        return CRMCTL_EXIT_USAGE;
    }
    return CRMCTL_EXIT_OK;
}

int main(int argc, char **argv)
{
    crmctl_t ctl;
    memset(&ctl, 0, sizeof ctl);
    char err[256];
    crm_config_t *conf = crm_config_load(s_conf, err, sizeof err);
    if (!conf) {
        crmctl_error(NULL, NULL, "%s", err);
        return CRMCTL_EXIT_USAGE;
    }

    /* Global options before the verb, then the verb's words. */
    crmctl_args_t pre;
    int at = 1, rc;
    if (s_args_init(&pre, NULL, argc) < 0) {
        crm_config_destroy(&conf);
        return CRMCTL_EXIT_USAGE;
    }
    rc = s_args_parse(&ctl, &pre, argc, argv, 1, 1, &at);
    if (rc == 0 && at >= argc) {
        if (crmctl_arg(&pre, "help")) {
            s_print_main_help();
        } else {
            crmctl_error(NULL, NULL, "no verb given");
            s_try_help(NULL);
            rc = CRMCTL_EXIT_USAGE;
        }
        s_args_free(&pre);
        crm_config_destroy(&conf);
        return rc;
    }
    int words = 0;
    const crmctl_verb_t *verb = rc ? NULL : s_find_verb(argc, argv, at, &words);
    if (rc == 0 && !verb) {
        rc = s_is_group(argv[at]) ? s_group_usage(argv[at])
                                  : crmctl_usage_error(NULL, "unknown verb \"%s\"", argv[at]);
    }
    if (rc) {
        s_args_free(&pre);
        crm_config_destroy(&conf);
        return rc;
    }
    ctl.verb = verb;

    /* The verb's options; the global ones given before the verb count too. */
    crmctl_args_t args;
    if (s_args_init(&args, verb->opts, argc) < 0) {
        s_args_free(&pre);
        crm_config_destroy(&conf);
        return CRMCTL_EXIT_USAGE;
    }
    for (size_t i = 0; i < pre.n_opts; i++)
        for (size_t k = 0; k < args.n_opts && pre.values[i]; k++)
            if (args.opts[k] == pre.opts[i]) {
                args.values[k] = pre.values[i];
                pre.values[i] = NULL;
            }
    s_args_free(&pre);
    rc = s_args_parse(&ctl, &args, argc, argv, at + words, 0, NULL);
    if (rc == 0 && crmctl_arg(&args, "help")) {
        s_print_verb_help(verb);
    } else if (rc == 0 && verb->max_positional >= 0 &&
               args.n_positional > (size_t)verb->max_positional) {
        rc = crmctl_usage_error(&ctl, "unexpected argument \"%s\"",
                                args.positional[verb->max_positional]);
    } else if (rc == 0 && verb->fn == s_help) {
        rc = s_help(&ctl, &args); /* needs no configuration */
    } else if (rc == 0 && (rc = s_configure(&ctl, &args, conf)) == 0) {
        rc = verb->fn(&ctl, &args);
    }
    s_args_free(&args);
    s_ctl_close(&ctl);
    crm_config_destroy(&conf);
    return rc;
}
