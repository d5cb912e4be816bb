// The dashboard: hash routing (#/, #/p/PRINCIPAL, #/audit, #/prices, #/health), one module per
// concern, no framework. Pages poll the API every 2.5 s and redraw only their data, so inputs
// keep their focus and values while the numbers move.
import { api, ApiError, budgetPath, clearToken, query, setToken, token } from './api.js';
import { barList, timeChart } from './charts.js';
import { compareDecimal, countdown, percent, STATUSES, statusLabel, usd, when } from './format.js';

const POLL_MS = 2500;
const main = document.getElementById('main');
const state = { me: null, page: null, timer: null, tick: null };

// ---- DOM helpers ---------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function badge(status) {
  return h('span', { class: `badge s-${status}`, 'data-status': status }, statusLabel(status));
}

function spendBar(b) {
  const bar = h('div', { class: `bar s-${b.status}`, role: 'presentation' }, h('span'));
  bar.firstChild.style.width = `${Math.min(100, Number(b.percent))}%`;
  return bar;
}

function toast(message) {
  const t = document.getElementById('toast');
  t.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ''; }, 5000);
}

function principalLink(qualified) {
  return h('a', { href: `#/p/${encodeURIComponent(qualified)}` }, qualified);
}

// A modal confirmation (native <dialog>: focus stays inside, Escape cancels).
function confirmDialog(title, body, confirmLabel, danger) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: danger ? 'danger' : '' }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'ghost' }, 'Cancel');
    const dialog = h('dialog', { 'aria-labelledby': 'dlg-title' },
      h('h2', { id: 'dlg-title' }, title), h('p', {}, body), h('div', { class: 'actions' }, cancel, ok));
    const done = (v) => { dialog.close(); dialog.remove(); resolve(v); };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

function errorText(e) {
  return e instanceof ApiError ? `${e.message} (${e.code})` : String(e && e.message ? e.message : e);
}

// ---- polling ---------------------------------------------------------------------------------

function startPolling(refresh) {
  stopPolling();
  let busy = false;
  const run = async () => {
    if (busy) return;
    busy = true;
    try {
      await refresh();
      const live = document.getElementById('live');
      if (live) live.textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return signOut();
      const live = document.getElementById('live');
      if (live) live.textContent = `Live · last update failed: ${errorText(e)}`;
    } finally {
      busy = false;
    }
  };
  state.timer = setInterval(run, POLL_MS);
  return run();
}

function stopPolling() {
  clearInterval(state.timer);
  clearInterval(state.tick);
  state.timer = null;
  state.tick = null;
}

// ---- sign-in -------------------------------------------------------------------------------

function signOut() {
  clearToken();
  state.me = null;
  location.hash = '#/';
  route();
}

function renderSignIn(message) {
  stopPolling();
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('whoami').textContent = '';
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true });
  const error = h('p', { class: 'error', role: 'alert' }, message || '');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      setToken(input.value.trim());
      try {
        state.me = await api.get('/v1/whoami');
        route();
      } catch (err) {
        clearToken();
        error.textContent = err instanceof ApiError && err.status === 401
          ? 'That token is not known to this server.' : errorText(err);
      }
    },
  },
  h('label', { for: 'token' }, 'API token (viewer or admin)', input),
  h('button', { type: 'submit' }, 'Sign in'),
  h('p', { class: 'muted' }, 'The token is kept in this browser tab only (sessionStorage).'),
  error);
  main.replaceChildren(h('section', { class: 'panel signin' }, h('h1', {}, 'Sign in to Budgeteer'), form));
  input.focus();
}

// ---- overview --------------------------------------------------------------------------------

const overview = { offset: 0, limit: 50, sort: '-spent_usd', q: '', status: '' };

