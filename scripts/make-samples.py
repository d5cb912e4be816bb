#!/usr/bin/env python3
"""Writes the bundled sample logs in samples/ (deterministic; re-run after changing the story).

The story (2026-11-01, UTC), priced with the bundled catalog:
  - BedrockAPIKey-demo (IAM user, account 111122223333) calls Claude Sonnet 4 through the us.
    cross-region profile: 12 calls of 20,000 input + 2,000 output tokens = $0.09 each. The 8th
    call crosses 70 % (warning), the 10th 90 % (critical), the 12th 100 % (grace period).
  - TeamRole sessions (alice, bob) share one role budget; alice sends requestMetadata naming
    someone else, which must not move the spend.
  - analytics-batch (a user with a path) embeds with Titan Text Embeddings V2.
  - A federated user, a second account's BedrockAPIKey-demo, cache tokens on Claude 3.7
    Sonnet, a Nova Micro call, a streaming call with a body array, an error record, and a model
    the catalog does not know.
  - Hour 10 arrives as a .json.gz object (as Bedrock writes to S3); the CloudWatch Logs payload
    repeats one record from the JSONL file (counted once) and carries a CONTROL_MESSAGE.
"""
import base64
import gzip
import io
import json
import os
import uuid

OUT = os.path.join(os.path.dirname(__file__), "..", "samples")
ACCT = "111122223333"
NS = uuid.UUID("6f1c2a52-3b1e-4a59-9a1a-6a0f3c9d2b10")


def rid(n):
    return str(uuid.uuid5(NS, str(n)))


def record(n, ts, arn, model, inp, out, op="Converse", cr=0, cw=0, acct=ACCT, **extra):
    r = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": ts,
        "accountId": acct,
        "identity": {"arn": arn},
        "region": "us-east-1",
        "requestId": rid(n),
        "operation": op,
        "modelId": model,
        "input": {
            "inputContentType": "application/json",
            "inputTokenCount": inp,
            "cacheReadInputTokenCount": cr,
            "cacheWriteInputTokenCount": cw,
        },
        "output": {"outputContentType": "application/json", "outputTokenCount": out},
    }
    r.update(extra)
    return r


def main():
    demo = f"arn:aws:iam::{ACCT}:user/BedrockAPIKey-demo"
    sonnet4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"
    hour9 = []
    n = 0
    for i in range(8):  # 8 x $0.09 = $0.72: warning on the 8th
        n += 1
        hour9.append(record(n, f"2026-11-01T09:{i * 5:02d}:00Z", demo, sonnet4, 20000, 2000))
    n += 1
    hour9.append(record(n, "2026-11-01T09:41:00Z",
                        f"arn:aws:sts::{ACCT}:assumed-role/TeamRole/alice@example.com",
                        "anthropic.claude-3-haiku-20240307-v1:0", 50000, 4000,
                        requestMetadata={"userId": "BedrockAPIKey-demo", "project": "search"}))
    n += 1
    hour9.append(record(n, "2026-11-01T09:42:00Z",
                        f"arn:aws:sts::{ACCT}:assumed-role/TeamRole/bob@example.com",
                        "us.anthropic.claude-3-5-haiku-20241022-v1:0", 30000, 2500,
                        op="ConverseStream",
                        output={"outputContentType": "application/json",
                                "outputTokenCount": 2500,
                                "outputBodyJson": [{"contentBlockDelta": {"delta": {"text": "Hi"}}},
                                                   {"metadata": {"usage": {"inputTokens": 30000,
                                                                           "outputTokens": 2500}}}]}))
    n += 1
    hour9.append(record(n, "2026-11-01T09:43:00Z", f"arn:aws:iam::{ACCT}:user/data/analytics-batch",
                        "amazon.titan-embed-text-v2:0", 800000, 0, op="InvokeModel",
                        output={"outputContentType": "application/json"}))
    n += 1
    hour9.append(record(n, "2026-11-01T09:44:00Z",
                        f"arn:aws:iam::{ACCT}:user/BedrockAPIKey-cache",
                        "us.anthropic.claude-3-7-sonnet-20250219-v1:0", 2000, 800, cr=150000,
                        cw=10000))
    n += 1
    hour9.append(record(n, "2026-11-01T09:45:00Z", "arn:aws:sts::444455556666:federated-user/contractor",
                        "amazon.nova-micro-v1:0", 12000, 3000, acct="444455556666"))
    n += 1
    hour9.append(record(n, "2026-11-01T09:46:00Z", "arn:aws:iam::444455556666:user/BedrockAPIKey-demo",
                        "meta.llama3-3-70b-instruct-v1:0", 100000, 20000, acct="444455556666"))
    n += 1
    hour9.append(record(n, "2026-11-01T09:47:00Z", demo, sonnet4, 0, 0,
                        errorCode="ThrottlingException",
                        output={"outputContentType": "application/json"}))
    n += 1
    hour9.append(record(n, "2026-11-01T09:48:00Z", f"arn:aws:iam::{ACCT}:user/BedrockAPIKey-labs",
                        "acme.experimental-model-v1:0", 5000, 1000))
    with open(os.path.join(OUT, "invocation-logs.jsonl"), "w") as f:
        for r in hour9:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")

    hour10 = []
    for i in range(4):  # 9th..12th demo calls: critical on the 10th, grace on the 12th
        n += 1
        hour10.append(record(n, f"2026-11-01T10:{i * 5:02d}:00Z", demo, sonnet4, 20000, 2000))
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        for r in hour10:
            gz.write((json.dumps(r, separators=(",", ":")) + "\n").encode())
    with open(os.path.join(OUT, "invocation-logs-hour2.json.gz"), "wb") as f:
        f.write(buf.getvalue())

    # A CloudWatch Logs subscription delivery: one duplicate of the first JSONL record, one new.
    n += 1
    new = record(n, "2026-11-01T10:30:00Z",
                 f"arn:aws:sts::{ACCT}:assumed-role/TeamRole/alice@example.com",
                 "anthropic.claude-3-haiku-20240307-v1:0", 10000, 1000)
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": ACCT,
        "logGroup": "/aws/bedrock/modelinvocations",
        "logStream": "aws/bedrock/modelinvocations",
        "subscriptionFilters": ["budgeteer"],
        "logEvents": [
            {"id": "1", "timestamp": 1793523600000, "message": json.dumps(hour9[0])},
            {"id": "2", "timestamp": 1793529000000, "message": json.dumps(new)},
        ],
    }
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
               "logStream": "", "subscriptionFilters": [],
               "logEvents": [{"id": "", "timestamp": 1793523600000,
                              "message": "CWL CONTROL MESSAGE: Checking health of destination"}]}
    with open(os.path.join(OUT, "cloudwatch-subscription.json"), "w") as f:
        for p in (payload, control):
            f.write(base64.b64encode(gzip.compress(json.dumps(p).encode(), mtime=0)).decode() + "\n")


if __name__ == "__main__":
    main()
