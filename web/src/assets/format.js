// Formatting helpers. Money arrives as exact decimal strings and is shown as it arrives: no
// float arithmetic touches an amount (charts convert to numbers for geometry only).

// "$1.5" -> "$1.50"; "0.1005" -> "$0.1005" (never rounded; at least two decimals).
export function usd(decimal) {
  let s = String(decimal ?? '0');
  const neg = s.startsWith('-');
  if (neg) s = s.slice(1);
  const dot = s.indexOf('.');
  if (dot < 0) s += '.00';
  else if (s.length - dot - 1 < 2) s += '0'.repeat(2 - (s.length - dot - 1));
  return (neg ? '-$' : '$') + s;
}

// Exact comparison of two non-negative or negative decimal strings: -1, 0 or 1.
export function compareDecimal(a, b) {
  const parse = (x) => {
    let s = String(x ?? '0').trim();
    const neg = s.startsWith('-');
    if (neg) s = s.slice(1);
    let [int, frac = ''] = s.split('.');
    int = int.replace(/^0+/, '');
    frac = frac.replace(/0+$/, '');
    if (!int && !frac) return { neg: false, int: '', frac: '' };
    return { neg, int, frac };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.neg !== y.neg) return x.neg ? -1 : 1;
  const sign = x.neg ? -1 : 1;
  if (x.int.length !== y.int.length) return x.int.length < y.int.length ? -sign : sign;
  if (x.int !== y.int) return x.int < y.int ? -sign : sign;
  const n = Math.max(x.frac.length, y.frac.length);
  const fx = x.frac.padEnd(n, '0');
  const fy = y.frac.padEnd(n, '0');
  if (fx === fy) return 0;
  return fx < fy ? -sign : sign;
}

export const STATUSES = ['active', 'warning', 'critical', 'grace_period', 'suspended', 'exempt'];

export function statusLabel(s) {
  return { grace_period: 'grace period' }[s] || s;
}

// "2026-11-02T00:05:00Z" -> "2026-11-02 00:05:00 UTC".
export function when(iso) {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

// Time left until `iso` from `nowMs`: "4m 05s", "2h 03m", or "due".
export function countdown(iso, nowMs) {
  if (!iso) return '';
  const left = Math.round((Date.parse(iso) - nowMs) / 1000);
  if (!(left > 0)) return 'due';
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  const pad = (n) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${pad(m)}m`;
  return `${m}m ${pad(s)}s`;
}

export function percent(p) { return `${p}%`; }