function renderOverview() {
  const cards = h('div', { class: 'cards', id: 'cards' });
  const search = h('input', { id: 'search', type: 'search', value: overview.q, placeholder: 'account or name' });
  let debounce = null;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { overview.q = search.value; overview.offset = 0; refresh(); }, 250);
  });
  const status = h('select', { id: 'status-filter' }, h('option', { value: '' }, 'All'),
    STATUSES.map((s) => h('option', { value: s, selected: overview.status === s }, statusLabel(s))));
  status.addEventListener('change', () => { overview.status = status.value; overview.offset = 0; refresh(); });
  const columns = [
    ['principal', 'Principal'], ['spent_usd', 'Spent', 'num'], ['limit_usd', 'Limit', 'num hide-sm'],
    ['percent', 'Used'], ['status', 'Status'], ['grace_deadline', 'Grace', 'hide-sm'],
    ['period_end', 'Period end', 'hide-sm'],
  ];
  const head = h('tr', {}, columns.map(([key, label, cls]) => {
    const btn = h('button', { type: 'button', 'data-sort': key }, label);
    btn.addEventListener('click', () => {
      overview.sort = overview.sort === key ? `-${key}` : key;
      overview.offset = 0;
      refresh();
    });
    return h('th', { class: cls, scope: 'col', 'data-col': key }, btn);
  }));
  const body = h('tbody', { id: 'budgets' });
  const pager = h('div', { class: 'pager', id: 'pager' });
  const models = h('div', { id: 'models' });
  main.replaceChildren(
    h('h1', {}, 'Overview'),
    h('p', { class: 'live', id: 'live', 'aria-live': 'off' }, 'Live'),
    cards,
    h('section', { class: 'panel', 'aria-labelledby': 'principals-h' },
      h('h2', { id: 'principals-h' }, 'Principals'),
      h('div', { class: 'toolbar' },
        h('label', { for: 'search' }, 'Search', search),
        h('label', { for: 'status-filter' }, 'Status', status)),
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, head), body)),
      pager),
    h('section', { class: 'panel', 'aria-labelledby': 'models-h' },
      h('h2', { id: 'models-h' }, 'Top models by cost'), models));

  let lastItems = [];
  const drawCountdowns = () => {
    for (const cell of body.querySelectorAll('[data-deadline]')) {
      cell.textContent = countdown(cell.dataset.deadline, Date.now());
    }
  };
  async function refresh() {
    const sortParam = overview.sort;
    const [page, byModel, byDay] = await Promise.all([
      api.get('/v1/budgets' + query({ offset: overview.offset, limit: overview.limit, sort: sortParam,
        q: overview.q, status: overview.status })),
      api.get('/v1/usage?group_by=model'),
      api.get('/v1/usage?group_by=day'),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const todayRow = byDay.find((r) => String(r.day).startsWith(today));
    const s = page.summary;
    cards.replaceChildren(
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Spend this period'),
        h('div', { class: 'value', id: 'total-spend' }, usd(s.spent_usd))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Spend today (UTC)'),
        h('div', { class: 'value', id: 'today-spend' }, usd(todayRow ? todayRow.cost_usd : '0'))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Principals'),
        h('div', { class: 'value' }, String(s.principals))),
      ...STATUSES.map((st) => h('div', { class: 'card' },
        h('div', { class: 'label' }, badge(st)),
        h('div', { class: 'value', 'data-count': st }, String(s.by_status[st] ?? 0)))));
    for (const th of head.children) {
      const key = th.dataset.col;
      th.setAttribute('aria-sort', sortParam === key ? 'ascending' : sortParam === `-${key}` ? 'descending' : 'none');
    }
    lastItems = page.items;
    body.replaceChildren(...page.items.map((b) => h('tr', { 'data-principal': b.qualified },
      h('td', { class: 'name' }, principalLink(b.qualified)),
      h('td', { class: 'num', 'data-field': 'spent' }, usd(b.spent_usd)),
      h('td', { class: 'num hide-sm', 'data-field': 'limit' }, usd(b.limit_usd)),
      h('td', {}, spendBar(b), h('span', { 'data-field': 'percent' }, percent(b.percent))),
      h('td', { 'data-field': 'status' }, badge(b.status)),
      h('td', { class: 'hide-sm', 'data-deadline': b.grace_deadline || undefined },
        b.grace_deadline ? countdown(b.grace_deadline, Date.now()) : '—'),
      h('td', { class: 'hide-sm' }, when(b.period_end)))));
    if (!page.items.length) {
      body.append(h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'No principal matches.')));
    }
    const from = page.total ? page.offset + 1 : 0;
    const to = page.offset + page.items.length;
    const prev = h('button', { type: 'button', class: 'ghost', disabled: page.offset === 0 }, 'Previous');
    const next = h('button', { type: 'button', class: 'ghost', disabled: to >= page.total }, 'Next');
    prev.addEventListener('click', () => { overview.offset = Math.max(0, overview.offset - overview.limit); refresh(); });
    next.addEventListener('click', () => { overview.offset += overview.limit; refresh(); });
    pager.replaceChildren(prev, h('span', { class: 'muted' }, `${from}–${to} of ${page.total}`), next);
    const top = [...byModel].sort((a, b) => compareDecimal(b.cost_usd, a.cost_usd)).slice(0, 8);
    models.replaceChildren(barList(top.map((r) => ({ label: r.model, value: r.cost_usd })),
      { title: 'Top models by cost' }));
  }
  state.tick = null;
  const p = startPolling(refresh);
  state.tick = setInterval(drawCountdowns, 1000);
  void lastItems;
  return p;
}

