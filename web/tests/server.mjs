// Starts the real `budgeteer serve` on a free loopback port with a temporary ledger and config,
// and talks to its API. Used by the browser tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ADMIN = 'admin-token-0123';
export const VIEWER = 'viewer-token-4567';

export function binaryPath() {
  const bin = process.env.BUDGETEER_BINARY || resolve(import.meta.dirname, '../../build/budgeteer');
  if (!existsSync(bin)) throw new Error(`${bin} not found: build first (make build), or set BUDGETEER_BINARY`);
  return bin;
}

export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'budgeteer-web-'));
  const config = join(dir, 'serve.toml');
  writeFileSync(config, `
[server]
listen = "127.0.0.1:0"
[auth]
admin_tokens = ["web-admin:${ADMIN}"]
viewer_tokens = ["web-viewer:${VIEWER}"]
[ingest.firehose]
access_key = "web-firehose-key"
[defaults]
default_user_budget_usd = 1
thresholds_percent_warn = 70
thresholds_percent_critical = 90
grace_period_seconds = 3600
budget_refresh_period_days = 30
[identity]
# One test creates 10,000 principals at once: no new-principal cap (a flood guard) here.
max_new_principals_per_minute = 0
[notify]
log = true
`);
  const child = spawn(binaryPath(), ['--db', join(dir, 'ledger.db'), '--config', config, 'serve',
    '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolvePort, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out} ${stderr}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolvePort(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}: ${stderr}`)); });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    log: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
    async api(method, path, tokenValue, body) {
      const headers = { Authorization: `Bearer ${tokenValue}` };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
      const text = await res.text();
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, json, text };
    },
  };
}

// An invocation-log record of IAM user `user` calling Claude 3 Haiku ($0.25 per million input
// tokens), a minute ago (inside the current period).
export function record(id, user, inputTokens) {
  return {
    schemaType: 'ModelInvocationLog', schemaVersion: '1.0',
    timestamp: new Date(Date.now() - 60_000).toISOString(),
    accountId: '111122223333', identity: { arn: `arn:aws:iam::111122223333:user/${user}` },
    region: 'us-east-1', requestId: id, operation: 'Converse',
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    input: { inputContentType: 'application/json', inputTokenCount: inputTokens, cacheReadInputTokenCount: 0, cacheWriteInputTokenCount: 0 },
    output: { outputContentType: 'application/json', outputTokenCount: 0 },
  };
}
