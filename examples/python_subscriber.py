#!/usr/bin/env python3
"""A crm.v1 event subscriber in Python using only ZeroMQ and protobuf.

Needs Debian's python3-zmq and python3-protobuf and classes generated from
proto/ with `protoc --proto_path=proto --python_out=OUT proto/crm/v1/*.proto`
(OUT on PYTHONPATH). It subscribes on the bus, asks the producing service to
replay what it missed (stream.replay), detects gaps by sequence and
heartbeat, and prints one JSON line per event, in sequence order per source.

Every link is CurveZMQ: the subscriber holds a keypair (a key file as
written by `crm-keys new NAME` or `crmctl keys new NAME`, whose public key an
operator lists in the directory of principals, usually with kind
"subscriber") and takes the servers' public keys from that directory.
Subscriber keys may subscribe and call stream.replay, nothing else.

usage: python_subscriber.py --bus tcp://127.0.0.1:7401 \
           --source sales=tcp://127.0.0.1:7410 [--from 1] [--count N] \
           [--key FILE] [--directory FILE]
(--key defaults to $CRM_KEY_FILE, else ~/.config/crm/key; --directory to
$CRM_DIRECTORY_FILE, else ~/.config/crm/directory.)
"""
import argparse
import json
import os
import sys
import uuid

import zmq
import zmq.auth
from google.protobuf.json_format import MessageToDict

from crm.v1 import event_pb2, rpc_pb2


class Curve:
    """This subscriber's keypair and the servers' public keys."""

    def __init__(self, key_file, directory):
        self.public, self.secret = zmq.auth.load_certificate(key_file)
        if not self.secret:
            sys.exit("%s holds no secret key" % key_file)
        self.servers = {}
        with open(directory) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 3 and fields[0] != "#" and fields[2] == "service":
                    self.servers.setdefault(fields[1], fields[0].encode())

    def client(self, sock, server):
        if server not in self.servers:
            sys.exit("the directory lists no service %r" % server)
        sock.curve_publickey, sock.curve_secretkey = self.public, self.secret
        sock.curve_serverkey = self.servers[server]
        return sock


class Source:
    def __init__(self, ctx, curve, name, endpoint, start):
        self.name, self.expected, self.epoch = name, start, ""
        self.request_id = 0
        self.dealer = ctx.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 0)
        curve.client(self.dealer, name)
        self.dealer.connect(endpoint)

    def ask(self, frm):
        """One stream.replay round trip; replies to earlier attempts are skipped."""
        self.request_id += 1
        rq = rpc_pb2.CommandRequest(
            command="stream.replay", request_id=self.request_id, actor="python-subscriber",
            body=rpc_pb2.ReplayRequest(from_sequence=frm, max_events=500).SerializeToString())
        self.dealer.send(rq.SerializeToString())
        while self.dealer.poll(5000):
            rep = rpc_pb2.CommandReply.FromString(self.dealer.recv())
            if rep.request_id != self.request_id:
                continue  # stale
            if rep.status.code != rpc_pb2.STATUS_CODE_OK:
                raise SystemExit("replay failed: %s" % rep.status.message)
            return rpc_pb2.ReplayReply.FromString(rep.body)
        raise SystemExit("no replay answer from %s" % self.name)

    def replay(self, emit):
        """Pulls events from `expected` until the source's head."""
        while True:
            rr = self.ask(self.expected)
            if self.epoch and rr.epoch != self.epoch:
                # The source's database was restored: what we saw after the
                # epoch's start is gone there, and new events reuse those
                # sequence numbers. Rewind and read them.
                self.expected = min(self.expected, rr.epoch_start_sequence + 1)
                self.epoch = rr.epoch
                continue
            self.epoch = rr.epoch
            if rr.first_retained_sequence > self.expected:
                print("lost %d events of %s to retention" %
                      (rr.first_retained_sequence - self.expected, self.name), file=sys.stderr)
                self.expected = rr.first_retained_sequence
            for raw in rr.events:
                self.offer(event_pb2.Event.FromString(raw), emit, replayed=True)
            self.expected = max(self.expected, rr.scanned_to_sequence + 1)
            if self.expected > rr.head_sequence:
                return

    def offer(self, ev, emit, replayed=False):
        """True if ev was the next event (printed), False on a gap."""
        if not replayed and self.epoch and ev.epoch != self.epoch:
            return False  # a new epoch: replay tells where we stand
        if ev.sequence < self.expected:
            return True  # already seen: at-least-once on the wire
        if ev.sequence > self.expected:
            return False
        emit(ev)
        self.expected += 1
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bus", default="tcp://127.0.0.1:7401")
    ap.add_argument("--source", action="append", required=True, help="name=endpoint")
    ap.add_argument("--from", dest="start", type=int, default=1)
    ap.add_argument("--count", type=int, default=0, help="exit after N events")
    conf = os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "crm")
    ap.add_argument("--key", default=os.environ.get("CRM_KEY_FILE") or os.path.join(conf, "key"))
    ap.add_argument("--directory", default=os.environ.get("CRM_DIRECTORY_FILE") or
                    os.path.join(conf, "directory"))
    args = ap.parse_args()
    curve = Curve(args.key, args.directory)
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    curve.client(sub, "bus")
    sources = {}
    for spec in args.source:
        name, endpoint = spec.split("=", 1)
        sources[name] = Source(ctx, curve, name, endpoint, args.start)
        sub.setsockopt(zmq.SUBSCRIBE, ("crm.%s." % name).encode())
    sub.connect(args.bus)
    printed = [0]

    def emit(ev):
        payload = ev.WhichOneof("payload")
        print(json.dumps({"id": ev.id, "source": ev.source, "sequence": ev.sequence, "type": ev.type,
                          "subject": ev.subject, "time_us": ev.time_us,
                          "data": MessageToDict(getattr(ev, payload), preserving_proto_field_name=True)
                          if payload else None}), flush=True)
        printed[0] += 1
        if args.count and printed[0] >= args.count:
            sys.exit(0)

    # Subscribe first, then replay: nothing falls between the two.
    for s in sources.values():
        s.replay(emit)
    while True:
        topic, body = sub.recv_multipart()
        name = topic.decode().split(".")[1]
        s = sources.get(name)
        if s is None:
            continue
        if topic.endswith(b"._hb"):
            hb = event_pb2.Heartbeat.FromString(body)
            if hb.head_sequence >= s.expected or (s.epoch and hb.epoch != s.epoch):
                s.replay(emit)
            continue
        if not s.offer(event_pb2.Event.FromString(body), emit):
            s.replay(emit)


if __name__ == "__main__":
    main()