// ---- principal -------------------------------------------------------------------------------

function renderPrincipal(principal) {
  const view = { groupBy: 'hour' };
  const summary = h('div', { class: 'cards', id: 'summary' });
  const chart = h('div', { id: 'spend-chart' });
  const models = h('div', { id: 'model-chart' });
  const audit = h('ol', { class: 'timeline', id: 'audit' });
  const notes = h('ol', { class: 'timeline', id: 'notifications' });
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Granularity' },
    ['hour', 'day'].map((g) => {
      const b = h('button', { type: 'button', 'aria-pressed': String(view.groupBy === g), 'data-group': g },
        g === 'hour' ? 'Hourly' : 'Daily');
      b.addEventListener('click', () => {
        view.groupBy = g;
        for (const x of tabs.children) x.setAttribute('aria-pressed', String(x.dataset.group === g));
        refresh();
      });
      return b;
    }));
  const admin = state.me.role === 'admin' ? h('section', { class: 'panel', id: 'admin', 'aria-labelledby': 'admin-h' }) : null;
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← Overview')),
    h('h1', {}, principal),
    h('p', { class: 'live', id: 'live' }, 'Live'),
    summary,
    ...(admin ? [admin] : []),
    h('div', { class: 'grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'spend-h' },
        h('h2', { id: 'spend-h' }, 'Spend over time'), tabs, chart),
      h('section', { class: 'panel', 'aria-labelledby': 'bymodel-h' },
        h('h2', { id: 'bymodel-h' }, 'Spend by model'), models)),
    h('div', { class: 'grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'audit-h' }, h('h2', { id: 'audit-h' }, 'Audit timeline'), audit),
      h('section', { class: 'panel', 'aria-labelledby': 'notes-h' }, h('h2', { id: 'notes-h' }, 'Notifications'), notes)));

  let adminBuilt = false;
  async function refresh() {
    const enc = encodeURIComponent(principal);
    const [b, series, byModel, entries, outbox] = await Promise.all([
      api.get(budgetPath(principal)),
      api.get(`/v1/usage?principal=${enc}&group_by=${view.groupBy}`),
      api.get(`/v1/usage?principal=${enc}&group_by=model`),
      api.get(`/v1/audit?principal=${enc}&limit=1000`),
      api.get('/v1/outbox?limit=1000'),
    ]);
    summary.replaceChildren(
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Spent this period'),
        h('div', { class: 'value', id: 'p-spent' }, usd(b.spent_usd))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Limit'),
        h('div', { class: 'value', id: 'p-limit' }, usd(b.limit_usd))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Used'),
        h('div', { class: 'value', id: 'p-percent' }, percent(b.percent)), spendBar(b)),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Status'),
        h('div', { class: 'value', id: 'p-status' }, badge(b.status))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Grace deadline'),
        h('div', { class: 'value', 'data-deadline': b.grace_deadline || undefined },
          b.grace_deadline ? countdown(b.grace_deadline, Date.now()) : '—')),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Period'),
        h('div', {}, `${when(b.period_start)} → ${when(b.period_end)}`),
        h('div', { class: 'muted' }, `warn ${b.warn_percent}% · critical ${b.critical_percent}% · grace ${b.grace_seconds} s · ${b.period}`)));
    const key = view.groupBy;
    chart.replaceChildren(timeChart(series.map((r) => ({ label: shortKey(r[key], key), value: r.cost_usd })),
      { title: `Spend per ${key}` }));
    const top = [...byModel].sort((x, y) => compareDecimal(y.cost_usd, x.cost_usd));
    models.replaceChildren(barList(top.map((r) => ({ label: r.model, value: r.cost_usd })), { title: 'Spend by model' }));
    const newest = [...entries].sort((x, y) => y.id - x.id);
    audit.replaceChildren(...newest.map((e) => h('li', {},
      h('time', { datetime: e.at }, when(e.at)),
      h('strong', {}, e.kind), ' ', e.from || e.to ? [badge(e.from || '—'), ' → ', badge(e.to || '—')] : '',
      h('div', { class: 'muted' }, `by ${e.actor}${e.trigger ? ' · ' + e.trigger : ''}`))));
    if (!entries.length) audit.append(h('li', { class: 'muted' }, 'No audit entries.'));
    // One row per channel; the original an action was routed from ("routed:N") is not shown.
    const mine = outbox.filter((a) => a.principal === b.qualified && !String(a.channel).startsWith('routed:'))
      .sort((x, y) => y.id - x.id);
    notes.replaceChildren(...mine.map((a) => h('li', {},
      h('time', { datetime: a.created_at }, when(a.created_at)),
      h('strong', {}, a.event || a.kind), ` · ${a.channel || 'unrouted'} · ${a.status}`,
      a.payload && a.payload.message ? h('div', { class: 'muted' }, a.payload.message) : '')));
    if (!mine.length) notes.append(h('li', { class: 'muted' }, 'No notifications.'));
    if (admin && !adminBuilt) {
      buildAdmin(admin, b, refresh);
      adminBuilt = true;
    }
  }
  const p = startPolling(refresh);
  state.tick = setInterval(() => {
    for (const cell of summary.querySelectorAll('[data-deadline]')) cell.textContent = countdown(cell.dataset.deadline, Date.now());
  }, 1000);
  return p;
}

