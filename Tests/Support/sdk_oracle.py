#!/usr/bin/env python3
"""Sends the rows of Customer.io output tables through the official Python SDK
(customerio-cdp-analytics), so a test can compare nexus's calls with the SDK's on the wire.

The rows are read straight from the SQLite warehouse and turned into SDK calls by the rules
nexus documents (docs/decisions.md, "Sync"): the special columns become the call's fields;
every other column becomes a trait (identify, group) or property (track); timestamps in
nexus's canonical text form become Unix seconds, also inside JSON objects; JSON object or
array text is sent as JSON; NULL stays null. Each row is one SDK call, sent synchronously
to --host. Usage:

  sdk_oracle.py --db WAREHOUSE --host URL --key KEY OUTPUT:SHAPE [...]
  (SHAPE: identify, track, objects, relationships)
"""
import argparse, json, re, sqlite3, sys
from datetime import datetime, timezone

from customerio.analytics import Client

CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


def seconds(text):
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return int(datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp() // 1)


def convert(value):
    if isinstance(value, str):
        if CANONICAL.match(value):
            return seconds(value)
        if value[:1] in ("{", "["):
            try:
                parsed = json.loads(value)
            except ValueError:
                return value
            return convert_json(parsed)
    return value


def convert_json(v):
    if isinstance(v, dict):
        return {k: convert_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [convert_json(x) for x in v]
    if isinstance(v, str) and CANONICAL.match(v):
        return seconds(v)
    return v


def when(row):
    t = row.get("timestamp")
    if t is None:
        return None
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in t else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(t, fmt).replace(tzinfo=timezone.utc)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("outputs", nargs="+")
    a = p.parse_args()
    client = Client(a.key, host=a.host, sync_mode=True, max_retries=1,
                    on_error=lambda e, batch: sys.exit("SDK call failed: %s" % e))
    db = sqlite3.connect(a.db)
    n = 0
    for spec in a.outputs:
        name, shape = spec.split(":")
        cur = db.execute('SELECT * FROM "%s"' % name)
        cols = [d[0] for d in cur.description]
        for values in cur:
            row = dict(zip(cols, values))
            n += 1
            mid = "oracle-%d" % n
            if shape in ("identify", "track"):
                special = {"userId", "anonymousId", "timestamp", "event"}
                bag = {c: convert(v) for c, v in row.items() if c not in special}
                if shape == "identify":
                    client.identify(user_id=row.get("userId"), anonymous_id=row.get("anonymousId"), traits=bag,
                                    timestamp=when(row), message_id=mid)
                else:
                    client.track(user_id=row.get("userId"), anonymous_id=row.get("anonymousId"), event=row["event"],
                                 properties=bag, timestamp=when(row), message_id=mid)
            else:
                special = {"groupId", "objectTypeId", "userId", "timestamp", "relationshipAttributes"}
                traits = {"objectTypeId": str(row["objectTypeId"])}
                if shape == "relationships" and row.get("relationshipAttributes") is not None:
                    traits["relationshipAttributes"] = convert_json(json.loads(row["relationshipAttributes"]))
                traits.update({c: convert(v) for c, v in row.items() if c not in special})
                client.group(user_id=row.get("userId") if shape == "relationships" else None, group_id=row["groupId"],
                             traits=traits, timestamp=when(row), message_id=mid)
    print("sent %d calls" % n)


if __name__ == "__main__":
    main()
