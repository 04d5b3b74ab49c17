"""If-Match is atomic (issue 16): crm-api sends the ETag the caller names
as the command's precondition (crm.v1.Precondition), and the service runs
the read and the update in one transaction. So two PATCHes naming the same
ETag, sent at the same moment, cannot both pass: exactly one is applied
(200), the other gets 412 with the record's new ETag and writes nothing.

The race is made on purpose, without sleeps: each request is written to
its own connection but for its last byte, then the last bytes of both go
out back to back, so both reach the gateway (and the service) together.
Before the fix the gateway read the record and then sent the update, and
both requests of a round passed the check."""
import json
import socket
import uuid

from apitest import ApiCase
from crmtest import wait_for  # noqa: I100 (sets the path of crm.v1)
from crm.v1 import rpc_pb2, sales_pb2  # noqa: E402

ROUNDS = 8


def _read_response(sock):
    """(status, headers dict, body bytes) of one HTTP/1.1 response."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a response")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hd = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        hd[k.strip().lower()] = v.strip()
    want = int(hd.get("content-length", "0"))
    while len(body) < want:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed mid-body")
        body += chunk
    return status, hd, body


class TestApiIfMatch(ApiCase):

    def _race(self, path, bodies, etag):
        """PATCHes `path` with each of `bodies`, all naming `etag`, at the
        same moment; returns [(status, headers, parsed body)] in order."""
        socks, reqs = [], []
        for b in bodies:
            data = json.dumps(b).encode()
            reqs.append(("PATCH %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                         "If-Match: %s\r\nContent-Length: %d\r\n\r\n"
                         % (path, self.token, etag, len(data))).encode() + data)
            socks.append(socket.create_connection(("127.0.0.1", self.sys.api_port), timeout=30))
        try:
            for s, r in zip(socks, reqs):
                s.sendall(r[:-1])
            for s, r in zip(socks, reqs):
                s.sendall(r[-1:])
            out = []
            for s in socks:
                st, hd, body = _read_response(s)
                out.append((st, hd, json.loads(body) if body else None))
            return out
        finally:
            for s in socks:
                s.close()

    def test_concurrent_patches_same_etag_one_wins(self):
        p, _ = self.ok("POST", "/v1/people", {"name": "Racy Start",
                                              "emails": ["racy.%s@example.org" % uuid.uuid4().hex]},
                       status=201)
        path = "/v1/people/" + p["person"]["id"]
        m0 = self.metrics().get("precondition_failed", 0)
        for i in range(ROUNDS):
            got, hd = self.ok("GET", path)
            etag = hd["etag"]
            names = ["Racer %d A" % i, "Racer %d B" % i]
            res = self._race(path, [{"name": n} for n in names], etag)
            statuses = sorted(st for st, _, _ in res)
            self.assertEqual(statuses, [200, 412], "round %d: %s" % (i, res))
            winner = [names[k] for k, (st, _, _) in enumerate(res) if st == 200][0]
            loser = [(hd2, out) for st, hd2, out in res if st == 412][0]
            self.problem(412, loser[0], loser[1], 412, "precondition_failed")
            # Only the winner's change is in the record, and the 412 names
            # the record's ETag as it is now.
            now, hd3 = self.ok("GET", path)
            self.assertEqual(now["person"]["name"], winner)
            self.assertEqual(loser[0]["etag"], hd3["etag"])
            self.assertNotEqual(hd3["etag"], etag)
        # One precondition failure counted per round, and one update event
        # per round: the loser wrote nothing.
        self.assertEqual(self.metrics()["precondition_failed"] - m0, ROUNDS)
        rows = self.sys.cluster.query(
            self.sys.dbs["sales"],
            "SELECT count(*) FROM crm_outbox WHERE subject = %s AND type LIKE %s",
            p["person"]["id"], "crm.sales.person.updated%")
        self.assertEqual(rows[0][0], ROUNDS)

    def test_if_match_star_and_stale(self):
        p, _ = self.ok("POST", "/v1/people", {"name": "Star"}, status=201)
        path = "/v1/people/" + p["person"]["id"]
        up, _ = self.ok("PATCH", path, {"name": "Star Two"}, headers={"If-Match": "*"})
        self.assertEqual(up["person"]["name"], "Star Two")
        st, hd, out = self.request("PATCH", path, {"name": "Star Three"},
                                   headers={"If-Match": '"0000000000000000"'})
        self.problem(st, hd, out, 412, "precondition_failed")
        got, hd2 = self.ok("GET", path)
        self.assertEqual(got["person"]["name"], "Star Two")
        self.assertEqual(hd["etag"], hd2["etag"])
        # A record that does not exist: 404, not 412.
        st, hd, out = self.request("PATCH", "/v1/people/" + str(uuid.uuid4()), {"name": "x"},
                                   headers={"If-Match": hd2["etag"]})
        self.problem(st, hd, out, 404, "not_found")

    def test_precondition_over_the_native_protocol(self):
        """The service checks the precondition itself: a client on the
        command protocol gets FAILED_PRECONDITION, and a precondition that
        names no read command of the service is refused before any batch."""
        p, hd = self.ok("POST", "/v1/people", {"name": "Native"}, status=201)
        pid = p["person"]["id"]
        _, hd = self.ok("GET", "/v1/people/" + pid)
        c = self.sys.client("sales", principal="test")
        try:
            def call(pre):
                rq = rpc_pb2.CommandRequest(
                    command="sales.person.update", idempotency_key=str(uuid.uuid4()),
                    request_id=c.next_id + 1,
                    body=sales_pb2.UpdatePersonRequest(
                        id=pid, person={"name": "Native Two"},
                        update_mask=["name"]).SerializeToString(),
                    precondition=pre)
                c.next_id += 1
                c.s.send(rq.SerializeToString())
                got = []

                def answered():
                    while c.s.poll(50):
                        rep = rpc_pb2.CommandReply()
                        rep.ParseFromString(c.s.recv())
                        if rep.request_id == rq.request_id:
                            got.append(rep)
                    return bool(got)
                wait_for(answered, what="the reply")
                return got[0]
            read = sales_pb2.ShowPersonRequest(id=pid).SerializeToString()
            rep = call(rpc_pb2.Precondition(read="sales.person.show", read_body=read,
                                            etag='"0123456789abcdef"'))
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_FAILED_PRECONDITION, rep.status)
            self.assertEqual(rep.status.field, "precondition.etag")
            self.assertEqual(rep.etag, hd["etag"])
            rep = call(rpc_pb2.Precondition(read="sales.person.list", read_body=b"\xff",
                                            etag=hd["etag"]))
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_MALFORMED, rep.status)
            rep = call(rpc_pb2.Precondition(
                read="sales.person.show", etag=hd["etag"],
                read_body=sales_pb2.ShowPersonRequest(id=pid + "\x00x").SerializeToString()))
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_MALFORMED, rep.status)
            self.assertEqual(rep.status.field, "precondition.read_body")
            rep = call(rpc_pb2.Precondition(read="sales.person.register", read_body=read,
                                            etag=hd["etag"]))
            self.assertEqual(rep.status.code, rpc_pb2.STATUS_CODE_INVALID_ARGUMENT, rep.status)
            self.assertEqual(rep.status.field, "precondition.read")
            got, _ = self.ok("GET", "/v1/people/" + pid)
            self.assertEqual(got["person"]["name"], "Native")
            rep = call(rpc_pb2.Precondition(read="sales.person.show", read_body=read,
                                            etag=hd["etag"]))
            self.assertEqual(rep.status.code, 0, rep.status)
            got, _ = self.ok("GET", "/v1/people/" + pid)
            self.assertEqual(got["person"]["name"], "Native Two")
        finally:
            c.close()
