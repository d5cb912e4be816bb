#!/usr/bin/env python3
"""Writes the Price List fixtures next to this script (run it from anywhere).

AmazonBedrock.json is written by hand; this script writes AmazonBedrockFoundationModels.json,
AmazonBedrockService.json and the GetProducts pages (getproducts-<code>-<n>.json) that
price_list_api_test's fake server serves: each PriceList entry is one product with its terms,
serialised as a JSON string, as the Price List Query API sends it.
"""
import hashlib
import json
import os

os.chdir(os.path.dirname(os.path.abspath(__file__)))


def sku(*parts):
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16].upper()


def offer(code, version, pub, items):
    products, ondemand = {}, {}
    for it in items:
        region = it.get("region", "us-east-1")
        s = sku(code, it["attrs"].get("servicename", ""), it["usagetype"], region)
        attrs = {"servicecode": code,
                 "location": "US East (N. Virginia)" if region == "us-east-1" else "US West (Oregon)",
                 "locationType": "AWS Region", "usagetype": it["usagetype"], "operation": "Usage"}
        attrs.update(it["attrs"])
        attrs["regionCode"] = region
        products[s] = {"sku": s, "productFamily": it.get("family", "Amazon Bedrock"), "attributes": attrs}
        rc = s + ".JRTCKXETXF.6YS6EN2CT7"
        ondemand[s] = {s + ".JRTCKXETXF": {
            "offerTermCode": "JRTCKXETXF", "sku": s, "effectiveDate": "2026-11-01T00:00:00Z",
            "priceDimensions": {rc: {"rateCode": rc, "description": it["desc"], "beginRange": "0",
                                     "endRange": "Inf", "unit": it["unit"],
                                     "pricePerUnit": {"USD": it["usd"]}, "appliesTo": []}},
            "termAttributes": {}}}
    return {"formatVersion": "v1.0",
            "disclaimer": "This pricing list is for informational purposes only.",
            "offerCode": code, "version": version, "publicationDate": pub,
            "products": products, "terms": {"OnDemand": ondemand}}


def fm(name, usagetype, what, usd, region="us-east-1"):
    return {"usagetype": usagetype,
            "attrs": {"servicename": name + " (Amazon Bedrock Edition)", "provider": "Anthropic"},
            "desc": "AWS Marketplace software usage|" + region + "|" + what, "unit": "1M tokens",
            "usd": usd, "region": region, "family": "Bedrock Foundation Models"}


H, S = "Claude 3.5 Haiku", "Claude Sonnet 4.5"
foundation_models = [
    fm(H, "USE1-MP:USE1_InputTokenCount-Units", "Million Input Tokens", "1.0000000000"),
    fm(H, "USE1-MP:USE1_OutputTokenCount-Units", "Million Output Tokens", "5.0000000000"),
    fm(H, "USE1-MP:USE1_CacheReadInputTokenCount-Units", "Million Cache Read Input Tokens", "0.1000000000"),
    fm(H, "USE1-MP:USE1_CacheWriteInputTokenCount-Units", "Million Cache Write Input Tokens", "1.2500000000"),
    fm(H, "USE1-MP:USE1_BatchInputTokenCount-Units", "Million Batch Input Tokens", "0.5000000000"),
    fm(H, "USE1-MP:USE1_BatchOutputTokenCount-Units", "Million Batch Output Tokens", "2.5000000000"),
    fm(S, "USE1-MP:USE1_InputTokenCount_Global-Units", "Million Input Tokens (global cross-region inference)", "3.0000000000"),
    fm(S, "USE1-MP:USE1_OutputTokenCount_Global-Units", "Million Output Tokens (global cross-region inference)", "15.0000000000"),
    fm(S, "USE1-MP:USE1_InputTokenCount-Units", "Million Input Tokens", "3.3000000000"),
    fm(S, "USE1-MP:USE1_InputTokenCount_LongContext_Global-Units", "Million Long Context Input Tokens (global cross-region inference)", "6.0000000000"),
    fm(S, "USW2-MP:USW2_InputTokenCount_Global-Units", "Million Input Tokens (global cross-region inference)", "3.0000000000", region="us-west-2"),
]
with open("AmazonBedrockFoundationModels.json", "w") as f:
    json.dump(offer("AmazonBedrockFoundationModels", "20261121090000", "2026-11-21T09:00:00Z", foundation_models), f, indent=2)

service = [{"usagetype": "USE1-Guardrails-ContentPolicyTextUnits",
            "attrs": {"feature": "Guardrails content filters", "servicename": "Amazon Bedrock Service"},
            "desc": "$0.15 per 1K text units for Guardrails content filters in US East (N. Virginia)",
            "unit": "1K text units", "usd": "0.1500000000", "family": "Guardrails"}]
with open("AmazonBedrockService.json", "w") as f:
    json.dump(offer("AmazonBedrockService", "20261119120000", "2026-11-19T12:00:00Z", service), f, indent=2)


def pages(path, code, per_page):
    with open(path) as f:
        d = json.load(f)
    items = []
    for s, p in d["products"].items():
        terms = {"OnDemand": d["terms"]["OnDemand"].get(s, {})}
        items.append(json.dumps({"product": p, "serviceCode": code, "terms": terms,
                                 "version": d["version"], "publicationDate": d["publicationDate"]}))
    chunks = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
    for n, chunk in enumerate(chunks, 1):
        page = {"FormatVersion": "aws_v1", "PriceList": chunk}
        if n < len(chunks):
            page["NextToken"] = f"{code}-token-{n + 1}"
        with open(f"getproducts-{code}-{n}.json", "w") as f:
            json.dump(page, f, indent=1)


pages("AmazonBedrock.json", "AmazonBedrock", 5)
pages("AmazonBedrockFoundationModels.json", "AmazonBedrockFoundationModels", 100)
with open("getproducts-AmazonBedrockService-1.json", "w") as f:
    json.dump({"FormatVersion": "aws_v1", "PriceList": []}, f, indent=1)
