-- The fold, replaced whole whenever it changes (a repeatable migration:
-- crm/migrate.h). 0002_apply.sql explains the health functions beside it;
-- docs/analytics.md explains every figure. Since it was first written it
-- also projects crm.support.ticket.priority_changed.v1 (the ticket's
-- priority, and the timeline says "ticket "x" priority normal -> urgent")
-- and crm.marketing.campaign.updated.v1 (budget and offers follow it as
-- they follow campaign.created and .scheduled), and the envelope's actor
-- into customer_event.actor (0008_actor.sql), and orders' refunds and
-- cancellations (0011_currencies_refunds.sql): net revenue, net attributed
-- revenue, amounts in their currency's minor units in the summaries;
-- pipelines' names (0013_report_names.sql); subscriptions
-- (0017_subscriptions.sql); and stage probability changes (deals follow).
-- The fold is three functions, so that an event applied alone (an_apply) and
-- a consumer's run of events (an_apply_run) run the same code: an_decode
-- (what happened, to whom, when: the event log row), an_project (the
-- projections) and an_health_inputs (0002_apply.sql, 0018_fold_plpgsql.sql).
-- an_apply_run (R_apply_run.sql) does the same per run, set-based where the
-- order of the run's events does not change the result (issue 15).

-- The member of an event's payload (its one key that is not the
-- envelope's), NULL for a payload this build does not know.
CREATE OR REPLACE FUNCTION an_member(ev jsonb)
    RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT k FROM jsonb_object_keys(ev) AS j(k)
     WHERE k NOT IN ('id', 'source', 'type', 'subject', 'time_us', 'sequence', 'epoch',
                     'correlation_id', 'causation_id', 'actor')
     LIMIT 1
    $$;

-- What an event is (the member of its payload, the payload, its record),
-- about whom, when, and its line in the timeline. member is NULL for a
-- payload this build does not know (nothing to project). No statements:
-- expressions only, so a run decodes its events in one statement.
CREATE OR REPLACE FUNCTION an_decode(src text, ev jsonb, OUT member text, OUT p jsonb,
                                     OUT x jsonb, OUT cid text, OUT occurred timestamptz,
                                     OUT summary text)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    member := an_member(ev);
    SELECT * INTO p, x, cid, occurred, summary FROM an_decode_member(src, ev, member);
    -- A merged person's id names its survivor (crm_alias, 0016_merge.sql).
    cid := crm_alias_of(cid);
END
$$;

