"""A webhook receiver for the tests and the benchmark: a real process that
verifies every delivery with the Standard Webhooks algorithm, written here
from the specification with Python's hmac, hashlib and base64 only:

    key       = base64-decode(secret without its "whsec_" prefix)
    content   = webhook-id + "." + webhook-timestamp + "." + raw body
    signature = "v1," + base64(HMAC-SHA256(key, content))

webhook-signature holds one or more space-separated signatures; one that
matches (compared in constant time) authenticates the request, and the
timestamp must be within TOLERANCE seconds of this machine's clock.

    webhook_receiver.py PORT SECRET LOG [--tolerance S] [--quiet]

Answers 204 to a verified delivery and appends one JSON line to LOG
({"ok": true, "id", "type", "source", "sequence", "subject", "concurrent":
the requests being handled when it arrived}), and 401 to
anything else with {"ok": false, "reason"}. POST /_mode with body "ok",
"503" or "hang" changes what it answers: 503 answers every delivery 503
(after verifying it), hang holds each delivery until the mode changes.
Prints "listening PORT" when ready (PORT 0 binds a free port)."""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sign(secret, msg_id, timestamp, body):
    """The signature the specification defines (see the module doc)."""
    key = base64.b64decode(secret[len("whsec_"):])
    content = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def verify(secret, headers, body, tolerance, now=None):
    """None when the request is authentic, else the reason it is not."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature")
    if not msg_id or not ts or not sigs:
        return "missing webhook headers"
    try:
        ts_i = int(ts)
    except ValueError:
        return "webhook-timestamp is not a number"
    now = time.time() if now is None else now
    if tolerance and abs(now - ts_i) > tolerance:
        return "webhook-timestamp out of tolerance"
    expected = sign(secret, msg_id, ts_i, body)
    for s in sigs.split(" "):
        if s.startswith("v1,") and hmac.compare_digest(s.encode(), expected.encode()):
            return None
    return "no signature matches"


class State:
    def __init__(self, secret, log_path, tolerance, quiet):
        self.secret = secret
        self.log = open(log_path, "a", buffering=1) if log_path != "-" else None
        self.tolerance = tolerance
        self.quiet = quiet
        self.mode = "ok"
        self.changed = threading.Condition()
        self.lock = threading.Lock()
        self.active = 0  # deliveries being handled now

    def record(self, entry):
        if self.log:
            with self.lock:
                self.log.write(json.dumps(entry) + "\n")
                self.log.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        if not self.state.quiet:
            sys.stderr.write("receiver: " + (fmt % args) + "\n")

    def _answer(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        st = self.state
        if self.path == "/_mode":  # not a delivery: not counted
            return self._post()
        with st.lock:
            st.active += 1
            self.concurrent = st.active
        try:
            self._post()
        finally:
            with st.lock:
                st.active -= 1

    def _post(self):
        st = self.state
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if self.path == "/_mode":
            with st.changed:
                st.mode = body.decode().strip()
                st.changed.notify_all()
            return self._answer(204)
        reason = verify(st.secret, self.headers, body, st.tolerance)
        if reason is None and self.headers.get("Content-Type") != "application/cloudevents+json":
            reason = "content type is not application/cloudevents+json"
        ev = None
        if reason is None:
            try:
                ev = json.loads(body)
                if ev.get("specversion") != "1.0" or ev.get("id") != self.headers["webhook-id"]:
                    reason = "not a CloudEvent with the webhook-id as its id"
            except ValueError:
                reason = "body is not JSON"
        if reason is not None:
            st.record({"ok": False, "reason": reason, "id": self.headers.get("webhook-id")})
            return self._answer(401)
        with st.changed:
            while st.mode == "hang":
                st.record({"hung": True, "id": ev["id"]})
                st.changed.wait()
            mode = st.mode
        if mode == "503":
            st.record({"refused": True, "id": ev["id"]})
            return self._answer(503)
        st.record({"ok": True, "id": ev["id"], "type": ev.get("type"),
                   "source": ev.get("source"), "sequence": ev.get("sequence"),
                   "subject": ev.get("subject"), "concurrent": self.concurrent})
        return self._answer(204)


def main(argv):
    port, secret, log_path = int(argv[1]), argv[2], argv[3]
    tolerance = 300
    if "--tolerance" in argv:
        tolerance = int(argv[argv.index("--tolerance") + 1])
    Handler.state = State(secret, log_path, tolerance, "--quiet" in argv)
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    print("listening %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
