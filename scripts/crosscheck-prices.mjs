#!/usr/bin/env node
// Side-by-side diff of our bundled Bedrock price catalog against the independent npm package
// @pydantic/genai-prices (its "aws" provider), for the models both know.
//
// A tool, not a test: it prints every rate of every overlapping model and marks disagreements.
//
//   cd /tmp && mkdir -p gp && cd gp && npm init -y >/dev/null && npm install @pydantic/genai-prices
//   node scripts/crosscheck-prices.mjs --genai-prices-dir /tmp/gp [--catalog data/prices/bedrock-prices.toml]
//                                      [--only-diffs] [--strict]
//
// --genai-prices-dir  a directory whose node_modules holds @pydantic/genai-prices
//                     (default: $GENAI_PRICES_DIR, else the current directory)
// --only-diffs        print only rows that disagree or are missing on one side
// --strict            exit 1 when there is any disagreement
//
// Routing: each model is looked up as Bedrock logs it in-region ("<id>:0"); models with a geo
// premium are also looked up as "global.<id>:0". Our in-region rate is the catalog rate plus
// the geo premium. Rates are compared exactly, in nano-dollars per 1M tokens.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const args = {
    dir: process.env.GENAI_PRICES_DIR || process.cwd(),
    catalog: path.join(here, '..', 'data', 'prices', 'bedrock-prices.toml'),
    onlyDiffs: false,
    strict: false,
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--genai-prices-dir') args.dir = argv[++i];
    else if (a === '--catalog') args.catalog = argv[++i];
    else if (a === '--only-diffs') args.onlyDiffs = true;
    else if (a === '--strict') args.strict = true;
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 20)
        .join('\n'));
      process.exit(0);
    } else {
      console.error(`unknown argument: ${a}`);
      process.exit(2);
    }
  }
  return args;
}

// A parser for the subset of TOML our catalog uses: comments, `key = "string"`, integers,
// arrays of strings on one line, and [[model]] array-of-tables headers.
function parseCatalog(text) {
  const top = {};
  const models = [];
  let current = top;
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (line === '' || line.startsWith('#')) return;
    if (line === '[[model]]') {
      current = {};
      models.push(current);
      return;
    }
    const m = line.match(/^([A-Za-z0-9_]+)\s*=\s*(.*?)\s*(#.*)?$/);
    if (!m) throw new Error(`catalog line ${index + 1}: cannot parse: ${raw}`);
    const [, key, value] = m;
    if (value.startsWith('"')) current[key] = JSON.parse(value);
    else if (value.startsWith('[')) current[key] = JSON.parse(value);
    else if (/^-?\d+$/.test(value)) current[key] = Number(value);
    else throw new Error(`catalog line ${index + 1}: unsupported value: ${value}`);
  });
  return { top, models };
}

// Exact decimal string -> BigInt nano-dollars.
function decimalToNanos(text) {
  const m = String(text).match(/^(\d*)(?:\.(\d{0,9}))?$/);
  if (!m) throw new Error(`not a decimal: ${text}`);
  return BigInt(m[1] || '0') * 1000000000n + BigInt((m[2] || '').padEnd(9, '0') || '0');
}

// A JS number (USD per 1M tokens) -> BigInt nano-dollars, rounded to the nearest nano-dollar.
function numberToNanos(x) {
  return BigInt(Math.round(x * 1e9));
}

