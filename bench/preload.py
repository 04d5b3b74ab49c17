"""The long mode's preloads (bench.py --rows/--long): the services' main
tables filled to a row count set-based, in the services' own databases
after their migrations ran, in the shape the services write, so that what
is measured afterwards runs on tables of that size. Going through the
services (a command or an event per row) took over an hour at 1,000,000
rows; one INSERT ... SELECT generate_series per table takes seconds.

Each preload checks its shape against what the service wrote for a few
rows of the same run (the service writes the first rows, the preload the
rest, and the service's rows must equal the preload's formula for them),
and raises when they differ: a preload that drifts from the service's
writes would measure something else.

Events (the sources' outboxes that analytics replays) are crm.v1.Event
bytes spliced in SQL: the event is serialised once in Python with a
placeholder in each field that varies per row, cut at the placeholders,
and PostgreSQL joins the pieces with each row's values (strings of a fixed
length, varints of a fixed size, so no length prefix changes); crm_seal
then appends the sequence and epoch as the service does. The Python
serialisation of sample rows must give the same bytes."""
import hashlib
import time
import uuid

import bench as B

US = 1000000
DAY = 86400 * US


def md5_uuid(text):
    """What md5(text)::uuid gives in PostgreSQL."""
    return str(uuid.UUID(hashlib.md5(text.encode()).hexdigest()))


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


class Spliced:
    """A serialised message whose varying fields PostgreSQL fills in per row.

    build(values) -> bytes serialises the message from a dict of field
    values; slots maps a value's name to (kind, sql, python): kind "s" (a
    string, every row's of the same length) or "v" (an integer, every row's
    varint of the same size), the SQL expression of the row's value (in
    terms of the row's columns) and a function of the row's key giving the
    same value in Python, for the check."""

    def __init__(self, build, slots, sample_key):
        self.build, self.slots = build, slots
        holders, found = {}, []
        for k, (name, (kind, _, py)) in enumerate(sorted(slots.items())):
            real = py(sample_key)
            if kind == "s":
                holders[name] = ("\x7f%c" % (65 + k)).ljust(len(real), "\x7f")
            else:
                # a value of the real one's varint size, unique in the bytes
                size = len(varint(real))
                base = 1 << (7 * (size - 1)) if size > 1 else 1
                holders[name] = base + 977 * (k + 1) + 13
        msg = build(holders)
        for name, (kind, sql, _) in slots.items():
            enc = holders[name].encode() if kind == "s" else varint(holders[name])
            at = msg.find(enc)
            if at < 0:
                raise RuntimeError("preload: placeholder of %s not found" % name)
            while at >= 0:  # a value may be in several fields (subject, payload)
                found.append((at, len(enc), kind, sql))
                at = msg.find(enc, at + len(enc))
        found.sort()
        if any(a[0] + a[1] > b[0] for a, b in zip(found, found[1:])):
            raise RuntimeError("preload: placeholders overlap")
        parts, pos = [], 0
        for at, n, kind, sql in found:
            if at > pos:
                parts.append("'\\x%s'::bytea" % msg[pos:at].hex())
            parts.append("convert_to(%s, 'UTF8')" % sql if kind == "s" else
                         "crm_varint((%s)::bigint)" % sql)
            pos = at + n
        if pos < len(msg):
            parts.append("'\\x%s'::bytea" % msg[pos:].hex())
        self.sql = " || ".join(parts)

    def python(self, key):
        return self.build({name: py(key) for name, (_, _, py) in self.slots.items()})


def _pct(sql):
    """SQL text for a statement with parameters (psycopg2 reads %)."""
    return sql.replace("%", "%%")


def check_spliced(conn, spliced, keys, key_sql="i"):
    """The SQL bytes of sample rows against Python's serialisation."""
    with conn.cursor() as cur:
        for key in keys:
            cur.execute("SELECT %s FROM (SELECT %%s::bigint AS %s) r"
                        % (_pct(spliced.sql), key_sql), (key,))
            got = bytes(cur.fetchone()[0])
            want = spliced.python(key)
            if got != want:
                raise RuntimeError("preload: the spliced event of row %s differs from its"
                                   " serialisation:\n %s\n %s" % (key, got.hex(), want.hex()))