-- an_decode of an event whose member is known (an_apply_run: the consumer
-- names it, handlers/fold.c), without the alias: a run looks the run's
-- aliases up in its statement (per event here it was a query of its own,
-- a third of the decoding's CPU, as was finding the member; issue 15).
CREATE OR REPLACE FUNCTION an_decode_member(src text, ev jsonb, member text, OUT p jsonb,
                                            OUT x jsonb, OUT cid text, OUT occurred timestamptz,
                                            OUT summary text)
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    t_ev timestamptz := COALESCE(an_ts(ev ->> 'time_us'), now());
BEGIN
    cid := COALESCE(ev ->> 'subject', '');
    summary := '';
    IF member IS NULL THEN
        RETURN;
    END IF;
    p := ev -> member;
    occurred := t_ev;

    CASE member
    WHEN 'person_registered', 'person_updated' THEN
        x := p -> 'person';
        cid := COALESCE(NULLIF(x ->> 'id', ''), cid);
        occurred := COALESCE(an_ts(CASE WHEN member = 'person_registered' THEN x ->> 'created_at_us'
                                        ELSE x ->> 'updated_at_us' END), t_ev);
        summary := format('%s %s by %s', COALESCE(NULLIF(x ->> 'name', ''), 'person'),
                          CASE WHEN member = 'person_registered' THEN 'registered' ELSE 'updated' END, src);
    WHEN 'deal_created', 'deal_stage_changed', 'deal_won', 'deal_lost' THEN
        x := p -> 'deal';
        cid := COALESCE(NULLIF(x ->> 'person_id', ''), cid);
        occurred := COALESCE(an_ts(CASE member WHEN 'deal_created' THEN x ->> 'created_at_us'
                                               WHEN 'deal_stage_changed' THEN x ->> 'updated_at_us'
                                               ELSE x ->> 'closed_at_us' END), t_ev);
        summary := CASE member
            WHEN 'deal_created' THEN format('deal "%s" created (%s)', x ->> 'title',
                                            an_money(x ->> 'amount_minor', x ->> 'currency'))
            WHEN 'deal_stage_changed' THEN format('deal "%s" moved from %s to %s', x ->> 'title',
                                                  p ->> 'from_stage', p ->> 'to_stage')
            WHEN 'deal_won' THEN format('deal "%s" won', x ->> 'title')
            ELSE format('deal "%s" lost: %s', x ->> 'title', COALESCE(p ->> 'reason', '')) END;
    WHEN 'order_placed' THEN
        x := p -> 'order';
        cid := COALESCE(NULLIF(x ->> 'person_id', ''), cid);
        occurred := COALESCE(an_ts(x ->> 'ordered_at_us'), t_ev);
        summary := format('order placed: %s', an_money(x ->> 'total_minor', x ->> 'currency'));
    WHEN 'order_refunded', 'order_cancelled' THEN
        x := p -> 'refund';
        cid := COALESCE(NULLIF(x ->> 'person_id', ''), NULLIF(p -> 'order' ->> 'person_id', ''), cid);
        occurred := COALESCE(an_ts(x ->> 'refunded_at_us'), t_ev);
        summary := format('order %s: %s refunded',
                          CASE member WHEN 'order_cancelled' THEN 'cancelled' ELSE 'refunded' END,
                          an_money(COALESCE(x ->> 'amount_minor', '0'), x ->> 'currency'));
    WHEN 'activity_scheduled', 'activity_completed', 'activity_due', 'note_added' THEN
        x := p -> 'activity';
        cid := COALESCE(NULLIF(x ->> 'person_id', ''), cid);
        occurred := COALESCE(an_ts(CASE member WHEN 'activity_completed' THEN x ->> 'completed_at_us'
                                               WHEN 'activity_due' THEN x ->> 'due_at_us'
                                               ELSE x ->> 'created_at_us' END), t_ev);
        summary := format('%s %s: %s', an_enum(x ->> 'kind', 'ACTIVITY_KIND_'),
                          CASE member WHEN 'activity_scheduled' THEN 'scheduled'
                                      WHEN 'activity_completed' THEN 'done'
                                      WHEN 'activity_due' THEN 'due' ELSE 'added' END,
                          COALESCE(x ->> 'subject', ''));
    WHEN 'lead_created', 'lead_qualified', 'lead_converted', 'lead_disqualified' THEN
        summary := format('lead %s', replace(member, 'lead_', ''));
    WHEN 'campaign_response_recorded' THEN
        cid := COALESCE(NULLIF(p ->> 'customer_id', ''), cid);
        summary := format('campaign response: %s', an_enum(p ->> 'response', 'RESPONSE_TYPE_'));
    WHEN 'send_decided' THEN
        cid := COALESCE(NULLIF(p ->> 'customer_id', ''), cid);
        summary := format('campaign message %s (%s)', an_enum(p ->> 'status', 'SEND_STATUS_'),
                          an_enum(p ->> 'channel', 'CHANNEL_'));
    WHEN 'campaign_targeted' THEN
        summary := format('campaign targeted at %s customer(s)',
                          jsonb_array_length(COALESCE(p -> 'customer_ids', '[]')));
    WHEN 'delivery_recorded' THEN
        cid := COALESCE(NULLIF(p ->> 'customer_id', ''), cid);
        summary := format('campaign message %s (%s)%s',
                          CASE WHEN COALESCE((p ->> 'delivered')::boolean, false) THEN 'delivered'
                               ELSE 'not delivered' END,
                          an_enum(p ->> 'channel', 'CHANNEL_'),
                          COALESCE(': ' || NULLIF(p ->> 'error', ''), ''));
    WHEN 'conversion_attributed' THEN
        cid := COALESCE(NULLIF(p ->> 'customer_id', ''), cid);
        occurred := COALESCE(an_ts(p ->> 'ordered_at_us'), t_ev);
        summary := format('order attributed to a campaign: %s',
                          an_money(p ->> 'revenue_minor', p ->> 'currency'));
    WHEN 'preferences_changed' THEN
        x := p -> 'preferences';
        cid := COALESCE(NULLIF(x ->> 'customer_id', ''), cid);
        occurred := COALESCE(an_ts(x ->> 'updated_at_us'), t_ev);
        summary := format('preferences changed (%s): preferred %s, opted out of %s',
                          COALESCE(p ->> 'cause', ''), an_enum(x ->> 'preferred_channel', 'CHANNEL_'),
                          COALESCE((SELECT string_agg(an_enum(o, 'CHANNEL_'), ', ')
                                      FROM jsonb_array_elements_text(x -> 'opted_out') o), 'nothing'));
    WHEN 'segment_membership_changed' THEN
        cid := COALESCE(NULLIF(p ->> 'customer_id', ''), cid);
        summary := format('%s segment %s', CASE WHEN (p ->> 'member')::boolean THEN 'joined' ELSE 'left' END,
                          p ->> 'segment_id');
    WHEN 'ticket_opened' THEN
        cid := COALESCE(NULLIF(p ->> 'customer_id', ''), cid);
        summary := format('ticket opened (%s, %s): %s', an_enum(p ->> 'type', 'TICKET_TYPE_'),
                          COALESCE(p ->> 'priority', 'normal'), COALESCE(p ->> 'subject', ''));
    WHEN 'ticket_assigned', 'ticket_replied', 'ticket_note_added', 'ticket_status_changed',
         'ticket_resolved', 'ticket_reopened', 'ticket_closed', 'ticket_rated',
         'ticket_priority_changed', 'sla_at_risk', 'sla_breached' THEN
        x := p -> 'ticket';
        cid := COALESCE(NULLIF(x ->> 'customer_id', ''), cid);
        occurred := COALESCE(CASE WHEN member = 'ticket_rated'
                                  THEN an_ts(x -> 'satisfaction' ->> 'rated_at_us')
                                  WHEN member IN ('sla_at_risk', 'sla_breached') THEN NULL
                                  ELSE an_ts(x ->> 'updated_at_us') END, t_ev);
        summary := CASE member
            WHEN 'ticket_rated' THEN format('ticket "%s" rated %s', x ->> 'subject', p ->> 'rating')
            WHEN 'ticket_status_changed' THEN format('ticket "%s" %s -> %s', x ->> 'subject',
                an_enum(p ->> 'from_status', 'TICKET_STATUS_'), an_enum(p ->> 'to_status', 'TICKET_STATUS_'))
            WHEN 'ticket_priority_changed' THEN format('ticket "%s" priority %s -> %s%s', x ->> 'subject',
                an_enum(p ->> 'from_priority', 'TICKET_PRIORITY_'),
                an_enum(COALESCE(p ->> 'to_priority', x ->> 'priority'), 'TICKET_PRIORITY_'),
                COALESCE(': ' || NULLIF(p ->> 'reason', ''), ''))
            WHEN 'sla_at_risk' THEN format('ticket "%s": %s SLA at risk', x ->> 'subject',
                                           an_enum(p ->> 'target', 'SLA_TARGET_'))
            WHEN 'sla_breached' THEN format('ticket "%s": %s SLA breached', x ->> 'subject',
                                            an_enum(p ->> 'target', 'SLA_TARGET_'))
            ELSE format('ticket "%s" %s', x ->> 'subject', replace(replace(member, 'ticket_', ''), '_', ' ')) END;
    WHEN 'feedback_tagged' THEN
        cid := COALESCE(NULLIF(p ->> 'customer_id', ''), cid);
        summary := format('feedback tagged: %s', COALESCE((SELECT string_agg(t, ', ')
                          FROM jsonb_array_elements_text(p -> 'tags') t), ''));
    WHEN 'subscription_created', 'subscription_changed', 'subscription_renewed',
         'subscription_cancelled' THEN
        x := p -> 'subscription';
        cid := COALESCE(NULLIF(x ->> 'person_id', ''), cid);
        occurred := COALESCE(an_ts(CASE member WHEN 'subscription_created' THEN x ->> 'created_at_us'
                                               ELSE x ->> 'updated_at_us' END), t_ev);
        summary := format('subscription "%s" (%s a %s) %s', x ->> 'plan',
                          an_money(x ->> 'amount_minor', x ->> 'currency'),
                          an_enum(x ->> 'period', 'SUBSCRIPTION_PERIOD_'),
                          CASE member WHEN 'subscription_created' THEN 'started, renews on ' || (x ->> 'renewal_date')
                                      WHEN 'subscription_renewed' THEN 'renewed, next on ' || (x ->> 'renewal_date')
                                      WHEN 'subscription_cancelled' THEN 'cancelled'
                                      ELSE 'changed, renews on ' || (x ->> 'renewal_date') END);
    WHEN 'expense_recorded' THEN
        occurred := COALESCE(an_ts(p -> 'expense' ->> 'created_at_us'), t_ev);
        summary := format('campaign expense %s', an_money(p -> 'expense' ->> 'amount_minor'));
    WHEN 'churn_risk_raised', 'health_changed', 'data_quality_issue_found' THEN
        cid := COALESCE(NULLIF(p ->> 'customer_id', ''), cid);
        summary := replace(member, '_', ' ');
    WHEN 'person_merged' THEN
        cid := COALESCE(NULLIF(p ->> 'survivor_id', ''), cid);
        summary := format('person %s merged into this one', p ->> 'dropped_id');
    ELSE
        summary := replace(member, '_', ' ');
    END CASE;
END
$$;

-- The projections of one decoded event (an_decode), recorded in the event
-- log just before.
CREATE OR REPLACE FUNCTION an_project(src text, seqn bigint, ev jsonb, member text, p jsonb,
                                      x jsonb, cid text, occurred timestamptz)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    t_us bigint;
BEGIN
    CASE member
    WHEN 'person_registered', 'person_updated' THEN
        t_us := an_us(occurred);
        UPDATE customer c SET
            known = true,
            registered_by = CASE WHEN c.registered_by = '' THEN COALESCE(x ->> 'registered_by', src)
                                 ELSE c.registered_by END,
            name = CASE WHEN COALESCE(x ->> 'name', '') <> '' AND an_fv_newer(c.fv, 'name', t_us, src)
                        THEN x ->> 'name' ELSE c.name END,
            emails = CASE WHEN jsonb_array_length(COALESCE(x -> 'emails', '[]')) > 0
                           AND an_fv_newer(c.fv, 'emails', t_us, src)
                          THEN an_text_array(x -> 'emails') ELSE c.emails END,
            phones = CASE WHEN jsonb_array_length(COALESCE(x -> 'phones', '[]')) > 0
                           AND an_fv_newer(c.fv, 'phones', t_us, src)
                          THEN an_text_array(x -> 'phones') ELSE c.phones END,
            organization_id = CASE WHEN COALESCE(x ->> 'organization_id', '') <> ''
                                    AND an_fv_newer(c.fv, 'organization_id', t_us, src)
                                   THEN x ->> 'organization_id' ELSE c.organization_id END,
            kind = CASE WHEN x ? 'kind' AND an_fv_newer(c.fv, 'kind', t_us, src)
                        THEN an_enum(x ->> 'kind', 'PERSON_KIND_') ELSE c.kind END,
            country = CASE WHEN COALESCE(x ->> 'country', '') <> '' AND an_fv_newer(c.fv, 'country', t_us, src)
                           THEN x ->> 'country' ELSE c.country END,
            industry = CASE WHEN COALESCE(x ->> 'industry', '') <> '' AND an_fv_newer(c.fv, 'industry', t_us, src)
                            THEN x ->> 'industry' ELSE c.industry END,
            owner = CASE WHEN COALESCE(x ->> 'owner', '') <> '' AND an_fv_newer(c.fv, 'owner', t_us, src)
                         THEN x ->> 'owner' ELSE c.owner END,
            fv = c.fv || (SELECT COALESCE(jsonb_object_agg(f, jsonb_build_array(t_us, src)), '{}')
                            FROM unnest(ARRAY['name', 'emails', 'phones', 'organization_id', 'kind',
                                              'country', 'industry', 'owner']) f
                           WHERE an_fv_newer(c.fv, f, t_us, src)
                             AND (x ? f) AND x ->> f <> '' AND x -> f <> '[]'::jsonb),
            contributions = jsonb_set(c.contributions, ARRAY[src],
                                      COALESCE(c.contributions -> src, '{}') || x)
        WHERE c.id = cid;
    WHEN 'pipeline_created', 'stage_renamed', 'stage_added', 'stage_moved',
         'stage_probability_changed' THEN
        INSERT INTO pipeline (id, name) VALUES (p -> 'pipeline' ->> 'id',
                                                COALESCE(p -> 'pipeline' ->> 'name', ''))
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;
        -- Deals at a renamed stage follow it, as in sales; stage moves
        -- (deal_move) keep the names they had.
        IF member = 'stage_renamed' THEN
            UPDATE deal SET stage = p ->> 'to_stage'
             WHERE pipeline_id = p -> 'pipeline' ->> 'id' AND stage = p ->> 'from_stage';
        END IF;
        -- Open deals with the stage's old default probability follow the
        -- new one, by the rule sales applied (weighted figures follow).
        IF member = 'stage_probability_changed' THEN
            UPDATE deal SET probability = COALESCE((p ->> 'to_probability')::int, 0)
             WHERE pipeline_id = p -> 'pipeline' ->> 'id' AND stage = p ->> 'stage'
               AND status = 'open' AND probability = COALESCE((p ->> 'from_probability')::int, 0);
        END IF;
    WHEN 'organization_created' THEN
        INSERT INTO organization (id, name) VALUES (p -> 'organization' ->> 'id',
                                                    COALESCE(p -> 'organization' ->> 'name', ''))
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;
    WHEN 'deal_created', 'deal_stage_changed', 'deal_won', 'deal_lost' THEN
        INSERT INTO deal AS d (id, customer_id, title, owner, pipeline_id, stage, amount_minor, currency,
                               probability, expected_close, next_step, status, lost_reason,
                               created_at, closed_at)
        VALUES (x ->> 'id', cid, COALESCE(x ->> 'title', ''), COALESCE(x ->> 'owner', ''),
                COALESCE(x ->> 'pipeline_id', ''), COALESCE(x ->> 'stage', ''),
                COALESCE((x ->> 'amount_minor')::bigint, 0), COALESCE(x ->> 'currency', ''),
                COALESCE((x ->> 'probability')::int, 0), NULLIF(x ->> 'expected_close_date', '')::date,
                COALESCE(x ->> 'next_step', ''), an_enum(x ->> 'status', 'DEAL_STATUS_'),
                COALESCE(NULLIF(p ->> 'reason', ''), x ->> 'lost_reason', ''),
                COALESCE(an_ts(x ->> 'created_at_us'), occurred),
                CASE WHEN member IN ('deal_won', 'deal_lost') THEN occurred ELSE an_ts(x ->> 'closed_at_us') END)
        ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, title = EXCLUDED.title,
            owner = EXCLUDED.owner, pipeline_id = EXCLUDED.pipeline_id, stage = EXCLUDED.stage,
            amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency,
            probability = EXCLUDED.probability, expected_close = EXCLUDED.expected_close,
            next_step = EXCLUDED.next_step, status = EXCLUDED.status, lost_reason = EXCLUDED.lost_reason,
            closed_at = EXCLUDED.closed_at;
        IF member = 'deal_stage_changed' THEN
            INSERT INTO deal_move (source, seq, deal_id, owner, from_stage, to_stage, at)
            VALUES (src, seqn, x ->> 'id', COALESCE(x ->> 'owner', ''), COALESCE(p ->> 'from_stage', ''),
                    COALESCE(p ->> 'to_stage', ''), occurred);
        END IF;
    WHEN 'order_placed' THEN
        INSERT INTO sale_order (id, customer_id, deal_id, total_minor, currency, ordered_at)
        VALUES (x ->> 'id', cid, COALESCE(x ->> 'deal_id', ''), COALESCE((x ->> 'total_minor')::bigint, 0),
                COALESCE(x ->> 'currency', ''), occurred)
        ON CONFLICT (id) DO NOTHING;
    WHEN 'order_refunded', 'order_cancelled' THEN
        -- Attributed revenue follows the net amount: a refund known when
        -- the conversion arrives is taken off it there (below), one that
        -- arrives later here.
        IF COALESCE((x ->> 'amount_minor')::bigint, 0) > 0 THEN
            INSERT INTO sale_refund (id, order_id, customer_id, amount_minor, currency, at)
            VALUES (x ->> 'id', x ->> 'order_id', cid, (x ->> 'amount_minor')::bigint,
                    COALESCE(x ->> 'currency', ''), occurred)
            ON CONFLICT (id) DO NOTHING;
            IF FOUND THEN
                UPDATE conversion SET revenue_minor = revenue_minor - (x ->> 'amount_minor')::bigint
                 WHERE order_id = x ->> 'order_id';
            END IF;
        END IF;
        IF member = 'order_cancelled' THEN
            UPDATE sale_order SET cancelled_at = occurred WHERE id = x ->> 'order_id';
        END IF;
    WHEN 'activity_scheduled', 'activity_completed', 'activity_due', 'note_added' THEN
        INSERT INTO activity AS a (id, customer_id, deal_id, kind, owner, status, subject, due_at,
                                   completed_at, created_at)
        VALUES (x ->> 'id', cid, COALESCE(x ->> 'deal_id', ''), an_enum(x ->> 'kind', 'ACTIVITY_KIND_'),
                COALESCE(x ->> 'owner', ''), an_enum(x ->> 'status', 'ACTIVITY_STATUS_'),
                COALESCE(x ->> 'subject', ''), an_ts(x ->> 'due_at_us'), an_ts(x ->> 'completed_at_us'),
                COALESCE(an_ts(x ->> 'created_at_us'), occurred))
        ON CONFLICT (id) DO UPDATE SET status = CASE WHEN a.status = 'done' THEN 'done' ELSE EXCLUDED.status END,
            owner = EXCLUDED.owner, kind = EXCLUDED.kind, subject = EXCLUDED.subject,
            due_at = EXCLUDED.due_at, completed_at = COALESCE(EXCLUDED.completed_at, a.completed_at);
    WHEN 'campaign_created', 'campaign_scheduled', 'campaign_status_changed', 'campaign_updated' THEN
        x := p -> 'campaign';
        INSERT INTO campaign (id, name, status, currency, budget_minor, owner, channels)
        VALUES (x ->> 'id', COALESCE(x ->> 'name', ''), an_enum(x ->> 'status', 'CAMPAIGN_STATUS_'),
                COALESCE(x ->> 'currency', ''), COALESCE((x ->> 'budget_minor')::bigint, 0),
                COALESCE(x ->> 'owner', ''),
                (SELECT COALESCE(array_agg(an_enum(ch, 'CHANNEL_')), '{}')
                   FROM jsonb_array_elements_text(COALESCE(x -> 'channels', '[]')) ch))
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status,
            currency = EXCLUDED.currency, budget_minor = EXCLUDED.budget_minor, owner = EXCLUDED.owner,
            channels = EXCLUDED.channels;
    WHEN 'send_decided' THEN
        INSERT INTO campaign_send AS s (campaign_id, customer_id, status, channel, decided_at)
        VALUES (p ->> 'campaign_id', cid, an_enum(p ->> 'status', 'SEND_STATUS_'),
                an_enum(p ->> 'channel', 'CHANNEL_'), occurred)
        ON CONFLICT (campaign_id, customer_id) DO UPDATE SET status = EXCLUDED.status,
            channel = EXCLUDED.channel, decided_at = EXCLUDED.decided_at;
        INSERT INTO campaign_recipient (campaign_id, customer_id, reached_at)
        VALUES (p ->> 'campaign_id', cid, occurred) ON CONFLICT DO NOTHING;
    WHEN 'campaign_targeted' THEN
        INSERT INTO campaign_recipient (campaign_id, customer_id, reached_at)
        SELECT p ->> 'campaign_id', crm_alias_of(t), occurred
          FROM jsonb_array_elements_text(COALESCE(p -> 'customer_ids', '[]')) t
        ON CONFLICT DO NOTHING;
    WHEN 'delivery_recorded' THEN
        INSERT INTO campaign_delivery AS dl (campaign_id, customer_id, delivered, at)
        VALUES (p ->> 'campaign_id', cid, COALESCE((p ->> 'delivered')::boolean, false), occurred)
        ON CONFLICT (campaign_id, customer_id) DO UPDATE SET delivered = EXCLUDED.delivered,
            at = EXCLUDED.at;
    WHEN 'campaign_response_recorded' THEN
        -- An unsolicited response (from someone not a recipient) enrols
        -- nobody, as in marketing (0007).
        INSERT INTO campaign_response (source, seq, campaign_id, customer_id, response, channel,
                                       revenue_minor, currency, at, unsolicited, order_id)
        VALUES (src, seqn, p ->> 'campaign_id', cid, an_enum(p ->> 'response', 'RESPONSE_TYPE_'),
                COALESCE(p ->> 'channel', ''), COALESCE((p ->> 'revenue_minor')::bigint, 0),
                upper(COALESCE(p ->> 'currency', '')), occurred,
                COALESCE((p ->> 'unsolicited')::boolean, false), COALESCE(p ->> 'order_id', ''));
        IF cid <> '' AND NOT COALESCE((p ->> 'unsolicited')::boolean, false) THEN
            INSERT INTO campaign_recipient (campaign_id, customer_id, reached_at)
            VALUES (p ->> 'campaign_id', cid, occurred) ON CONFLICT DO NOTHING;
        END IF;
    WHEN 'subscription_created', 'subscription_changed', 'subscription_renewed',
         'subscription_cancelled' THEN
        -- The latest state wins: events of one subscription come from one
        -- source in order, so a later one is never older.
        INSERT INTO subscription AS s (id, customer_id, plan, amount_minor, currency, period,
                                       start_date, renewal_date, status, owner, updated_at)
        VALUES (x ->> 'id', cid, COALESCE(x ->> 'plan', ''), COALESCE((x ->> 'amount_minor')::bigint, 0),
                COALESCE(x ->> 'currency', ''), an_enum(x ->> 'period', 'SUBSCRIPTION_PERIOD_'),
                NULLIF(x ->> 'start_date', '')::date, NULLIF(x ->> 'renewal_date', '')::date,
                an_enum(x ->> 'status', 'SUBSCRIPTION_STATUS_'), COALESCE(x ->> 'owner', ''), occurred)
        ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, plan = EXCLUDED.plan,
            amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency, period = EXCLUDED.period,
            start_date = EXCLUDED.start_date, renewal_date = EXCLUDED.renewal_date,
            status = EXCLUDED.status, owner = EXCLUDED.owner, updated_at = EXCLUDED.updated_at;
    WHEN 'expense_recorded' THEN
        INSERT INTO campaign_expense (id, campaign_id, amount_minor, at)
        VALUES (p -> 'expense' ->> 'id', p -> 'expense' ->> 'campaign_id',
                COALESCE((p -> 'expense' ->> 'amount_minor')::bigint, 0), occurred)
        ON CONFLICT (id) DO NOTHING;
    WHEN 'conversion_attributed' THEN
        INSERT INTO conversion (order_id, campaign_id, customer_id, revenue_minor, currency, at)
        VALUES (p ->> 'order_id', p ->> 'campaign_id', cid,
                COALESCE((p ->> 'revenue_minor')::bigint, 0)
                - COALESCE((SELECT sum(r.amount_minor) FROM sale_refund r
                             WHERE r.order_id = p ->> 'order_id'), 0),
                COALESCE(p ->> 'currency', ''), occurred)
        ON CONFLICT (order_id) DO NOTHING;
    WHEN 'preferences_changed' THEN
        INSERT INTO preference AS pr (customer_id, preferred_channel, opted_out, updated_at)
        VALUES (cid, an_enum(x ->> 'preferred_channel', 'CHANNEL_'),
                (SELECT COALESCE(array_agg(an_enum(o, 'CHANNEL_')), '{}')
                   FROM jsonb_array_elements_text(COALESCE(x -> 'opted_out', '[]')) o), occurred)
        ON CONFLICT (customer_id) DO UPDATE SET preferred_channel = EXCLUDED.preferred_channel,
            opted_out = EXCLUDED.opted_out, updated_at = EXCLUDED.updated_at
        WHERE pr.updated_at <= EXCLUDED.updated_at;
    WHEN 'segment_membership_changed' THEN
        IF COALESCE((p ->> 'member')::boolean, false) THEN
            INSERT INTO segment_member VALUES (p ->> 'segment_id', cid) ON CONFLICT DO NOTHING;
        ELSE
            DELETE FROM segment_member WHERE segment_id = p ->> 'segment_id' AND customer_id = cid;
        END IF;
    WHEN 'ticket_opened' THEN
        INSERT INTO ticket AS t (id, customer_id, type, priority, status, subject, opened_at)
        VALUES (p ->> 'ticket_id', cid, an_enum(p ->> 'type', 'TICKET_TYPE_'),
                COALESCE(p ->> 'priority', 'normal'), 'new', COALESCE(p ->> 'subject', ''), occurred)
        ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, priority = EXCLUDED.priority,
            opened_at = least(t.opened_at, EXCLUDED.opened_at);
    WHEN 'ticket_assigned', 'ticket_replied', 'ticket_note_added', 'ticket_status_changed',
         'ticket_resolved', 'ticket_reopened', 'ticket_closed', 'ticket_rated',
         'ticket_priority_changed', 'sla_at_risk', 'sla_breached' THEN
        INSERT INTO ticket AS t (id, customer_id, type, priority, status, subject, opened_at,
                                 resolved_at, rating)
        VALUES (x ->> 'id', cid, an_enum(x ->> 'type', 'TICKET_TYPE_'),
                an_enum(x ->> 'priority', 'TICKET_PRIORITY_'), an_enum(x ->> 'status', 'TICKET_STATUS_'),
                COALESCE(x ->> 'subject', ''), COALESCE(an_ts(x ->> 'created_at_us'), occurred),
                an_ts(x ->> 'resolved_at_us'), COALESCE((x -> 'satisfaction' ->> 'rating')::int, 0))
        ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, resolved_at = EXCLUDED.resolved_at,
            rating = CASE WHEN member = 'ticket_rated' THEN COALESCE((p ->> 'rating')::int, EXCLUDED.rating)
                          ELSE greatest(t.rating, EXCLUDED.rating) END,
            opened_at = least(t.opened_at, EXCLUDED.opened_at);
        IF member = 'ticket_priority_changed' THEN
            UPDATE ticket SET priority = an_enum(COALESCE(p ->> 'to_priority', x ->> 'priority'),
                                                 'TICKET_PRIORITY_')
             WHERE id = x ->> 'id';
        ELSIF member = 'ticket_rated' THEN
            UPDATE ticket SET rating = COALESCE((p ->> 'rating')::int, 0) WHERE id = x ->> 'id';
        ELSIF member = 'sla_breached' THEN
            INSERT INTO sla_breach (ticket_id, target, customer_id, at)
            VALUES (x ->> 'id', an_enum(p ->> 'target', 'SLA_TARGET_'), cid, occurred)
            ON CONFLICT DO NOTHING;
            UPDATE ticket t SET breaches = (SELECT count(*) FROM sla_breach b WHERE b.ticket_id = t.id)
             WHERE t.id = x ->> 'id';
        END IF;
    WHEN 'person_merged' THEN
        PERFORM an_merge_person(cid, p ->> 'dropped_id',
                                ARRAY(SELECT jsonb_array_elements_text(COALESCE(p -> 'alias_ids', '[]'))),
                                COALESCE(ev ->> 'actor', ''));
    ELSE
        NULL; -- kept in the event log only
    END CASE;
END
$$;

-- Applies one event of `src` at sequence `seqn` (the whole Event as JSON).
-- When the event is about a customer, returns one row to recompute the
-- customer's health with: the customer, the instant of their latest event
-- (the score is evaluated then, so that it does not depend on the order in
-- which the sources were applied), the inputs, the stored score and churn
-- state (NULL for a first score), and whether derived events may be
-- published (not while a rebuild replays what was applied before).
-- Consumers of different sources apply their events in concurrent
-- transactions. A merge (sales' stream) must not run beside an event of
-- another source about the dropped id: that event, decoded before the
-- merge commits, would land on the dropped id after the merge moved its
-- rows, and stay there (seen as a ticket missing from the survivor after
-- a rebuild, when every source replays at once). So a transaction that
-- applies a merge takes this lock exclusively before anything else, and
-- every other apply takes it shared as its first statement: the merge
-- waits for the applies in flight to commit (its moves then see their
-- rows), and an apply that starts later waits for the merge and decodes
-- with its alias. Taken first, before any row lock, it cannot deadlock.
CREATE OR REPLACE FUNCTION an_merge_guard(merging boolean)
    RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF merging THEN
        PERFORM pg_advisory_xact_lock(74061516);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(74061516);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION an_apply(src text, seqn bigint, ev jsonb)
    RETURNS TABLE (out_customer text, out_at_us bigint, out_inputs jsonb, out_old_score int,
                   out_old_high boolean, out_publish boolean)
    LANGUAGE plpgsql
    AS $$
DECLARE
    d record;
    member text; cid text; occurred timestamptz;
    old health%ROWTYPE; at_h timestamptz;
BEGIN
    PERFORM an_merge_guard(ev ? 'person_merged');
    d := an_decode(src, ev);
    member := d.member;
    cid := d.cid;
    occurred := d.occurred;
    IF member IS NULL THEN
        RETURN; -- a payload this build does not know: nothing to project
    END IF;

    INSERT INTO customer_event (source, seq, type, customer_id, occurred_at, summary, payload,
                                actor)
    VALUES (src, seqn, ev ->> 'type', cid, occurred, d.summary, ev, COALESCE(ev ->> 'actor', ''))
    ON CONFLICT (source, seq) DO NOTHING;
    IF NOT FOUND THEN
        RETURN; -- applied before (a dead letter retried after its replay)
    END IF;

    IF cid <> '' THEN
        INSERT INTO customer AS c (id, first_seen) VALUES (cid, occurred)
        -- (written only when first_seen moves back; the row is locked
        -- either way: a customer met again is not rewritten for nothing)
        ON CONFLICT (id) DO UPDATE SET first_seen = EXCLUDED.first_seen
            WHERE c.first_seen > EXCLUDED.first_seen;
    END IF;

    PERFORM an_project(src, seqn, ev, member, d.p, d.x, cid, occurred);

    -- The customer's health: computed by the caller (rules.c), stored with
    -- an_health_put.
    IF cid = '' OR member IN ('churn_risk_raised', 'health_changed', 'data_quality_issue_found') THEN
        RETURN;
    END IF;
    -- A merge is no activity of the customer's: their health is evaluated
    -- at their latest other event, as if they had been one record. (The
    -- latest first, backwards through the index: not all of the
    -- customer's events read for their maximum, a cost that grew with each
    -- customer's history; issue 15, twelfth session.)
    at_h := COALESCE((SELECT e.occurred_at FROM customer_event e
                       WHERE e.customer_id = cid AND e.type <> 'crm.sales.person.merged.v1'
                       ORDER BY e.occurred_at DESC LIMIT 1),
                     (SELECT e.occurred_at FROM customer_event e
                       WHERE e.customer_id = cid ORDER BY e.occurred_at DESC LIMIT 1));
    SELECT * INTO old FROM health WHERE customer_id = cid;
    out_customer := cid;
    out_at_us := an_us(at_h);
    out_inputs := an_health_inputs(cid, at_h);
    out_old_score := old.score;
    out_old_high := old.churn_high;
    out_publish := seqn > COALESCE((SELECT u.seq FROM an_replay_until u WHERE u.source = src), 0);
    RETURN NEXT;
END
$$;
