#!/usr/bin/env python3
"""The secret scan after the browser suite (issue #9).

Looks for every secret the run used in everything the run produced or served: the servers'
logs, every answer the browser received (pages, server functions, API answers, the CSV
export; recorded by end2end/tests/fixtures.ts), the WASM and JS bundle, and the audit log and
all other text of the console's databases. A secret is either a value the run knows (passwords,
the API key, the JWT secret, master keys, session tokens) or anything shaped like a Stripe
secret key or webhook signing secret (`sk_test_…`, `sk_live_…`, `rk_…`, `whsec_…`), whatever
its value: those must only ever appear masked (`sk_test_****abcd`).

Usage: leaks.py --secret NAME=VALUE ... --secret-file NAME=PATH ... --tokens FILE
                 --scan PATH ... --sqlite PATH ...
Exits 1 and names each finding (never the secret itself) when anything leaked.
"""

import argparse
import os
import re
import sqlite3
import sys

# Stripe secret material of any value; the masked form (`sk_test_****abcd`) does not match.
PATTERNS = {
    "a Stripe secret key": re.compile(rb"\b[sr]k_(?:test|live)_[A-Za-z0-9]{6,}"),
    "a webhook signing secret": re.compile(rb"\bwhsec_[A-Za-z0-9+/=]{8,}"),
}


def sources(paths):
    """(name, bytes) for each file under the given paths."""
    for path in paths:
        if os.path.isdir(path):
            for root, _, files in os.walk(path):
                for f in sorted(files):
                    full = os.path.join(root, f)
                    with open(full, "rb") as fh:
                        yield full, fh.read()
        elif os.path.exists(path):
            with open(path, "rb") as fh:
                yield path, fh.read()
        else:
            sys.exit(f"leaks.py: {path} does not exist")


def database_text(path):
    """Every text value of every table of a SQLite database, one source per table."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
        text = "\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows)
        yield f"{path}:{table}", text.encode()
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret", action="append", default=[], help="NAME=VALUE")
    ap.add_argument("--secret-file", action="append", default=[], help="NAME=PATH (its content, trimmed)")
    ap.add_argument("--tokens", action="append", default=[], help="a file of session tokens, one a line")
    ap.add_argument("--scan", action="append", default=[], help="a file or folder to scan")
    ap.add_argument("--sqlite", action="append", default=[], help="a SQLite database to scan")
    args = ap.parse_args()

    known = {}
    for item in args.secret:
        name, _, value = item.partition("=")
        known[name] = value
    for item in args.secret_file:
        name, _, path = item.partition("=")
        with open(path) as fh:
            known[name] = fh.read().strip()
    for path in args.tokens:
        if os.path.exists(path):
            with open(path) as fh:
                for i, line in enumerate(sorted(set(fh.read().split()))):
                    known[f"session token {i + 1}"] = line
    short = [name for name, value in known.items() if len(value) < 8]
    if short:
        sys.exit(f"leaks.py: too short to scan for without false alarms: {', '.join(short)}")
    needles = {name: value.encode() for name, value in known.items()}

    findings = []
    scanned = 0
    # The token lists hold the secrets themselves: they are what is looked for, not where.
    lists = {os.path.realpath(p) for p in args.tokens}
    everything = [(where, data) for where, data in sources(args.scan) if os.path.realpath(where) not in lists]
    for db in args.sqlite:
        everything.extend(database_text(db))
    for where, data in everything:
        scanned += len(data)
        for name, needle in needles.items():
            if needle in data:
                findings.append(f"{where}: {name}")
        for name, pattern in PATTERNS.items():
            for m in pattern.finditer(data):
                findings.append(f"{where}: {name} ({m.group(0)[:8].decode(errors='replace')}…)")
    print(f"secret scan: {len(known)} known secrets and {len(PATTERNS)} patterns over "
          f"{len(everything)} sources, {scanned / 1e6:.1f} MB")
    if findings:
        print(f"secret scan: {len(findings)} leaks:")
        for f in sorted(set(findings)):
            print(f"  {f}")
        sys.exit(1)
    print("secret scan: no secret found")


if __name__ == "__main__":
    main()