def append_stream(conn, events, first, last, base, command="probe.emit", actor="bench"):
    """Appends rows first..last to a stream (its service stopped: the relay
    keeps its position in memory): per row i, its events, each (type,
    subject SQL, Spliced) and each the work of one command, as the
    service's batches write them: the outbox row at sequence
    seq = base + (i - 1) * len(events) + j + 1, sealed with it and the epoch
    (crm_seal), the command's idempotency record (key md5('k' || seq), as
    the events' correlation), the head moved on; the relay's position too
    (these events were published long ago). Returns the new head."""
    per = len(events)
    n = last - first + 1
    seq = "%d + (i - 1) * %d + %%d" % (base, per)
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT head_seq, epoch::text FROM crm_stream FOR UPDATE")
        head, epoch = cur.fetchone()
        if head != base + (first - 1) * per:
            raise RuntimeError("preload: the stream's head is %d, not %d" % (
                head, base + (first - 1) * per))
        for j, (type_, subject, spliced) in enumerate(events):
            cur.execute(
                "INSERT INTO crm_outbox (seq, type, subject, event, actor)"
                " SELECT seq, %%s, %s, crm_seal(%s, seq, %%s), %%s"
                " FROM (SELECT i, %s AS seq FROM generate_series(%%s, %%s::bigint) i) r"
                % (_pct(subject), _pct(spliced.sql), _pct(seq % (j + 1))),
                (type_, epoch, actor, first, last))
        cur.execute("INSERT INTO crm_idempotency (key, command, request_hash, reply)"
                    " SELECT md5('k' || seq)::uuid::text, %s, 0, ''::bytea"
                    " FROM generate_series(%s, %s::bigint) seq",
                    (command, head + 1, head + n * per))
        cur.execute("UPDATE crm_stream SET head_seq = head_seq + %s", (n * per,))
        cur.execute("UPDATE crm_relay SET published_seq = %s", (head + n * per,))
        cur.execute("COMMIT")
        cur.execute("ANALYZE crm_outbox; ANALYZE crm_idempotency")
    return head + n * per


def check_stream_rows(conn, pb, service_seq, preload_seq, payload):
    """An event the service wrote (at service_seq) against the preload's
    (at preload_seq): the same columns filled, the same envelope fields
    set, both sealed, and the service's payload the one `payload` (bytes
    of an Event) carries."""
    E = pb["event_pb2"]
    rows = {}
    with conn.cursor() as cur:
        for s in (service_seq, preload_seq):
            cur.execute("SELECT type, subject, event, actor FROM crm_outbox WHERE seq = %s", (s,))
            r = cur.fetchone()
            if not r:
                raise RuntimeError("preload: no outbox row %s" % s)
            ev = E.Event.FromString(bytes(r[2]))
            if ev.sequence != s or not ev.epoch or ev.type != r[0] or ev.subject != r[1]:
                raise RuntimeError("preload: outbox row %s is not sealed as the service seals"
                                   " (sequence %s, epoch %r)" % (s, ev.sequence, ev.epoch))
            rows[s] = (r[0], r[3], sorted(f.name for f, _ in ev.ListFields()
                                          if f.containing_oneof is None), ev)
    (t1, a1, f1, e1), (t2, a2, f2, _) = rows[service_seq], rows[preload_seq]
    if (t1, a1, f1) != (t2, a2, f2):
        raise RuntimeError("preload: outbox rows differ in shape: service %s, preload %s"
                           % ((t1, a1, f1), (t2, a2, f2)))
    want = E.Event.FromString(payload)
    k = want.WhichOneof("payload")
    if e1.WhichOneof("payload") != k or getattr(e1, k) != getattr(want, k):
        raise RuntimeError("preload: the service wrote another payload for the same data:"
                           " %s against %s" % (e1, want))


# ---- analytics: the three sources' streams ------------------------------------

