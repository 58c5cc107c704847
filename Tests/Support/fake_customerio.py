#!/usr/bin/env python3
"""A stand-in for Customer.io's Data Pipelines API (POST /v1/batch), for nexus's tests, and for
the one Track API call nexus makes (POST /api/v1/merge_customers).

It validates every request as the real API does in strict mode (X-Strict-Mode: 1): Basic
auth with the API key and an empty password, a JSON body {"batch": [...]} of at most 500 KB,
calls of at most 32 KB, required fields per call type, ISO-8601 timestamps, a messageId. It
answers 200 {} or 400 {"meta": {"errors": [...]}} or 401, appends every accepted call to a
JSON-lines log, and can inject failures. Loopback only; it stops after --max-requests.

Usage: fake_customerio.py --key KEY [--log FILE] [--stats FILE] [--fail-first N] [--fail-status 500]
       [--reject-user ID ...] [--retry-after S] [--drop-first N] [--max-requests N]
Prints "PORT <n>" on its first line of output (and writes <n> to --port-file when given).
"""
import argparse, base64, json, re, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
args = None
lock = threading.Lock()
state = {"requests": 0}
# People identified so far (userId), as Customer.io keeps profiles: a merge needs both.
people = set()


def merge(handler, raw):
    """POST /api/v1/merge_customers: Basic site_id:track_key; {"primary": {id|email|cio_id},
    "secondary": {...}}, each exactly one identifier, both existing people, not the same one.
    The secondary is deleted, as Customer.io does."""
    expected = "Basic " + base64.b64encode(("%s:%s" % (args.site_id, args.track_key)).encode()).decode()
    if handler.headers.get("Authorization") != expected:
        return handler.reply(401, {"meta": {"error": "Unauthorized request"}})
    try:
        body = json.loads(raw)
    except ValueError as e:
        return handler.reply(400, {"meta": {"error": "invalid JSON: %s" % e}})
    who = {}
    for side in ("primary", "secondary"):
        v = body.get(side) if isinstance(body, dict) else None
        if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in ("id", "email", "cio_id") \
                or not isinstance(next(iter(v.values())), str) or not next(iter(v.values())):
            return handler.reply(400, {"meta": {"error": "%s must be an object with exactly one of id, email, cio_id" % side}})
        who[side] = next(iter(v.values()))
    with lock:
        for side in ("primary", "secondary"):
            if who[side] not in people:
                return handler.reply(400, {"meta": {"error": "%s person %s does not exist" % (side, who[side])}})
        if who["primary"] == who["secondary"]:
            return handler.reply(400, {"meta": {"error": "cannot merge a person into itself"}})
        people.discard(who["secondary"])
        if args.log:
            with open(args.log, "a") as f:
                f.write(json.dumps({"type": "merge", "primary": body["primary"], "secondary": body["secondary"]}, separators=(",", ":")) + "\n")
    handler.reply(200, {})