function shortKey(k, groupBy) {
  const s = String(k);
  if (groupBy === 'hour') return s.slice(5, 13).replace('T', ' ') + 'h';
  return s.slice(0, 10);
}

function buildAdmin(panel, b, refresh) {
  const field = (id, label, value, attrs = {}) => {
    const input = h('input', { id, name: id, value, ...attrs });
    return [h('label', { for: id }, label, input), input];
  };
  const [limitL, limit] = field('f-limit', 'Limit (USD)', b.limit_usd, { inputmode: 'decimal' });
  const [warnL, warn] = field('f-warn', 'Warn %', b.warn_percent, { type: 'number', min: 1, max: 100 });
  const [critL, crit] = field('f-critical', 'Critical %', b.critical_percent, { type: 'number', min: 1, max: 100 });
  const [graceL, grace] = field('f-grace', 'Grace (s)', b.grace_seconds, { type: 'number', min: 0 });
  const [periodL, period] = field('f-period', 'Period', b.period);
  const result = h('p', { class: 'result', id: 'admin-result', role: 'status' });
  const initial = { limit: b.limit_usd, warn: String(b.warn_percent), crit: String(b.critical_percent),
    grace: String(b.grace_seconds), period: b.period };
  const act = async (label, fn) => {
    try {
      const after = await fn();
      result.className = 'result';
      result.textContent = `${label}: done. Status is now ${statusLabel(after.status)}, spent ${usd(after.spent_usd)} of ${usd(after.limit_usd)}.`;
      toast(`${label}: ${b.qualified} is ${statusLabel(after.status)}`);
    } catch (e) {
      result.className = 'result error';
      result.textContent = `${label} refused: ${errorText(e)}`;
    }
    await refresh();
  };
  const save = h('button', { type: 'submit', id: 'save-settings' }, 'Save settings');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      const patch = {};
      if (limit.value.trim() !== initial.limit) patch.limit_usd = limit.value.trim();
      if (warn.value !== initial.warn) patch.warn_percent = Number(warn.value);
      if (crit.value !== initial.crit) patch.critical_percent = Number(crit.value);
      if (grace.value !== initial.grace) patch.grace_seconds = Number(grace.value);
      if (period.value.trim() !== initial.period) patch.period = period.value.trim();
      if (!Object.keys(patch).length) {
        result.textContent = 'Nothing changed.';
        return;
      }
      const list = Object.entries(patch).map(([k, v]) => `${k} = ${v}`).join(', ');
      if (!(await confirmDialog('Change settings?', `${b.qualified}: ${list}`, 'Save'))) return;
      await act('Settings saved', async () => {
        const after = await api.patch(budgetPath(b.qualified), patch);
        Object.assign(initial, { limit: after.limit_usd, warn: String(after.warn_percent),
          crit: String(after.critical_percent), grace: String(after.grace_seconds), period: after.period });
        return after;
      });
    },
  }, h('div', { class: 'controls' }, limitL, warnL, critL, graceL, periodL, save));
  const button = (id, label, question, action, body, danger) => {
    const btn = h('button', { type: 'button', id, class: danger ? 'danger' : 'ghost' }, label);
    btn.addEventListener('click', async () => {
      if (!(await confirmDialog(`${label}?`, question, label, danger))) return;
      await act(label, () => api.post(budgetPath(b.qualified, action), body));
    });
    return btn;
  };
  panel.replaceChildren(
    h('h2', { id: 'admin-h' }, 'Admin'),
    form,
    h('div', { class: 'actions' },
      button('act-reset', 'Reset spend', `Set ${b.qualified}'s spend for this period back to zero?`, 'reset', undefined),
      button('act-suspend', 'Suspend', `Suspend ${b.qualified} now? It stays suspended until someone restores it.`, 'suspend', undefined, true),
      button('act-restore', 'Restore', `Restore ${b.qualified}'s access now, even if it is over budget?`, 'restore', { force: true }),
      button('act-exempt', 'Exempt', `Exempt ${b.qualified}: track its spend, never enforce?`, 'exempt', undefined),
      button('act-unexempt', 'Lift exemption', `Enforce ${b.qualified}'s budget again?`, 'exempt', { off: true })),
    result);
}