function nanosToUsd(n) {
  if (n === undefined) return '-';
  const whole = n / 1000000000n;
  let frac = (n % 1000000000n).toString().padStart(9, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

function withPremium(nanos, percent) {
  if (nanos === undefined) return undefined;
  return (nanos * BigInt(100 + percent)) / 100n;
}

// genai-prices values are numbers or {base, tiers:[{start, price}]}.
function theirRate(value) {
  if (value === undefined || value === null) return { base: undefined, tiers: '' };
  if (typeof value === 'number') return { base: numberToNanos(value), tiers: '' };
  const tiers = (value.tiers || []).map((t) => `>${t.start}: ${t.price}`).join(', ');
  return { base: numberToNanos(value.base), tiers };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let genai;
  try {
    const require = createRequire(path.join(path.resolve(args.dir), 'noop.js'));
    genai = await import(pathToFileURL(require.resolve('@pydantic/genai-prices')).href);
  } catch (e) {
    console.error(`cannot load @pydantic/genai-prices from ${args.dir}: ${e.message}`);
    console.error('install it: cd /tmp && mkdir -p gp && cd gp && npm init -y && ' +
                  'npm install @pydantic/genai-prices; then pass --genai-prices-dir /tmp/gp');
    process.exit(2);
  }
  let version = '?';
  try {
    const pkg = path.join(path.resolve(args.dir), 'node_modules', '@pydantic', 'genai-prices',
                          'package.json');
    version = JSON.parse(readFileSync(pkg, 'utf8')).version;
  } catch {
    // the version is informational only
  }

  const { top, models } = parseCatalog(readFileSync(args.catalog, 'utf8'));
  console.log(`catalog ${top.version} (effective ${top.effective_date}, ${models.length} models) ` +
              `vs @pydantic/genai-prices ${version}, provider aws`);
  console.log('rates in USD per 1M tokens; "in-region" includes our geo premium\n');

  const fields = [
    ['input', 'input_mtok'],
    ['output', 'output_mtok'],
    ['cache_read', 'cache_read_mtok'],
    ['cache_write', 'cache_write_mtok'],
  ];
  const rows = [];
  let compared = 0;
  let diffs = 0;
  const notFound = [];
  for (const model of models) {
    const premium = model.geo_premium_percent || 0;
    const routes = [['in-region', `${model.id}:0`, premium]];
    if (premium > 0) routes.push(['global', `global.${model.id}:0`, 0]);
    for (const [route, logged, routePremium] of routes) {
      const result = genai.calcPrice({ input_tokens: 1 }, logged, { providerId: 'aws' });
      if (!result) {
        notFound.push(`${logged}`);
        continue;
      }
      const theirs = result.model_price || {};
      for (const [ours, their] of fields) {
        const ourText = model[ours];
        // Our convention: no cache rate means cache tokens cost the input rate.
        const oursNanos = ourText === undefined ? undefined
                                                : withPremium(decimalToNanos(ourText), routePremium);
        const t = theirRate(theirs[their]);
        if (oursNanos === undefined && t.base === undefined) continue;
        let status;
        if (oursNanos === undefined || t.base === undefined) {
          status = oursNanos === undefined ? 'ONLY THEIRS' : 'ONLY OURS';
          // Equivalent spellings: an absent output price is a zero one (embedding models), and
          // an absent cache-write price is (for us) the input rate.
          if (t.base === undefined && ours === 'output' && oursNanos === 0n) status = 'ok';
          if (t.base === undefined && ours === 'cache_write' &&
              oursNanos === withPremium(decimalToNanos(model.input), routePremium)) {
            status = 'ok';
            t.tiers = 'theirs absent; ours = input rate';
          }
        } else {
          status = oursNanos === t.base ? 'ok' : 'DIFF';
        }
        if (status !== 'ok' && result.model.id.replace(/^(regional|global)\./, '')
                                   .replace(/:\d.*$/, '') !== logged.replace(/^global\./, '')
                                   .replace(/:\d.*$/, '')) {
          t.tiers = `${t.tiers ? t.tiers + '; ' : ''}genai-prices matched another id`;
        }
        if (ours === 'input' && model.long_context_threshold && t.tiers === '') {
          t.tiers = `(ours: >${model.long_context_threshold} at ` +
                    `${nanosToUsd(withPremium(decimalToNanos(model.long_context_input), routePremium))})`;
        }
        compared += 1;
        if (status !== 'ok') diffs += 1;
        rows.push([model.id, route, result.model.id, ours, nanosToUsd(oursNanos), nanosToUsd(t.base),
                   status, t.tiers]);
      }
    }
  }

  const header = ['model', 'route', 'genai-prices match', 'field', 'ours', 'theirs', 'status',
                  'notes'];
  const shown = args.onlyDiffs ? rows.filter((r) => r[6] !== 'ok') : rows;
  const widths = header.map((h, i) => Math.max(h.length, ...shown.map((r) => String(r[i]).length)));
  const fmt = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of shown) console.log(fmt(r));
  console.log(`\n${compared} rates compared, ${diffs} disagree or exist on one side only.`);
  if (notFound.length > 0) {
    console.log(`${notFound.length} of our ids are unknown to genai-prices (no comparison):`);
    for (const id of notFound) console.log(`  ${id}`);
  }
  if (args.strict && diffs > 0) process.exit(1);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(2);
});
