#!/usr/bin/env python3
"""A stand-in for Snowflake's SQL API v2, for nexus's tests: it executes what it receives on
fakesnow (Snowflake emulated on DuckDB; PyPI fakesnow==0.12.1).

What it checks and answers, as the real API does (docs.snowflake.com, "Snowflake SQL API"):
- POST /api/v2/statements[?requestId=UUID&async=true&retry=true] with a key-pair JWT
  (Authorization: Bearer, X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT): RS256 signed
  by the test key; iss = ACCOUNT.USER.SHA256:<base64 sha256 of the public key's DER>,
  sub = ACCOUNT.USER (upper case), at most one hour. Else 401 {"code": "390144", ...}.
- The body's statement (one statement; bindings {"1": {"type": "TEXT", "value": ...}}, a
  list of values binds a batch), database, schema, warehouse, role, timeout.
- 200 with a jsonv2 result (every value a string or null; resultSetMetaData with rowType and
  partitionInfo); results larger than --partition-rows come in several partitions, the first
  in the answer, the others from GET .../statements/<handle>?partition=N (gzip encoded).
- async=true: 202 {"code": "333334", "statementHandle": ...} at once; GET
  /api/v2/statements/<handle> answers 202 while it runs, then 200 or the error.
- A retried submit with the same requestId (retry=true) is not executed twice.
- Errors as Snowflake shapes them: 422 {"code", "sqlState", "message", "statementHandle"}.
- POST /api/v2/statements/<handle>/cancel.
- ALTER TABLE a SWAP WITH b, which fakesnow lacks, emulated (three renames, atomic here).
- Relation names resolved as Snowflake does (unquoted upper case, quoted exact), which DuckDB
  underneath does not: a name Snowflake would not find is its "does not exist" error.
- Fault injection: --fail-first N answers the first N submits with --fail-status (429 or 503);
  --lose-answer-of TEXT runs the first statement containing TEXT and answers 503.
Loopback only. Writes its port to --port-file.
"""
import argparse, base64, gzip, hashlib, json, re, sys, threading, time, uuid, warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

warnings.filterwarnings("ignore")