// ---- audit -----------------------------------------------------------------------------------

function renderAudit() {
  const f = { principal: '', kind: '', actor: '' };
  const principal = h('input', { id: 'a-principal', type: 'search', placeholder: 'ACCOUNT:NAME' });
  const kind = h('input', { id: 'a-kind', type: 'search', placeholder: 'e.g. transition' });
  const actor = h('input', { id: 'a-actor', type: 'search', placeholder: 'e.g. system' });
  const body = h('tbody', { id: 'audit-rows' });
  const msg = h('p', { class: 'muted', role: 'status' });
  const form = h('form', { class: 'toolbar', onsubmit: (e) => {
    e.preventDefault();
    f.principal = principal.value.trim();
    f.kind = kind.value.trim();
    f.actor = actor.value.trim();
    refresh();
  } },
  h('label', { for: 'a-principal' }, 'Principal', principal),
  h('label', { for: 'a-kind' }, 'Kind contains', kind),
  h('label', { for: 'a-actor' }, 'Actor contains', actor),
  h('button', { type: 'submit' }, 'Apply'));
  main.replaceChildren(h('h1', {}, 'Audit log'), h('p', { class: 'live', id: 'live' }, 'Live'),
    h('section', { class: 'panel' }, form, msg, h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Time', 'Principal', 'Kind', 'Change', 'Actor', 'Trigger'].map((c) => h('th', { scope: 'col' }, c)))),
      body))));
  async function refresh() {
    let entries;
    try {
      entries = await api.get('/v1/audit' + query({ principal: f.principal, limit: 1000 }));
      msg.textContent = '';
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        msg.textContent = `No principal ${f.principal}.`;
        body.replaceChildren();
        return;
      }
      throw e;
    }
    const rows = entries.filter((e) => (!f.kind || e.kind.includes(f.kind)) && (!f.actor || e.actor.includes(f.actor)))
      .sort((x, y) => y.id - x.id).slice(0, 500);
    body.replaceChildren(...rows.map((e) => h('tr', {},
      h('td', {}, when(e.at)), h('td', { class: 'name' }, e.principal ? principalLink(e.principal) : '—'),
      h('td', {}, e.kind), h('td', {}, e.from || e.to ? [badge(e.from || '—'), ' → ', badge(e.to || '—')] : ''),
      h('td', {}, e.actor), h('td', {}, e.trigger || ''))));
    if (!rows.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No entries.')));
  }
  return startPolling(refresh);
}

