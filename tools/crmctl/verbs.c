/* verbs.c: the table of crmctl's verbs. Each row names a verb, its
 * handler (in ops/, sales/, marketing/, support/, analytics/, demo/), its
 * synopsis, help and options; adding a verb is adding a row here. */
#include "main.h"

#include <string.h>

/* ---- the table of verbs ----------------------------------------------- */

static const crmctl_opt_t s_no_opts[] = {{NULL, 0, NULL, NULL, 0}};

/* Paragraphs the sales verbs share. */
#define SALES_HELP_WRITE                                                                           \
    "Each run sends a new idempotency key (retries of a lost request apply once); give\n"          \
    "--idempotency-key to make running the command again a no-op. Money is decimal text\n"         \
    "with at most the decimals of its currency (1234.50 EUR, 1500 JPY, 1.250 KWD; 2 when\n"        \
    "no currency is given); dates are YYYY-MM-DD; times are RFC 3339 (UTC when no offset\n"        \
    "is given) or relative (+2h, +30m, +1d, -1d)."
#define SUPPORT_HELP_WRITE                                                                         \
    "Each run sends a new idempotency key (retries of a lost request apply once); give\n"          \
    "--idempotency-key to make running the command again a no-op. The service checks the\n"        \
    "rules: a refused change prints its error, exits with status 1 and changes nothing."
#define SALES_HELP_LIST                                                                            \
    "Prints one page (--limit, default 50) and the --page-token of the next; --all follows\n"      \
    "the pages to the end. -o json prints the reply as in the service's .proto file."

