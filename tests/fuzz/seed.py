"""Writes the seed corpora of tests/fuzz/corpus/ (run once; the files are
committed): valid inputs of each target, so that fuzzing starts from the
real formats, and the replay test covers a valid example of each.

    CRM_BUILD_DIR=build /usr/bin/python3 tests/fuzz/seed.py
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("CRM_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
sys.path.insert(0, os.path.join(BUILD, "gen", "py"))
from crm.v1 import event_pb2, person_pb2, rpc_pb2, sales_pb2  # noqa: E402


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def descriptor_index(cname):
    with open(os.path.join(BUILD, "tests", "fuzz", "descriptors.c")) as f:
        names = re.findall(r"&(\w+),", f.read())
    return names.index(cname)


person = sales_pb2.RegisterPersonRequest(person=person_pb2.Person(
    name="Rosa Vale", emails=["rosa@example.com"], tags=["vip"], country="PT"))
for i, (cmd, body) in enumerate([
        ("sales.person.register", person.SerializeToString()),
        ("stream.replay", rpc_pb2.ReplayRequest(from_sequence=10, max_events=500).SerializeToString()),
        ("stream.info", b""),
        ("support.ticket.open", b"\x0a\x05hello"),
]):
    rq = rpc_pb2.CommandRequest(command=cmd, body=body, idempotency_key="k-%d" % i, request_id=i + 1,
                                actor="fuzz", correlation_id="c-%d" % i)
    write("command", cmd, rq.SerializeToString())

ev = event_pb2.Event(id="0b7e2c6e-5d4a-4e43-9a70-4b1c8d0f9a11", source="sales",
                     type="crm.sales.person.registered.v1", subject="p-1", time_us=1700000000000000,
                     sequence=7, epoch="e-1")
ev.person_registered.person.id = "p-1"
ev.person_registered.person.emails.append("rosa@example.com")
topic = b"crm.sales.person.registered.v1"
write("event", "live", bytes([len(topic)]) + topic + ev.SerializeToString())
hb = event_pb2.Heartbeat(source="sales", epoch="e-1", head_sequence=7, time_us=1)
topic = b"crm.sales._hb"
write("event", "heartbeat", bytes([len(topic)]) + topic + hb.SerializeToString())
rr = rpc_pb2.ReplayReply(epoch="e-1", head_sequence=7, events=[ev.SerializeToString()] * 2)
write("event", "replay", bytes([6]) + b"replay" + rr.SerializeToString())

i = descriptor_index("crm__v1__event__descriptor")
write("pbjson", "event-proto", bytes([0]) + struct.pack(">H", i) + ev.SerializeToString())
write("pbjson", "event-json", bytes([1]) + struct.pack(">H", i) +
      b'{"id":"x","source":"sales","sequence":"7","person_registered":{"person":{"id":"p-1"}}}')
i = descriptor_index("crm__v1__register_person_request__descriptor")
write("pbjson", "person-proto", bytes([0]) + struct.pack(">H", i) + person.SerializeToString())
write("pbjson", "person-json", bytes([1]) + struct.pack(">H", i) +
      b'{"person":{"name":"Ren\\u00e9","emails":["r@example.org"],"custom_fields":[]}}')

write("http", "livez", "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
write("http", "pipelined", "GET /livez HTTP/1.1\r\nHost: x\r\n\r\nHEAD /metrics?x=1 HTTP/1.1\r\n"
      "Host: x\r\n\r\nGET /readyz HTTP/1.0\r\n\r\n")
write("http", "post", "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
write("http", "chunked", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
write("http", "empty", "GET /empty HTTP/1.1\r\nConnection: close\r\n\r\n")
write("http", "garbage", "\x00\x01GET / HTTP/9.9\r\n\r\n")

write("mail", "plain", "From: \"Vale, Rosa\" <Rosa.Vale@Example.COM>\r\n"
      "Subject: Re: [ticket:0b7e2c6e-5d4a-4e43-9a70-4b1c8d0f9a11] printer\r\n\r\n"
      "It still does not print.\r\n\r\n> quoted reply\r\n")
write("mail", "encoded-words", "From: =?UTF-8?Q?Ren=C3=A9?= =?UTF-8?B?IETDvHJy?= <rene@example.org>\n"
      "Subject: =?ISO-8859-1?Q?caf=E9?=\n\nbonjour\n")
write("mail", "multipart", "From: a@b.io\nMIME-Version: 1.0\n"
      "Content-Type: multipart/alternative; boundary=\"XX\"\n\n--XX\n"
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
      "caf=C3=A9 =\nsoft\n--XX\nContent-Type: text/html\n\n<p>x</p>\n--XX--\n")
write("mail", "base64", "From: a@b.io\nContent-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: base64\n\nY2Fm6Q==\n")
write("mail", "html-only", "From: a@b.io\nContent-Type: text/html\n\n<p>hi</p>\n")