// ---- prices ----------------------------------------------------------------------------------

async function renderPrices() {
  stopPolling();
  const [catalog, unpriced] = await Promise.all([api.get('/v1/prices'), api.get('/v1/unpriced_models')]);
  const rate = (v) => (v === null || v === undefined ? '—' : usd(v));
  main.replaceChildren(h('h1', {}, 'Prices'),
    h('p', {}, `Catalog ${catalog.version}, effective ${catalog.effective_date}. Source: `, h('code', {}, catalog.source)),
    h('section', { class: 'panel', 'aria-labelledby': 'unpriced-h' }, h('h2', { id: 'unpriced-h' }, 'Unpriced models seen'),
      unpriced.length ? h('ul', {}, unpriced.map((u) => h('li', {}, h('code', {}, u.model),
        ` — first seen ${when(u.first_seen)}, ${u.requests} requests (priced by the fallback rule)`)))
        : h('p', { class: 'muted' }, 'None: every model seen is in the catalog.')),
    h('section', { class: 'panel', 'aria-labelledby': 'catalog-h' }, h('h2', { id: 'catalog-h' }, 'Per million tokens'),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Model', 'Input', 'Output', 'Cache read', 'Cache write', 'Source']
          .map((c, i) => h('th', { scope: 'col', class: i > 0 && i < 5 ? 'num' : '' }, c)))),
        h('tbody', {}, catalog.models.map((m) => h('tr', {},
          h('td', { class: 'name' }, h('div', {}, m.name), h('code', { class: 'muted' }, m.model_id)),
          h('td', { class: 'num' }, rate(m.input_per_million_usd)), h('td', { class: 'num' }, rate(m.output_per_million_usd)),
          h('td', { class: 'num' }, rate(m.cache_read_per_million_usd)), h('td', { class: 'num' }, rate(m.cache_write_per_million_usd)),
          h('td', { class: 'muted' }, m.source))))))));
}

// ---- health ----------------------------------------------------------------------------------

// Prometheus text -> [{name, labels, value}] (counters are counts, never money).
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const kv of (m[2] || '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[kv[1]] = kv[2];
    out.push({ name: m[1], labels, value: m[3] });
  }
  return out;
}

