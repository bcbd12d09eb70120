#!/usr/bin/env python3
"""Per user of a schemathesis run (scripts/bench/schemathesis.sh --report-dir DIR): how many
operations received at least one 2xx answer, and the answers by status class.

    scripts/bench/st_coverage.py DIR

Operations come from the JUnit report (one test case per operation), answers from the HAR
file; a request URL is matched to the most specific path template (literal segments first).
"""
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from urllib.parse import urlparse


def templates(junit):
    ops = []
    for tc in ET.parse(junit).getroot().iter("testcase"):
        name = tc.get("name", "")
        if " " in name:
            method, path = name.split(" ", 1)
            ops.append((method.upper(), path))
    return ops


def matcher(ops):
    compiled = []
    for method, path in ops:
        rx = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        params = path.count("{")
        compiled.append((params, method, path, rx))
    compiled.sort(key=lambda c: c[0])

    def find(method, urlpath):
        for _, m, p, rx in compiled:
            if m == method and rx.match(urlpath):
                return (m, p)
        return None

    return find


def main(root):
    print("| user | operations | with ≥1 2xx | share | requests | 2xx | 4xx | 5xx | failures |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for user_dir in sorted(d for d in glob.glob(os.path.join(root, "*")) if os.path.isdir(d)):
        junits = glob.glob(os.path.join(user_dir, "junit*.xml"))
        hars = glob.glob(os.path.join(user_dir, "har*.json"))
        if not junits or not hars:
            continue
        try:
            ops = templates(junits[0])
            entries = json.load(open(hars[0]))["log"]["entries"]
        except (ET.ParseError, ValueError, KeyError):
            print(f"| {os.path.basename(user_dir)} | (run incomplete) |||||||| ")
            continue
        failures = sum(
            1 for tc in ET.parse(junits[0]).getroot().iter("testcase")
            if tc.find("failure") is not None or tc.find("error") is not None
        )
        find = matcher(ops)
        statuses = defaultdict(Counter)
        classes = Counter()
        for e in entries:
            method = e["request"]["method"].upper()
            path = urlparse(e["request"]["url"]).path
            path = path[len("/api/v1"):] if path.startswith("/api/v1") else path
            status = e["response"]["status"]
            classes[status // 100] += 1
            op = find(method, path)
            if op:
                statuses[op][status // 100] += 1
        ok = sum(1 for op in set(ops) if statuses[op][2] > 0)
        n = len(set(ops))
        print(
            f"| {os.path.basename(user_dir)} | {n} | {ok} | {100 * ok / max(n, 1):.0f} % "
            f"| {len(entries)} | {classes[2]} | {classes[4]} | {classes[5]} | {failures} |"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "st")