const crmctl_verb_t crmctl_verbs[] = {
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
     "printed twice. -o json prints one CloudEvents 1.0 JSON event per line: specversion,\n"
     "id, source, type, subject, time, sequence (a string), epoch, correlationid,\n"
     "causationid, actor, datacontenttype, dataschema and data (the payload); see\n"
     "docs/events.md.\n"
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
    {"keys new", crmctl_keys_new, "NAME [--dir DIR]", "write a CurveZMQ keypair for NAME",
     "Writes DIR/NAME.key (both keys, mode 0600: keep it secret) and DIR/NAME.pub (the public\n"
     "key only) and prints the public key. An operator adds that key to the directory of\n"
     "principals; crmctl then uses NAME.key through CRM_KEY_FILE or as ~/.config/crm/key.\n"
     "An existing file is never overwritten.",
     crmctl_keys_new_opts, 1},
    {"token create", crmctl_token_create, "PRINCIPAL [--expires TIME] [--label TEXT]",
     "make an API token for the HTTP API acting as a staff principal (admins)",
     "Prints the token once (keep it secret); crm-api stores only a hash of it. Clients\n"
     "send it as Authorization: Bearer TOKEN. crm-api is found as api in CRM_SERVICES.",
     crmctl_token_create_opts, 1},
    {"token revoke", crmctl_token_revoke, "ID", "revoke an API token (refused from now on)", NULL,
     crmctl_token_revoke_opts, 1},
    {"token list", crmctl_token_list, "[--principal NAME]",
     "list API tokens: id, principal, expiry, revocation", NULL, crmctl_token_list_opts, 0},
    {"staff password", crmctl_staff_password, "PRINCIPAL [--remove]",
     "set the password a staff principal logs in to the dashboard with (admins)",
     "Reads the password twice from the terminal without echo, or one line from standard\n"
     "input; only its argon2id hash is sent to crm-api.",
     crmctl_staff_password_opts, 1},
    {"whoami", crmctl_whoami, "", "show the principal your key stands for, its teams and roles",
     "Reads your key (CRM_KEY_FILE, else ~/.config/crm/key) and the directory of principals\n"
     "(CRM_DIRECTORY_FILE, else ~/.config/crm/directory); calls no service.",
     crmctl_whoami_opts, 0},
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
    {"sla figures", crmctl_sla_figures, "[--from DATE] [--to DATE] [--at TIME]",
     "the help desk's figures: CSAT, SLA compliance, backlog, load per agent and team",
     "Ratings given and tickets opened in [--from, --to) (default the last 30 days); the\n"
     "backlog (tickets not resolved or closed) at --at, by status and age. A target is met\n"
     "when done and not breached; compliance is met / (met + breached).",
     crmctl_sla_figures_opts, 0},
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
    {"person export", crmctl_person_export, "ID",
     "everything every service keeps about a person, as one JSON document",
     "Needs personal_data.read (admin, privacy-officer). Asks sales, marketing, support and\n"
     "analytics for their parts (<service>.person.export): their rows about the person and\n"
     "their stored events about them. An erased person shows only the erasure. Layout in\n"
     "docs/operations.md, \"Export requests\".\n",
     crmctl_person_export_opts, 1},
    {"person erase", crmctl_person_erase, "ID --reason TEXT",
     "erase a person's personal data in every service and stored event",
     "Needs personal_data.delete (admin, privacy-officer). Sales erases at once and publishes\n"
     "person.erased; marketing, support and analytics erase on applying it (a stopped service\n"
     "does on restart). Erasing an erased person is refused (docs/operations.md, \"Erasure\n"
     "requests\").\n" SALES_HELP_WRITE,
     crmctl_person_erase_opts, 1},
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
    {"pipeline rename-stage", crmctl_pipeline_rename_stage, "ID --stage NAME --to NAME",
     "rename a stage of a pipeline; its deals follow, their stage history stays as it was",
     "A name another stage of the pipeline has is refused and changes nothing.\n" SALES_HELP_WRITE,
     crmctl_pipeline_rename_stage_opts, 1},
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
    {"order refund", crmctl_order_refund,
     "ID [--line POS:QTY]... | [--amount AMOUNT [--currency CODE]] [--reason TEXT]",
     "refund an order: whole (the default), some units of its lines, or an amount",
     "Refunding more than was paid and not yet refunded is refused and changes nothing.\n"
     "--amount is read in the order's currency: give --currency for one without two decimals\n"
     "(JPY, KWD).\n" SALES_HELP_WRITE,
     crmctl_order_refund_opts, 1},
    {"order cancel", crmctl_order_cancel, "ID [--reason TEXT]",
     "cancel an order, refunding what was not refunded yet", SALES_HELP_WRITE,
     crmctl_order_cancel_opts, 1},
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
    {"campaign expense void", crmctl_campaign_expense_void, "EXPENSE-ID --reason TEXT",
     "void an expense: the ledger gets a reversing entry",
     "The ledger stays append-only: the reversing entry has the negated amount and the\n"
     "reason as its note. An expense is voided once.\n" SALES_HELP_WRITE,
     crmctl_campaign_expense_void_opts, 1},
    {"campaign delivery confirm", crmctl_campaign_delivery_confirm,
     "(--delivery ID | --campaign ID --customer ID --channel CH) --outcome O [--reason T]",
     "record a gateway's report on an SMS, fax, letter or call",
     "A message on a channel behind an external gateway (sms, phone, fax, mail) counts\n"
     "as sent when it is handed over, and as delivered (or failed) only once the\n"
     "gateway confirms it here. The outcome is recorded once: a second confirmation\n"
     "changes nothing. Email is confirmed by the SMTP relay, not here. --outcome\n"
     "bounced also records a bounced response.\n" SALES_HELP_WRITE,
     crmctl_campaign_delivery_confirm_opts, 1},
    {"campaign target", crmctl_campaign_target,
     "ID [--customer ID]... [--segment ID [--always-on]]",
     "add recipients: customers, or the members of a segment",
     "With --always-on, whoever enters the segment later becomes a recipient too, while the\n"
     "campaign runs: once (leaving and re-entering adds nothing), under the same contact\n"
     "policy and frequency cap. People who enter while it is draft, scheduled or paused are\n"
     "not enrolled, also not on resume: target the segment again to reach them.\n" SALES_HELP_WRITE,
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
    {"campaign complete", crmctl_campaign_complete, "ID",
     "complete a running or paused campaign: it sends nothing more", SALES_HELP_WRITE,
     crmctl_campaign_complete_opts, 1},
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
     " [--opt-out CH]... [--clear-opt-out CH]...",
     "change a customer's contact preferences: only the options given",
     "What is not given keeps its stored value; --opt-out adds to the stored opt-outs, and\n"
     "only --clear-opt-out removes one. Consent is not a preference: record it\n"
     "with `crmctl consent grant`. Every change is published, so that sales respects it "
     "too.\n" SALES_HELP_WRITE,
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
    {"consent grant", crmctl_consent_grant,
     "CUSTOMER --purpose PURPOSE --source SOURCE [--proof TEXT] [--at TIME]",
     "record that a customer consented to a purpose",
     "Purposes: email-marketing, sms-marketing, phone-marketing, fax-marketing,\n"
     "post-marketing, profiling. Sources: form, import, call, response. The ledger is\n"
     "append-only: you are recorded as the one who recorded it, and nothing is overwritten.\n"
     "Under an opt-in channel (MARKETING_CHANNEL_POLICY; email, SMS and fax by default) a\n"
     "campaign send needs this consent, else it is suppressed no_consent.\n" SALES_HELP_WRITE,
     crmctl_consent_grant_opts, 1},
    {"consent withdraw", crmctl_consent_withdraw,
     "CUSTOMER --purpose PURPOSE --source SOURCE [--proof TEXT] [--at TIME]",
     "record that a customer withdrew a consent",
     "A new entry in the ledger; the next step of a running campaign already respects it,\n"
     "and sales refuses to schedule contacts on that channel without "
     "--override-reason.\n" SALES_HELP_WRITE,
     crmctl_consent_withdraw_opts, 1},
    {"consent history", crmctl_consent_history, "CUSTOMER",
     "list every consent entry of a customer and the purposes granted now", NULL,
     crmctl_consent_history_opts, 1},
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
     "the customer's whole cross-team timeline, oldest first, with who did each thing", NULL,
     crmctl_customer_timeline_opts, 1},
    {"audit", crmctl_audit, "--customer ID [--actor NAME] [--as-of DATE]",
     "who did what to a customer and when, across every service",
     "One line per event about the customer, oldest first: its time, the service that\n"
     "recorded it, the event type, the actor and a summary. The actor is the principal that\n"
     "caused the event: the staff member (or tool) whose authenticated command it answers, or\n"
     "the service itself for what it did on its own (reacting to another service's event, a\n"
     "timer). It is read from analytics' cross-service timeline (docs/architecture.md,\n"
     "\"Audit trail\"). -o json prints {customer_id, entries: [{time, service, sequence,\n"
     "type, actor, summary, at_us}]}.",
     crmctl_audit_opts, 0},
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
    {"report trends", crmctl_report_trends,
     "[--from DATE] [--to DATE] [--period week|month|quarter|year] [--at TIME]",
     "customers, revenue, churn rate and retention per period",
     "Active: ordered in the period (an order not cancelled); retained: active in the period\n"
     "and the one before; retention = retained / active before; churn rate = 1 - retention.\n"
     "Revenue per currency, net of the refunds made in the period.",
     crmctl_report_opts, 0},
    {"report channels", crmctl_report_channels, "[--at TIME]",
     "average lifetime value and acquisition cost per acquisition channel",
     "A customer's channel is that of the campaign that won them first; \"direct\" when none did.",
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
    {"help", crmctl_help, "[VERB]", "show the help of crmctl or of one verb", NULL, s_no_opts, -1},
    {"context list", crmctl_context_list, "", "list the named contexts of the config file",
     "A context names the services (and the bus and a --timeout) of one deployment, such as\n"
     "the one of `make run` and a compose deployment. The file is CRM_CONFIG, else\n"
     "$XDG_CONFIG_HOME/crm/config, else ~/.config/crm/config:\n\n"
     "  current-context = local\n\n"
     "  [local]\n"
     "  services = sales=tcp://127.0.0.1:7410,marketing=tcp://127.0.0.1:7420\n"
     "  bus = tcp://127.0.0.1:7401\n\n"
     "  [compose]\n"
     "  services = sales=tcp://crm.example:7410\n"
     "  timeout = 3s\n\n"
     "Settings apply strongest first: an option (--services, --bus, --timeout), the context\n"
     "named by --context or CRM_CONTEXT, the environment (CRM_SERVICES,\n"
     "CRM_BUS_SUB_ENDPOINT), the file's current context, the built-in defaults.",
     crmctl_context_list_opts, 0},
    {"context use", crmctl_context_use, "NAME", "make NAME the current context of the config file",
     "Rewrites the current-context line of the file and keeps the rest of it.",
     crmctl_context_use_opts, 1},
    {"completion", crmctl_completion, "bash | zsh",
     "print a shell completion script for bash or zsh",
     "The script is generated from crmctl's table of verbs and options, so it completes\n"
     "exactly what this crmctl accepts. Load it for the current shell with\n"
     "  source <(crmctl completion bash)        (bash)\n"
     "  source <(crmctl completion zsh)         (zsh)\n"
     "or install it, for example as /etc/bash_completion.d/crmctl.",
     crmctl_completion_opts, 1},
    /* Webhooks (webhooks/webhook.c): admins only. */
    {"webhook create", crmctl_webhook_create,
     "URL --types PREFIX[,PREFIX]... [--secret whsec_...] [--description D]",
     "send every event whose type starts with a PREFIX to URL, signed",
     "Events are POSTed as CloudEvents JSON, in order, one at a time, signed as the\n"
     "Standard Webhooks specification says (docs/events.md, \"Webhooks\"). The secret\n"
     "(made when not given) is printed this once: keep it for the receiver.",
     crmctl_webhook_create_opts, 1},
    {"webhook list", crmctl_webhook_list, "[--limit N] [--page-token T] [--all]",
     "list the webhook subscriptions, newest first", SALES_HELP_LIST, crmctl_webhook_list_opts, 0},
    {"webhook show", crmctl_webhook_show, "ID", "show one webhook subscription", NULL,
     crmctl_webhook_show_opts, 1},
    {"webhook update", crmctl_webhook_update, "ID [--types P]... [--url URL] [--description D]",
     "change a subscription's prefixes, URL or description", NULL, crmctl_webhook_update_opts, 1},
    {"webhook enable", crmctl_webhook_enable, "ID",
     "enable a subscription; its failed deliveries are retried at once", NULL,
     crmctl_webhook_enable_opts, 1},
    {"webhook disable", crmctl_webhook_disable, "ID",
     "disable a subscription: nothing is sent or queued for it", NULL, crmctl_webhook_disable_opts,
     1},
    {"webhook delete", crmctl_webhook_delete, "ID", "delete a subscription and its deliveries",
     NULL, crmctl_webhook_delete_opts, 1},
    {"webhook deliveries", crmctl_webhook_deliveries,
     "[--subscription ID] [--status pending|failed|delivered] [--limit N] [--all]",
     "list deliveries, oldest first", SALES_HELP_LIST, crmctl_webhook_deliveries_opts, 0},
    {"webhook retry", crmctl_webhook_retry, "ID | --subscription ID",
     "make failed deliveries due now", NULL, crmctl_webhook_retry_opts, 1},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0},
};

/* The verb whose words are argv[at..], the longest match; *words = its
 * number of words. */
const crmctl_verb_t *crmctl_verb_find(int argc, char **argv, int at, int *words)
{
    const crmctl_verb_t *best = NULL;
    int best_words = 0;
    for (const crmctl_verb_t *v = crmctl_verbs; v->name; v++) {
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
int crmctl_verb_is_group(const char *word)
{
    size_t len = strlen(word);
    for (const crmctl_verb_t *v = crmctl_verbs; v->name; v++)
        if (!strncmp(v->name, word, len) && v->name[len] == ' ')
            return 1;
    return 0;
}

int crmctl_verb_group(int argc, char **argv, int at, char *buf, size_t len)
{
    int best = 0;
    size_t used = 0;
    buf[0] = 0;
    for (int w = 0; at + w < argc && argv[at + w][0] != '-'; w++) {
        int n = snprintf(buf + used, len - used, "%s%s", w ? " " : "", argv[at + w]);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
        if (!crmctl_verb_is_group(buf))
            break;
        best = w + 1;
    }
    /* Back to the longest prefix that is a group. */
    used = 0;
    for (int w = 0; w < best; w++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", w ? " " : "", argv[at + w]);
    buf[used] = 0;
    return best;
}