def validate(call):
    t = call.get("type")
    if t not in ("identify", "track", "group", "page", "screen", "alias"):
        return "unknown call type %r" % t
    if len(json.dumps(call, separators=(",", ":")).encode()) > 32 * 1024:
        return "call larger than 32 KB"
    if not call.get("messageId"):
        return "messageId is required"
    if "timestamp" in call and not (isinstance(call["timestamp"], str) and ISO.match(call["timestamp"])):
        return "timestamp must be ISO-8601: %r" % call.get("timestamp")
    if "context" in call and not isinstance(call["context"], dict):
        return "context must be an object"
    if t in ("identify", "track") and not (call.get("userId") or call.get("anonymousId")):
        return "userId or anonymousId is required"
    if t == "track" and not call.get("event"):
        return "event is required"
    if t == "group":
        if not call.get("groupId"):
            return "groupId is required"
        traits = call.get("traits") or {}
        if not isinstance(traits.get("objectTypeId"), str):
            return "traits.objectTypeId must be a string"
        rel = traits.get("relationshipAttributes")
        if rel is not None and not isinstance(rel, dict):
            return "traits.relationshipAttributes must be an object"
    if t == "identify" and not isinstance(call.get("traits", {}), dict):
        return "traits must be an object"
    if t == "track" and not isinstance(call.get("properties", {}), dict):
        return "properties must be an object"
    if call.get("userId") in args.reject_user:
        return "userId %s is refused (test injection)" % call.get("userId")
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, payload, headers=None):
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        with lock:
            state["requests"] += 1
            n = state["requests"]
        if n <= args.drop_first:
            self.connection.close()  # a dropped connection, mid-request
            return
        if n <= args.drop_first + args.fail_first:
            headers = {"Retry-After": str(args.retry_after)} if args.retry_after is not None else {}
            return self.reply(args.fail_status, {"meta": {"errors": ["injected failure"]}}, headers)
        if self.path == "/api/v1/merge_customers":
            return merge(self, raw)
        if self.path != "/v1/batch":
            return self.reply(404, {"meta": {"errors": ["no route %s" % self.path]}})
        # HTTP Basic with the key and an empty password; keys with a region prefix
        # (pk_us_, sk_eu_, ...) may also come as a Bearer token, as the official SDK sends them.
        allowed = {"Basic " + base64.b64encode((args.key + ":").encode()).decode()}
        if re.match(r"^(pk|sk)_(us|eu)_", args.key):
            allowed.add("Bearer " + args.key)
        if self.headers.get("Authorization") not in allowed:
            return self.reply(401, {"meta": {"errors": ["bad credentials"]}})
        if self.headers.get("X-Strict-Mode") != "1" and not args.accept_permissive:
            return self.reply(400, {"meta": {"errors": ["X-Strict-Mode: 1 expected in tests"]}})
        if self.headers.get("Content-Encoding") == "gzip":
            import gzip
            try:
                raw = gzip.decompress(raw)
            except OSError as e:
                return self.reply(400, {"meta": {"errors": ["bad gzip body: %s" % e]}})
        if len(raw) > 500 * 1024:
            return self.reply(400, {"meta": {"errors": ["request larger than 500 KB"]}})
        try:
            body = json.loads(raw)
        except ValueError as e:
            return self.reply(400, {"meta": {"errors": ["invalid JSON: %s" % e]}})
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, list) or not batch:
            return self.reply(400, {"meta": {"errors": ["batch must be a non-empty list"]}})
        if "sentAt" in body and not (isinstance(body["sentAt"], str) and ISO.match(body["sentAt"])):
            return self.reply(400, {"meta": {"errors": ["sentAt must be ISO-8601: %r" % body.get("sentAt")]}})
        errors = [e for e in (validate(c) for c in batch) if e]
        if errors:
            return self.reply(400, {"meta": {"errors": errors}})
        if args.delay or n <= args.drop_first + args.fail_first + args.slow_first:
            import time
            time.sleep(args.delay if args.delay else args.slow_seconds)
        with lock:
            state["calls"] = state.get("calls", 0) + len(batch)
            for c in batch:
                if c.get("type") == "identify" and c.get("userId"):
                    people.add(c["userId"])
            state["bytes"] = state.get("bytes", 0) + len(raw)
            if args.log:
                with open(args.log, "a") as f:
                    for c in batch:
                        f.write(json.dumps(c, separators=(",", ":")) + "\n")
                    f.write(json.dumps({"_request": n, "_bytes": len(raw), "_calls": len(batch),
                                        "_sentAt": body.get("sentAt"), "_auth": self.headers.get("Authorization", "").split(" ")[0],
                                        "_contentType": self.headers.get("Content-Type"),
                                        "_encoding": self.headers.get("Content-Encoding")}) + "\n")
            if args.stats:
                with open(args.stats + ".tmp", "w") as f:
                    json.dump({"requests": n, "calls": state["calls"], "bytes": state["bytes"]}, f)
                import os
                os.rename(args.stats + ".tmp", args.stats)
        self.reply(200, {})


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--key", required=True)
    p.add_argument("--site-id", default="test-site", help="the Track API's site id (for merges)")
    p.add_argument("--track-key", default="test-track-key", help="the Track API's key (for merges)")
    p.add_argument("--log", default=None, help="append every accepted call to this JSON-lines file")
    p.add_argument("--stats", default=None, help="keep accepted requests/calls/bytes in this JSON file (for benchmarks)")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=500)
    p.add_argument("--drop-first", type=int, default=0)
    p.add_argument("--retry-after", type=float, default=None)
    p.add_argument("--reject-user", action="append", default=[])
    p.add_argument("--max-requests", type=int, default=10000)
    p.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering an accepted request")
    p.add_argument("--slow-first", type=int, default=0, help="answer the first N requests (after injected failures) late")
    p.add_argument("--slow-seconds", type=float, default=3.0, help="how late --slow-first answers")
    p.add_argument("--accept-permissive", action="store_true",
                   help="accept requests without X-Strict-Mode: 1 (the official SDK does not send it); calls are still validated")
    p.add_argument("--port-file", default=None, help="also write the port to this file")
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    while state["requests"] < args.max_requests:
        server.handle_request()


if __name__ == "__main__":
    main()
