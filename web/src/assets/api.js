// The REST API client: the bearer token lives in sessionStorage only (gone when the tab closes).
const KEY = 'budgeteer.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() { return sessionStorage.getItem(KEY) || ''; }
export function setToken(t) { sessionStorage.setItem(KEY, t); }
export function clearToken() { sessionStorage.removeItem(KEY); }

// Money and percentages arrive as JSON numbers written exactly ("0.000000001", "80.00"); they
// are kept as their source text, never as doubles (JSON.parse source text access).
function exactNumbers(key, value, context) {
  if (typeof value === 'number' && (key.endsWith('_usd') || key === 'percent')) {
    return context && typeof context.source === 'string' ? context.source : String(value);
  }
  return value;
}

// One request at a time: the server gives each connection a worker thread, so a dashboard tab
// should hold one connection, not six.
let queue = Promise.resolve();

function request(method, path, body) {
  const run = queue.then(() => send(method, path, body));
  queue = run.catch(() => {});
  return run;
}

async function send(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}` };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', 'the server did not answer');
  }
  const text = await res.text();
  if (!res.ok) {
    let code = 'HTTP_' + res.status;
    let message = text;
    try {
      const err = JSON.parse(text).error;
      code = err.code;
      message = err.message;
    } catch (e) { /* not JSON: keep the text */ }
    throw new ApiError(res.status, code, message);
  }
  const type = res.headers.get('Content-Type') || '';
  return type.startsWith('application/json') ? JSON.parse(text, exactNumbers) : text;
}

export const api = {
  get: (path) => request('GET', path),
  patch: (path, body) => request('PATCH', path, body),
  post: (path, body) => request('POST', path, body),
};

// "/v1/budgets/ACCOUNT:NAME" with the principal escaped for a path segment.
export function budgetPath(principal, action) {
  return `/v1/budgets/${encodeURIComponent(principal)}${action ? '/' + action : ''}`;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}