# Per row i (a customer, from 1) the values that vary, as SQL and Python.
ROW_VALUES = {
    "cid": ("s", "md5('c' || i)::uuid::text", lambda i: md5_uuid("c%d" % i)),
    "name": ("s", "'Customer ' || lpad(i::text, 7, '0')", lambda i: "Customer %07d" % i),
    "email": ("s", "'c' || lpad(i::text, 7, '0') || '.p@bench.example'",
              lambda i: "c%07d.p@bench.example" % i),
    "phone": ("s", "'+4930' || lpad(i::text, 7, '0')", lambda i: "+4930%07d" % i),
    "oid": ("s", "md5('o' || i)::uuid::text", lambda i: md5_uuid("o%d" % i)),
    "total": ("v", "1000 + i % 1000", lambda i: 1000 + i % 1000),
    "tid": ("s", "md5('t' || i)::uuid::text", lambda i: md5_uuid("t%d" % i)),
}


def analytics_sources(pb, now_us, campaign):
    """The events of analytics_events() (svc_analytics.py) for customer i, per
    source in stream order: (type, the row values it uses, payload)."""
    S, P, M, T = pb["sales_pb2"], pb["person_pb2"], pb["marketing_pb2"], pb["support_pb2"]
    return {
        "sales": [
            ("crm.sales.person.registered.v1", ("cid", "name", "email", "phone"),
             lambda v: dict(person_registered=S.PersonRegistered(person=P.Person(
                 id=v["cid"], name=v["name"], emails=[v["email"]], phones=[v["phone"]],
                 created_at_us=now_us - 400 * DAY, updated_at_us=now_us - 400 * DAY,
                 registered_by="sales", kind=P.PERSON_KIND_CUSTOMER, owner="rita")))),
            ("crm.sales.order.placed.v1", ("cid", "oid", "total", "ordered"),
             lambda v: dict(order_placed=S.OrderPlaced(order=S.Order(
                 id=v["oid"], person_id=v["cid"], total_minor=v["total"], currency="EUR",
                 ordered_at_us=v["ordered"])))),
        ],
        "marketing": [
            ("crm.marketing.send.decided.v1", ("cid",),
             lambda v: dict(send_decided=M.SendDecided(
                 campaign_id=campaign, customer_id=v["cid"], status=M.SEND_STATUS_SENT,
                 channel=M.CHANNEL_EMAIL))),
            ("crm.marketing.response.recorded.v1", ("cid",),
             lambda v: dict(campaign_response_recorded=M.CampaignResponseRecorded(
                 campaign_id=campaign, customer_id=v["cid"], response=M.RESPONSE_TYPE_OPENED,
                 channel="email"))),
        ],
        "support": [
            ("crm.support.ticket.opened.v1", ("cid", "tid"),
             lambda v: dict(ticket_opened=T.TicketOpened(
                 ticket_id=v["tid"], customer_id=v["cid"], type=T.TICKET_TYPE_COMPLAINT,
                 subject="late delivery", priority="normal"))),
        ],
    }


def analytics_event(pb, source, type_, uses, payload, now_us, base, per, j):
    """The Spliced event j of customer i's `per` in `source`'s stream, at
    sequence base + (i - 1) * per + j + 1, with the envelope crm_work_emit gives it: a new id, the
    source, type and subject, the time, the command's idempotency key as
    correlation and causation, the actor."""
    E = pb["event_pb2"]
    seq = "(%d + (i - 1) * %d + %d)" % (base, per, j + 1)
    slots = {k: ROW_VALUES[k] for k in uses + ("cid",) if k in ROW_VALUES}
    slots["ordered"] = ("v", "%d - (i %% 300) * %d" % (now_us, DAY),
                        lambda i: now_us - (i % 300) * DAY)
    slots["id"] = ("s", "md5('e' || %s)::uuid::text" % seq,
                   lambda i: md5_uuid("e%d" % (base + (i - 1) * per + j + 1)))
    # the idempotency key append_stream gives the event's command
    slots["key"] = ("s", "md5('k' || %s)::uuid::text" % seq,
                    lambda i: md5_uuid("k%d" % (base + (i - 1) * per + j + 1)))
    if "ordered" not in uses:
        del slots["ordered"]

    def build(v):
        return E.Event(id=v["id"], source=source, type=type_, subject=v["cid"], time_us=now_us,
                       correlation_id=v["key"], causation_id=v["key"], actor="bench",
                       **payload(v)).SerializeToString()
    return Spliced(build, slots, 1)