function renderHealth() {
  const cards = h('div', { class: 'cards', id: 'health-cards' });
  const sources = h('tbody', { id: 'sources' });
  main.replaceChildren(h('h1', {}, 'Health'), h('p', { class: 'live', id: 'live' }, 'Live'), cards,
    h('section', { class: 'panel', 'aria-labelledby': 'src-h' }, h('h2', { id: 'src-h' }, 'Ingest by source (since start)'),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Source', 'Applied', 'Duplicates', 'Rejected', 'Rate (records/s)', 'Last record']
          .map((c, i) => h('th', { scope: 'col', class: i ? 'num' : '' }, c)))), sources))));
  let last = null;
  async function refresh() {
    const [health, text] = await Promise.all([api.get('/v1/health'), api.get('/metrics')]);
    const at = Date.now();
    const bySource = {};
    for (const m of parseMetrics(text)) {
      if (m.name !== 'budgeteer_records_total') continue;
      const s = (bySource[m.labels.source] ??= { applied: 0, duplicate: 0, rejected: 0 });
      s[m.labels.outcome] = Number(m.value);
    }
    let rate = 0;
    const rates = {};
    for (const [src, s] of Object.entries(bySource)) {
      const before = last && last.bySource[src] ? last.bySource[src].applied : null;
      rates[src] = before === null ? null : ((s.applied - before) * 1000) / Math.max(1, at - last.at);
      rate += rates[src] || 0;
    }
    const rejected = Object.values(bySource).reduce((n, s) => n + (s.rejected || 0), 0);
    const yes = (b) => (b ? 'yes' : 'NO');
    cards.replaceChildren(
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Ledger writable'), h('div', { class: 'value' }, yes(health.ledger_writable))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Scheduler running'), h('div', { class: 'value' }, yes(health.scheduler_running))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Ingest rate'), h('div', { class: 'value', id: 'ingest-rate' }, last ? `${rate.toFixed(1)}/s` : '…')),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Rejected records'), h('div', { class: 'value', id: 'rejected' }, String(rejected))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Outbox backlog'), h('div', { class: 'value', id: 'backlog' }, String(health.outbox.pending + health.outbox.failed))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Dead actions'), h('div', { class: 'value', id: 'dead' }, String(health.outbox.dead))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Last record seen'), h('div', {}, when(health.last_record_at))));
    sources.replaceChildren(...Object.entries(bySource).map(([src, s]) => h('tr', {},
      h('td', {}, src), h('td', { class: 'num' }, String(s.applied)), h('td', { class: 'num' }, String(s.duplicate || 0)),
      h('td', { class: 'num' }, String(s.rejected || 0)), h('td', { class: 'num' }, rates[src] === null ? '…' : rates[src].toFixed(1)),
      h('td', { 'data-last-record': src }, when((health.sources && health.sources[src] || {}).last_record_at)))));
    if (!sources.children.length) sources.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Nothing ingested since the server started.')));
    last = { at, bySource };
  }
  return startPolling(refresh);
}

// ---- router ----------------------------------------------------------------------------------

async function route() {
  stopPolling();
  if (!token()) return renderSignIn();
  if (!state.me) {
    try {
      state.me = await api.get('/v1/whoami');
    } catch (e) {
      clearToken();
      return renderSignIn(e instanceof ApiError && e.status === 401 ? 'Please sign in again.' : errorText(e));
    }
  }
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  document.getElementById('whoami').textContent = `${state.me.name} (${state.me.role})`;
  document.body.dataset.role = state.me.role;
  const hash = location.hash || '#/';
  for (const a of document.querySelectorAll('#nav a')) {
    const active = a.getAttribute('href') === hash || (hash.startsWith('#/p/') && a.getAttribute('href') === '#/');
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    if (hash.startsWith('#/p/')) await renderPrincipal(decodeURIComponent(hash.slice(4)));
    else if (hash === '#/audit') await renderAudit();
    else if (hash === '#/prices') await renderPrices();
    else if (hash === '#/health') await renderHealth();
    else await renderOverview();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signOut();
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(e)));
  }
}

// ---- theme -----------------------------------------------------------------------------------

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function currentTheme() {
  return document.documentElement.dataset.theme ||
    (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}

applyTheme(localStorage.getItem('budgeteer.theme'));
const themeButton = document.getElementById('theme');
const syncThemeButton = () => themeButton.setAttribute('aria-pressed', String(currentTheme() === 'dark'));
syncThemeButton();
themeButton.addEventListener('click', () => {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  localStorage.setItem('budgeteer.theme', next);
  applyTheme(next);
  syncThemeButton();
});
document.getElementById('signout').addEventListener('click', signOut);
window.addEventListener('hashchange', () => { route(); main.focus(); });
route();
