"""A small fast webhook receiver for the benchmark: asyncio, HTTP/1.1 with
keep-alive, answers every POST 204 at once and counts them; with a secret it
also checks each Standard Webhooks signature (the algorithm of
tests/integration/webhook_receiver.py) and counts the bad ones.

    webhook_sink.py PORT [SECRET]

Prints "listening PORT" when ready (PORT 0 binds a free port). GET /_count
answers {"requests", "unique_ids", "bad_signatures"}. Standard library only."""
import asyncio
import base64
import hashlib
import hmac
import json
import sys

COUNT = {"requests": 0, "bad_signatures": 0}
IDS = set()


def check(key, headers, body):
    content = (headers.get("webhook-id", "") + "." + headers.get("webhook-timestamp", "") +
               ".").encode() + body
    want = "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(s, want) for s in headers.get("webhook-signature", "").split())


async def serve(reader, writer, key):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            method, path = line.split(b" ")[:2]
            headers = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == b"GET" and path == b"/_count":
                out = json.dumps(dict(COUNT, unique_ids=len(IDS))).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(out), out))
            else:
                COUNT["requests"] += 1
                if "webhook-id" in headers:
                    IDS.add(headers["webhook-id"])
                if key is not None and not check(key, headers, body):
                    COUNT["bad_signatures"] += 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def main(port, secret):
    key = base64.b64decode(secret[len("whsec_"):]) if secret else None
    srv = await asyncio.start_server(lambda r, w: serve(r, w, key), "127.0.0.1", port,
                                     backlog=1024)
    print("listening %d" % srv.sockets[0].getsockname()[1], flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))