def preload_analytics_sources(st, pb, clients, campaign, n):
    """n events in sets of five per customer (as analytics_events), in the
    streams of the probes sales, marketing and support: customer 1's by
    probe.emit, the rest in SQL with each probe stopped meanwhile (then
    started again), then compared. Returns the heads."""
    T = pb["testing_pb2"]
    t0 = time.monotonic()
    now_us = int(time.time() * US)
    customers = max(2, n // 5)
    heads = {}
    for source, evs in analytics_sources(pb, now_us, campaign).items():
        conn = st.db(source)
        with conn.cursor() as cur:
            cur.execute("SELECT head_seq FROM crm_stream")
            head = cur.fetchone()[0]
        per = len(evs)
        events = [(type_, ROW_VALUES["cid"][1],
                   analytics_event(pb, source, type_, uses, payload, now_us, head, per, j))
                  for j, (type_, uses, payload) in enumerate(evs)]
        for type_, _, sp in events:
            check_spliced(conn, sp, (1, 7, customers))
            clients[source].call("probe.emit", T.ProbeEmitRequest(
                type=type_, subject=ROW_VALUES["cid"][2](1), event=sp.python(1)))
        st.procs[source].stop()
        heads[source] = append_stream(conn, events, 2, customers, head)
        for j, (_, _, sp) in enumerate(events):
            check_stream_rows(conn, pb, head + j + 1, head + per + j + 1, sp.python(1))
        conn.close()
        st.start(source, "crm-probe")
    B.log("preloaded %d events (%d customers) into the streams of probes %s in %.1f s"
          % (5 * customers, customers, ", ".join(heads), time.monotonic() - t0))
    return heads


# ---- sales: people (with their person_email rows) and their orders -----------

SALES_PERSON_SQL = {
    "id": "md5('pre' || i)::uuid",
    "kind": "1",
    "name": "'Preloaded ' || i",
    "emails": "ARRAY['pre' || i || '@preload.example']",
    "phones": "ARRAY['+4930' || lpad(i::text, 9, '0')]",
    "country": "'DE'",
    "owner": "'bench'",
}
# Compared between the service's rows and the preload's (the rest are
# times and versions, and ids the service makes).
SALES_PERSON_COLS = ("kind", "name", "emails", "phones", "organization_id", "title", "address",
                     "country", "industry", "tags", "owner", "custom_fields", "registered_by",
                     "fax")
SALES_ORDER_COLS = ("person_id", "organization_id", "deal_id", "total_minor", "currency",
                    "refunded_minor", "cancelled_at")
SALES_ITEM_COLS = ("position", "product_code", "name", "quantity", "unit_price_minor",
                   "refunded_quantity")


def _sales_person_msg(pb, i):
    P = pb["person_pb2"]
    return P.Person(id=md5_uuid("pre%d" % i), kind=P.PERSON_KIND_CUSTOMER,
                    name="Preloaded %d" % i, emails=["pre%d@preload.example" % i],
                    phones=["+4930%09d" % i], country="DE", owner="bench")


def preload_sales(conn, rpc, pb, n):
    """n people, each with one order of one item (the order crm-bench-commands
    places), and an idempotency record per command: people 1..3 and their
    orders through crm-sales (sales.person.register, sales.order.create),
    the rest in SQL (person_email as its trigger fills it), then the
    service's rows compared with the formula's for the same people.
    Returns {"people", "orders", "seconds"}."""
    S = pb["sales_pb2"]
    t0 = time.monotonic()
    via = min(3, n)
    order_ids, person_ids = {}, {}
    for i in range(1, via + 1):
        person_ids[i] = rpc.call("sales.person.register", S.RegisterPersonRequest(
            person=_sales_person_msg(pb, i)), S.PersonReply).person.id
        o = rpc.call("sales.order.create", S.CreateOrderRequest(order=S.Order(
            person_id=person_ids[i], currency="EUR", items=[S.OrderItem(
                product_code="SKU-1", name="Widget", quantity=1, unit_price_minor=1250)])),
            S.OrderReply).order
        order_ids[i] = o.id
    with conn.cursor() as cur:
        cur.execute("SELECT field_versions, registered_by FROM person WHERE id = %s",
                    (person_ids[1],))
        fv, registered_by = cur.fetchone()
        cols = list(SALES_PERSON_SQL)
        cur.execute("BEGIN")
        # Row triggers off for the load, like a restore: person_email (the
        # sync trigger's) is written set-based below, and checked after.
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(
            "INSERT INTO person (%s, registered_by, field_versions, created_at, updated_at)"
            " SELECT %s, %%s, %%s::jsonb, now() - interval '1 day', now() - interval '1 day'"
            " FROM generate_series(%%s, %%s::bigint) i"
            % (", ".join(cols), ", ".join(_pct(SALES_PERSON_SQL[c]) for c in cols)),
            (registered_by, json_text(fv), via + 1, n))
        cur.execute("INSERT INTO person_email (email, person_id)"
                    " SELECT 'pre' || i || '@preload.example', md5('pre' || i)::uuid"
                    " FROM generate_series(%s, %s::bigint) i", (via + 1, n))
        cur.execute(
            "INSERT INTO sales_order (id, person_id, total_minor, currency, ordered_at)"
            " SELECT md5('ord' || i)::uuid, md5('pre' || i)::uuid, 1250, 'EUR',"
            " now() - (i %% 300) * interval '1 day' FROM generate_series(%s, %s::bigint) i",
            (via + 1, n))
        cur.execute(
            "INSERT INTO order_item (order_id, position, product_code, name, quantity,"
            " unit_price_minor)"
            " SELECT md5('ord' || i)::uuid, 1, 'SKU-1', 'Widget', 1, 1250"
            " FROM generate_series(%s, %s::bigint) i", (via + 1, n))
        cur.execute(
            "INSERT INTO crm_idempotency (key, command, request_hash, reply)"
            " SELECT md5('kp' || i)::uuid::text, 'sales.person.register', 0, ''::bytea"
            " FROM generate_series(%s, %s::bigint) i"
            " UNION ALL SELECT md5('ko' || i)::uuid::text, 'sales.order.create', 0, ''::bytea"
            " FROM generate_series(%s, %s::bigint) i", (via + 1, n, via + 1, n))
        cur.execute("COMMIT")
        # What the service wrote for people 1..via against the formula.
        if n > via:
            # (the service makes the ids: the preload's are md5('pre' || i))
            check_rows(cur, "person", "id",
                       {c: v for c, v in SALES_PERSON_SQL.items() if c != "id"},
                       SALES_PERSON_COLS, person_ids, md5_uuid("pre%d" % (via + 1)))
        cur.execute("SELECT count(*) FROM person_email e JOIN person p ON p.id = e.person_id"
                    " WHERE e.email = ANY (p.emails) AND p.id = ANY (%s::uuid[])",
                    ([person_ids[1], md5_uuid("pre%d" % (via + 1))],))
        if n > via and cur.fetchone()[0] != 2:
            raise RuntimeError("preload: person_email is not kept for the preloaded people")
        cur.execute("SELECT (SELECT count(*) FROM person_email),"
                    " (SELECT sum(cardinality(emails)) FROM person)")
        a, b = cur.fetchone()
        if a != b:
            raise RuntimeError("preload: %s person_email rows for %s emails" % (a, b))
        if n > via:
            check_rows(cur, "sales_order", "id", {}, SALES_ORDER_COLS[1:],
                       {i: order_ids[i] for i in order_ids}, md5_uuid("ord%d" % (via + 1)))
            check_rows(cur, "order_item", "order_id", {}, SALES_ITEM_COLS,
                       {i: order_ids[i] for i in order_ids}, md5_uuid("ord%d" % (via + 1)))
        cur.execute("VACUUM ANALYZE person")
        cur.execute("VACUUM ANALYZE person_email")
        cur.execute("VACUUM ANALYZE sales_order")
        cur.execute("VACUUM ANALYZE order_item")
        cur.execute("VACUUM ANALYZE crm_idempotency")
        cur.execute("SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM sales_order)")
        people, orders = cur.fetchone()
    secs = round(time.monotonic() - t0, 1)
    B.log("preloaded sales: %d people (with person_email), %d orders, %d idempotency records"
          " in %.1f s" % (people, orders, 2 * (n - via), secs))
    return {"people": people, "orders": orders, "seconds": secs}


def check_rows(cur, table, key, formula, cols, service, preload_key):
    """The rows the service wrote (service: {i: key}) against the preload's:
    the columns of `formula` (SQL of the row number i) equal the formula
    for that i, the other `cols` equal those of the preload's row."""
    bad = []
    for i, k in service.items():
        for c, sql in formula.items():
            cur.execute("SELECT (SELECT %s FROM %s WHERE %s = %%s LIMIT 1) IS NOT DISTINCT FROM"
                        " (SELECT %s FROM (SELECT %%s::bigint AS i) r)"
                        % (c, table, key, _pct(sql)), (k, i))
            if not cur.fetchone()[0]:
                bad.append("%s of row %d" % (c, i))
    first = next(iter(service.values()))
    bad += _diff(cur, table, [c for c in cols if c not in formula], key, first, preload_key)
    if bad:
        cur.execute("SELECT row_to_json(t)::text FROM %s t WHERE %s = %%s OR %s = %%s"
                    % (table, key, key), (first, preload_key))
        raise RuntimeError("preload: %s rows differ from the service's in %s: %s"
                           % (table, ", ".join(bad), [r[0] for r in cur.fetchall()]))


def json_text(v):
    import json
    return v if isinstance(v, str) else json.dumps(v)


def _diff(cur, table, cols, key, service_key, preload_key, skip=()):
    """The columns in which the service's row and the preload's differ."""
    out = []
    for c in cols:
        if c in skip:
            continue
        cur.execute("SELECT (SELECT %s FROM %s WHERE %s = %%s LIMIT 1)"
                    " IS NOT DISTINCT FROM (SELECT %s FROM %s WHERE %s = %%s LIMIT 1)"
                    % (c, table, key, c, table, key), (service_key, preload_key))
        if not cur.fetchone()[0]:
            out.append(c)
    return out


# ---- marketing: its copy of the people, and a campaign's recipients ----------

MARKETING_PERSON_SQL = {
    "id": "md5('mp' || i)::uuid",
    "name": "'Person ' || i",
    "email": "'m' || i || '@bench.example'",
    "phone": "'+4915' || lpad(i::text, 8, '0')",
}
MARKETING_PERSON_COLS = ("name", "email", "registered_by", "kind", "country", "industry", "tags",
                         "phone", "fax", "address")


def marketing_people(st, sales, pb, n):
    """marketing's copy of n people, as its consumer of sales' person
    events writes it: people 1..3 registered by events from probe sales,
    the rest in SQL, then compared. Returns their ids, in order."""
    S, P, E, T = pb["sales_pb2"], pb["person_pb2"], pb["event_pb2"], pb["testing_pb2"]
    t0 = time.monotonic()
    via = min(3, n)
    ids = [md5_uuid("mp%d" % i) for i in range(1, n + 1)]
    sales.pipeline("probe.emit", [T.ProbeEmitRequest(
        type="crm.sales.person.registered.v1", subject=ids[i - 1],
        event=E.Event(person_registered=S.PersonRegistered(person=P.Person(
            id=ids[i - 1], name="Person %d" % i, phones=["+4915%08d" % i],
            emails=["m%d@bench.example" % i]))).SerializeToString()).SerializeToString()
        for i in range(1, via + 1)])
    conn = st.db("marketing")
    with conn.cursor() as cur:
        def known():
            cur.execute("SELECT count(*) FROM person")
            return cur.fetchone()[0] >= via
        B.wait_for(known, 60, "marketing to apply the first people")
        cols = list(MARKETING_PERSON_SQL)
        cur.execute("SELECT registered_by FROM person WHERE id = %s", (ids[0],))
        registered_by = cur.fetchone()[0]
        cur.execute("INSERT INTO person (%s, registered_by) SELECT %s, %%s"
                    " FROM generate_series(%%s, %%s::bigint) i"
                    % (", ".join(cols), ", ".join(_pct(MARKETING_PERSON_SQL[c]) for c in cols)),
                    (registered_by, via + 1, n))
        if n > via:
            check_rows(cur, "person", "id", MARKETING_PERSON_SQL, MARKETING_PERSON_COLS,
                       {i: ids[i - 1] for i in range(1, via + 1)}, ids[via])
        cur.execute("VACUUM ANALYZE person")
    conn.close()
    B.log("preloaded marketing's copy of %d people in %.1f s" % (n, time.monotonic() - t0))
    return ids


def marketing_recipients(st, mk, pb, campaign, ids):
    """The campaign's recipients, as marketing.campaign.target writes them:
    the first 3 by the command, the rest in SQL, then compared."""
    M = pb["marketing_pb2"]
    t0 = time.monotonic()
    via = min(3, len(ids))
    mk.call("marketing.campaign.target", M.TargetCampaignRequest(campaign_id=campaign,
                                                                 customer_ids=ids[:via]))
    conn = st.db("marketing")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO campaign_recipient (campaign_id, customer_id)"
                    " SELECT %s, md5('mp' || i)::uuid FROM generate_series(%s, %s::bigint) i",
                    (campaign, via + 1, len(ids)))
        if len(ids) > via:
            cur.execute("SELECT column_name FROM information_schema.columns"
                        " WHERE table_name = 'campaign_recipient'"
                        " AND column_name NOT IN ('customer_id', 'reached_at')")
            cols = [r[0] for r in cur.fetchall()]
            bad = _diff(cur, "campaign_recipient", cols, "customer_id", ids[0], ids[via])
            if bad:
                raise RuntimeError("preload: campaign_recipient rows differ from the service's"
                                   " in %s" % bad)
        cur.execute("VACUUM ANALYZE campaign_recipient")
        # The trigger queued them (send_queue); autovacuum analyses a
        # queue that grew so much well before a launch, and the plans of
        # the scan's statements follow its statistics.
        cur.execute("VACUUM ANALYZE send_queue")
    conn.close()
    B.log("preloaded %d recipients of the campaign in %.1f s" % (len(ids), time.monotonic() - t0))