args = None
lock = threading.Lock()          # one statement at a time on the one DuckDB connection
counter = threading.Lock()
state = {"submits": 0, "executed": 0}
statements = {}                  # handle -> {"status", "result" | "error", "thread"}
requests_seen = {}               # requestId -> handle
conn = None
fingerprint = None
public_key = None


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check_jwt(header):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    if not header or not header.startswith("Bearer "):
        return "no bearer token"
    token = header[len("Bearer "):]
    parts = token.split(".")
    if len(parts) != 3:
        return "malformed JWT"
    try:
        head = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except Exception:
        return "malformed JWT"
    if head.get("alg") != "RS256":
        return "JWT alg must be RS256"
    try:
        public_key.verify(signature, (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return "JWT signature does not verify with the user's public key"
    who = "%s.%s" % (args.account.upper(), args.user.upper())
    if claims.get("sub") != who:
        return "JWT sub %r is not %r" % (claims.get("sub"), who)
    if claims.get("iss") != who + ".SHA256:" + fingerprint:
        return "JWT iss %r does not name the user's public key fingerprint" % claims.get("iss")
    now = time.time()
    iat, exp = claims.get("iat", 0), claims.get("exp", 0)
    if exp < now or exp - iat > 3600 or iat > now + 60:
        return "JWT expired or valid for more than an hour"
    return None


TYPES = {0: "fixed", 1: "real", 2: "text", 3: "date", 4: "timestamp_ltz", 5: "variant", 6: "timestamp_ltz",
         7: "timestamp_tz", 8: "timestamp_ntz", 9: "object", 10: "array", 11: "binary", 12: "time", 13: "boolean"}


def cell(v, kind):
    import datetime, decimal
    if v is None:
        return None
    if kind == "boolean":
        return "true" if v else "false"
    if kind == "fixed":
        return str(v)
    if kind == "real":
        return repr(float(v))
    if kind == "date":
        return str((v - datetime.date(1970, 1, 1)).days)
    if kind.startswith("timestamp"):
        delta = v - datetime.datetime(1970, 1, 1)
        micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return "%d.%09d" % (micros // 1_000_000, (micros % 1_000_000) * 1000)
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def bind_value(b):
    t, v = b.get("type", "TEXT").upper(), b.get("value")
    def one(x):
        if x is None:
            return None
        if t == "FIXED":
            return int(x)
        if t == "REAL":
            return float(x)
        if t == "BOOLEAN":
            return str(x).lower() in ("true", "1")
        return str(x)
    return [one(x) for x in v] if isinstance(v, list) else one(v)


def error(code, sql_state, message, handle=None):
    return {"code": code, "sqlState": sql_state, "message": message, "statementHandle": handle or str(uuid.uuid4()),
            "createdOn": int(time.time() * 1000)}


def names_snowflake_would_not_find(sql):
    """A table or view the statement names that Snowflake would not find, though DuckDB would.

    Snowflake upper-cases unquoted names and matches quoted ones exactly; DuckDB matches every
    name without regard to case, so fakesnow alone would hide a name spelled in the wrong case
    (a table created as "t" read as t, which Snowflake reads as T). Names are checked against
    the schema's relations, case-sensitively; statements sqlglot cannot parse are not checked.
    """
    try:
        import sqlglot
        from sqlglot import exp
        tree = sqlglot.parse_one(sql, read="snowflake")
    except Exception:
        return None
    if isinstance(tree, exp.Drop) and tree.args.get("exists"):
        return None
    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    wanted = []
    for t in tree.find_all(exp.Table):
        if t.db or t.name in ctes or not isinstance(t.this, exp.Identifier):
            continue
        wanted.append(t.name if t.this.quoted else t.name.upper())
    if not wanted:
        return None
    with lock:
        cur = conn.cursor()
        cur.execute("select table_name from information_schema.tables where table_schema = 'PUBLIC' "
                    "union select table_name from information_schema.views where table_schema = 'PUBLIC'")
        names = {r[0] for r in cur.fetchall()}
    folded = {n.lower() for n in names}
    for w in wanted:
        if w not in names and w.lower() in folded:
            return w
    return None


INSERT_VALUES = re.compile(r'^\s*insert\s+into\s+("[^"]+"|\w+)\s*\(([^)]*)\)\s*values\s*\(\s*\?(\s*,\s*\?)*\s*\)\s*$', re.I)


def insert_batch(cur, sql, params):
    """A batch INSERT … VALUES (?, …) straight into DuckDB through Arrow (fakesnow's
    executemany handles a row at a time, about a hundred rows a second); False when the
    statement is not that shape. The values arrive as text and DuckDB casts them to the
    columns' types, as Snowflake does with TEXT bindings."""
    m = INSERT_VALUES.match(sql)
    if not m:
        return False
    import pyarrow as pa
    columns = [c.strip() for c in m.group(2).split(",")]
    if len(columns) != len(params):
        return False
    batch = pa.table({"c%d" % i: pa.array([None if v is None else str(v) for v in col], type=pa.string()) for i, col in enumerate(params)})
    duck = cur._duck_conn
    duck.register("nexus_batch", batch)
    try:
        duck.execute("insert into %s (%s) select %s from nexus_batch" % (m.group(1), ", ".join(columns), ", ".join("c%d" % i for i in range(len(columns)))))
    finally:
        duck.unregister("nexus_batch")
    return True


def databases():
    with lock:
        cur = conn.cursor()
        cur.execute("select upper(catalog_name) from information_schema.schemata")
        return {r[0] for r in cur.fetchall()}


known_contexts = set()


def context_exists(body):
    """Whether the request's database and schema are there (remembered once seen: the tests drop none)."""
    db, schema = body.get("database", args.database).upper(), body.get("schema", "PUBLIC").upper()
    if (db, schema) in known_contexts:
        return True
    with lock:
        cur = conn.cursor()
        cur.execute("select count(*) from information_schema.schemata where upper(catalog_name) = ? and upper(schema_name) = ?", [db, schema])
        found = cur.fetchall()[0][0] > 0
    if found:
        known_contexts.add((db, schema))
    return found


def execute(handle, body):
    """Runs one statement; stores {"result": ...} or {"error": ...} under handle."""
    sql = body.get("statement", "")
    entry = statements[handle]
    try:
        if args.role and body.get("role") and body["role"].upper() != args.role.upper():
            entry["error"] = (422, error("390189", "08004", "Role '%s' specified in the connect string does not exist or not authorized. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC." % body["role"].upper(), handle))
            return
        if body.get("warehouse") and args.warehouse and body["warehouse"].upper() != args.warehouse.upper():
            entry["error"] = (422, error("000606", "57P03", "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.", handle))
            return
        # A database or schema that is not there: Snowflake opens the session without a
        # current one, and the statement fails for want of it.
        if not context_exists(body) and not re.match(r"^\s*create\s+(schema|database)\b", sql, re.I):
            what = "schema" if body.get("database", args.database).upper() in databases() else "database"
            code = "090106" if what == "schema" else "090105"
            entry["error"] = (422, error(code, "22000", "Cannot perform statement. This session does not have a current %s. Call 'USE %s', or use a qualified name." % (what, what.upper()), handle))
            return
        # SYSTEM$WAIT(seconds) anywhere in a statement: waits (a cancel stops it, and so does the
        # request's timeout, as Snowflake's STATEMENT_TIMEOUT_IN_SECONDS), then reads 'waited'.
        m = re.search(r"system\$wait\((\d+(?:\.\d+)?)\)", sql, re.I)
        if m:
            start = time.time()
            until = start + float(m.group(1))
            limit = float(body.get("timeout") or 0)
            with counter:
                state["waiting"] = state.get("waiting", 0) + 1
            while time.time() < until and not entry.get("cancelled") and not (limit and time.time() - start > limit):
                time.sleep(0.02)
            with counter:
                state["waiting"] -= 1
            if entry.get("cancelled"):
                entry["error"] = (422, error("000604", "57014", "SQL execution canceled", handle))
                return
            if limit and time.time() < until:
                entry["error"] = (422, error("000630", "57014", "Statement reached its statement or warehouse timeout of %d second(s) and was canceled." % int(limit), handle))
                return
            sql = sql[:m.start()] + "'waited'" + sql[m.end():]
            if re.match(r"^\s*select\s+'waited'\s*$", sql, re.I):
                sql = "select 'waited' as status"
        # fakesnow has no SWAP WITH: the same exchange, as three renames under the lock that
        # serialises statements (so no other statement sees it half done).
        swap = re.match(r'^\s*alter\s+table\s+("[^"]+"|\S+)\s+swap\s+with\s+("[^"]+"|\S+)\s*$', sql, re.I)
        if swap:
            a, b = swap.group(1), swap.group(2)
            with lock:
                cur = conn.cursor()
                if body.get("database") or body.get("schema"):
                    cur.execute("use schema %s.%s" % (body.get("database", args.database), body.get("schema", "PUBLIC")))
                cur.execute('alter table %s rename to "__swap__"' % a)
                cur.execute('alter table %s rename to %s' % (b, a))
                cur.execute('alter table "__swap__" rename to %s' % b)
                state["swaps"] = state.get("swaps", 0) + 1
                state["executed"] += 1
            entry["result"] = {"rowType": [{"name": "status", "type": "text", "nullable": True, "scale": None, "precision": None}],
                               "parts": [[["Statement executed successfully."]]]}
            return
        bindings = body.get("bindings") or {}
        params = [bind_value(bindings[k]) for k in sorted(bindings, key=int)]
        missing = names_snowflake_would_not_find(sql)
        if missing:
            entry["error"] = (422, error("002003", "42S02", "SQL compilation error:\nObject '%s' does not exist or not authorized." % missing, handle))
            return
        with lock:
            state["executed"] += 1
            cur = conn.cursor()
            if body.get("database") or body.get("schema"):
                cur.execute("use schema %s.%s" % (body.get("database", args.database), body.get("schema", "PUBLIC")))
            batch = bool(params) and isinstance(params[0], list)
            if batch and not insert_batch(cur, sql, params):
                cur.executemany(sql, [list(r) for r in zip(*params)])
            elif batch:
                pass
            else:
                cur.execute(sql, params or None)
            rows = cur.fetchall() if cur.description else []
            desc = cur.description or []
            count = len(params[0]) if batch else cur.rowcount
        kinds = [TYPES.get(d.type_code, "text") for d in desc]
        data = [[cell(v, k) for v, k in zip(r, kinds)] for r in rows]
        row_type = [{"name": d.name, "type": k, "nullable": True, "scale": d.scale, "precision": d.precision,
                     "length": None, "byteLength": None, "database": "", "schema": "", "table": ""} for d, k in zip(desc, kinds)]
        if not desc:
            row_type = [{"name": "number of rows affected", "type": "fixed", "nullable": False, "scale": 0, "precision": 19}]
            data = [[str(max(count or 0, 0))]]
        n = args.partition_rows
        parts = [data[i:i + n] for i in range(0, len(data), n)] or [[]]
        entry["result"] = {"rowType": row_type, "parts": parts}
    except Exception as e:  # fakesnow raises snowflake.connector errors
        errno = getattr(e, "errno", None) or 2003
        state_ = getattr(e, "sqlstate", None) or "42000"
        msg = str(getattr(e, "raw_msg", None) or getattr(e, "msg", None) or e)
        msg = re.sub(r"^\d{6} \([0-9A-Z]{5}\): ", "", msg)
        entry["error"] = (422, error("%06d" % int(errno), state_, "SQL compilation error:\n" + msg, handle))
    finally:
        entry["done"] = True


def result_body(handle, partition=0):
    r = statements[handle]["result"]
    if partition:
        return {"data": r["parts"][partition]}
    info = [{"rowCount": len(p), "uncompressedSize": len(json.dumps(p))} for p in r["parts"]]
    return {"resultSetMetaData": {"numRows": sum(len(p) for p in r["parts"]), "format": "jsonv2", "partitionInfo": info,
                                  "rowType": r["rowType"]},
            "data": r["parts"][0], "code": "090001", "statementStatusUrl": "/api/v2/statements/" + handle,
            "requestId": statements[handle]["requestId"], "sqlState": "00000", "statementHandle": handle,
            "message": "Statement executed successfully.", "createdOn": int(time.time() * 1000)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj, compress=False):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if compress:
            data = gzip.compress(data)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorised(self):
        why = check_jwt(self.headers.get("Authorization"))
        if why is None and self.headers.get("X-Snowflake-Authorization-Token-Type") != "KEYPAIR_JWT":
            why = "X-Snowflake-Authorization-Token-Type must be KEYPAIR_JWT"
        if why:
            self.reply(401, {"code": "390144", "message": "JWT token is invalid. [%s]" % why})
            return False
        return True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self.authorised():
            return
        path, _, query = self.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        m = re.match(r"^/api/v2/statements/([^/]+)/cancel$", path)
        if m:
            entry = statements.get(m.group(1))
            if entry:
                entry["cancelled"] = True
                state["cancels"] = state.get("cancels", 0) + 1
            self.reply(200, {"code": "000604", "message": "successfully canceled", "statementHandle": m.group(1)})
            return
        if path != "/api/v2/statements":
            self.reply(404, {"code": "390404", "message": "no such endpoint"})
            return
        with counter:
            state["submits"] += 1
        if state["submits"] <= args.fail_first:
            self.reply(args.fail_status, {"code": "000000", "message": "injected failure"})
            return
        try:
            obj = json.loads(body)
        except Exception:
            self.reply(400, {"code": "391900", "message": "malformed JSON body"})
            return
        request_id = params.get("requestId")
        if request_id and request_id in requests_seen and params.get("retry") == "true":
            handle = requests_seen[request_id]
        else:
            handle = str(uuid.uuid4())
            statements[handle] = {"requestId": request_id or "", "done": False}
            if request_id:
                requests_seen[request_id] = handle
            t = threading.Thread(target=execute, args=(handle, obj), daemon=True)
            t.start()
            lose = bool(args.lose_answer_of) and not state.get("lost") and args.lose_answer_of in obj.get("statement", "")
            if params.get("async") != "true" or lose:
                t.join()
            if lose:
                state["lost"] = True
                self.reply(503, {"code": "000000", "message": "injected failure after execution"})
                return
        self.answer(handle)

    def answer(self, handle):
        entry = statements[handle]
        if not entry["done"]:
            self.reply(202, {"code": "333334", "message": "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
                             "statementHandle": handle, "statementStatusUrl": "/api/v2/statements/" + handle})
        elif "error" in entry:
            status, obj = entry["error"]
            self.reply(status, obj)
        else:
            self.reply(200, result_body(handle))

    def do_GET(self):
        if self.path.startswith("/_test/stats"):
            self.reply(200, {"submits": state["submits"], "executed": state["executed"], "swaps": state.get("swaps", 0), "cancels": state.get("cancels", 0),
                             "running": sum(1 for e in list(statements.values()) if not e.get("done")),
                             "waiting": state.get("waiting", 0)})
            return
        if not self.authorised():
            return
        path, _, query = self.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        m = re.match(r"^/api/v2/statements/([^/]+)$", path)
        if not m or m.group(1) not in statements:
            self.reply(404, {"code": "333333", "message": "Statement handle not found"})
            return
        handle = m.group(1)
        partition = int(params.get("partition", "0"))
        if partition:
            if not statements[handle].get("done") or "result" not in statements[handle]:
                self.reply(422, error("000000", "00000", "no such partition", handle))
                return
            compress = "gzip" in (self.headers.get("Accept-Encoding") or "")
            self.reply(200, result_body(handle, partition), compress=compress)
            return
        self.answer(handle)


def main():
    global args, conn, fingerprint, public_key
    p = argparse.ArgumentParser()
    p.add_argument("--public-key", help="the user's public key (PEM)")
    p.add_argument("--key-dir", help="make a test key pair here: key.p8, key-encrypted.p8 (--passphrase), key.pub")
    p.add_argument("--passphrase", default="test-passphrase")
    p.add_argument("--account", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--database", default="NEXUS")
    p.add_argument("--role", default="")
    p.add_argument("--warehouse", default="")
    p.add_argument("--partition-rows", type=int, default=1000)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--lose-answer-of", default="", help="execute the first statement containing this text, then answer 503 (the answer lost)")
    p.add_argument("--port-file")
    args = p.parse_args()
    from cryptography.hazmat.primitives import serialization
    if args.key_dir:
        from cryptography.hazmat.primitives.asymmetric import rsa
        import os
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        locked = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(args.passphrase.encode()))
        pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        for name, data in (("key.p8", plain), ("key-encrypted.p8", locked), ("key.pub", pub)):
            with open(os.path.join(args.key_dir, name), "wb") as f:
                f.write(data)
        args.public_key = os.path.join(args.key_dir, "key.pub")
    pem = open(args.public_key, "rb").read()
    public_key = serialization.load_pem_public_key(pem)
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    fingerprint = base64.b64encode(hashlib.sha256(der).digest()).decode()
    import fakesnow, snowflake.connector
    patcher = fakesnow.patch()
    patcher.__enter__()
    conn = snowflake.connector.connect(database=args.database, schema="PUBLIC", paramstyle="qmark")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(str(port))
    print("PORT", port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
