#!/usr/bin/env python3
"""The Python baseline for docs/performance.md: a plain loop over a JSON Lines file of Bedrock
invocation-log records (bench/gen_logs) that json.loads each line, prices it from a small dict of
the bundled catalog's rates and sums the cost per caller ARN. Floats are fine here: it is a
baseline for speed, not a ledger.

usage: python_baseline.py FILE [--catalog data/prices/bedrock-prices.toml]
Prints one line in the format of bench/ingest_bench.
"""

import argparse
import json
import os
import re
import sys
import time
import tomllib

GEO_PREFIXES = ("us", "eu", "apac", "jp", "au", "ca", "us-gov")
VERSION_SUFFIX = re.compile(r":\d.*$")


def load_prices(path):
    """canonical id (and aliases) -> (rate per token: input, output, cache read, cache write,
    geo premium percent)."""
    with open(path, "rb") as f:
        catalog = tomllib.load(f)
    prices = {}
    for m in catalog["model"]:
        inp = float(m["input"]) / 1e6
        out = float(m["output"]) / 1e6
        cr = float(m["cache_read"]) / 1e6 if "cache_read" in m else inp
        cw = float(m["cache_write"]) / 1e6 if "cache_write" in m else inp
        entry = (inp, out, cr, cw, int(m.get("geo_premium_percent", 0)))
        for key in [m["id"], *m.get("aliases", [])]:
            prices[key] = entry
    return prices


def resolver(prices):
    """Returns raw modelId -> per-token rates, geo premium applied, memoised."""
    unknown_in = max(p[0] for p in prices.values())
    unknown_out = max(p[1] for p in prices.values())
    unknown = (unknown_in, unknown_out, unknown_in, unknown_in)
    memo = {}

    def rates(model_id):
        r = memo.get(model_id)
        if r is not None:
            return r
        head, _, rest = model_id.partition(".")
        routed_global = head == "global"
        canonical = rest if (head in GEO_PREFIXES or routed_global) else model_id
        canonical = VERSION_SUFFIX.sub("", canonical)
        p = prices.get(canonical)
        if p is None:
            r = unknown
        else:
            factor = 1.0 if routed_global else (100 + p[4]) / 100.0
            r = (p[0] * factor, p[1] * factor, p[2] * factor, p[3] * factor)
        memo[model_id] = r
        return r

    return rates


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--catalog", default=os.path.join(here, "..", "data", "prices",
                                                      "bedrock-prices.toml"))
    args = ap.parse_args()

    rates = resolver(load_prices(args.catalog))
    with open(args.file, "rb") as f:
        data = f.read()  # like the C++ harness, parse from memory

    start = time.perf_counter()
    totals = {}
    records = 0
    loads = json.loads
    for line in data.split(b"\n"):
        if not line:
            continue
        rec = loads(line)
        r = rates(rec["modelId"])
        inp = rec.get("input", {})
        out = rec.get("output", {})
        cost = (inp.get("inputTokenCount", 0) * r[0] + out.get("outputTokenCount", 0) * r[1] +
                inp.get("cacheReadInputTokenCount", 0) * r[2] +
                inp.get("cacheWriteInputTokenCount", 0) * r[3])
        arn = rec["identity"]["arn"]
        totals[arn] = totals.get(arn, 0.0) + cost
        records += 1
    secs = time.perf_counter() - start

    rate = round(records / secs) if secs > 0 else 0
    print(f"{'python json.loads+price+sum':<34} {records:>11,} records  {secs:7.2f} s  "
          f"{rate:>11,} records/s  total ${sum(totals.values()):.2f}  callers {len(totals):,}  "
          f"(Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