def rates_by_part(trace, t0, total, parts):
    """From samples (time, events done) of a run started at t0 that did
    `total` events: the rate (events/s) over each of `parts` equal shares of
    the events, first to last, so a rate that falls as the tables fill shows."""
    pts = [(t0, 0)] + sorted(trace)
    out = []
    for k in range(parts):
        lo, hi = total * k / parts, total * (k + 1) / parts

        def at(n):  # the time the n-th event was done, interpolated
            for (ta, na), (tb, nb) in zip(pts, pts[1:]):
                if nb >= n:
                    return ta + (tb - ta) * ((n - na) / (nb - na) if nb > na else 1.0)
            return None
        a, b = at(lo), at(hi)
        out.append(round((hi - lo) / (b - a)) if a is not None and b and b > a else None)
    return out


def partial_catch_up(st, trace, t0, cpu0, total, timeout):
    """The backlog figures of a catch-up cut at the timeout (long mode):
    what was applied by then, its rate along the way and its CPU."""
    secs = time.monotonic() - t0
    cpu1 = st.cpu_seconds()
    done = trace[-1][1]
    cpu = {k: round(cpu1.get(k, 0) - cpu0.get(k, 0), 2) for k in cpu1}
    machine = cpu.pop("machine")
    cpu["others"] = round(max(0.0, machine - sum(cpu.values())), 2)
    B.log("analytics backlog: cut at %d s with %d of %d events applied = %.0f events/s"
          % (timeout, done, total, done / secs))
    return {"events": total, "timed_out_after_s": timeout, "events_applied": done,
            "seconds": round(secs, 1), "events_per_s": round(done / secs),
            "events_per_s_by_fifth": rates_by_part(trace, t0, done, 5),
            "cpu_seconds": cpu,
            "postgres_cpu_ms_per_event": round(cpu["postgres"] * 1000 / max(1, done), 3)}
