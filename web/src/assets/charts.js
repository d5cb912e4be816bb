// Hand-written SVG charts (no chart library): vertical bars for spend over time and horizontal
// bars for spend by model. Labels and tooltips show the exact amounts; numbers are used only
// to size the bars.
import { usd } from './format.js';

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function empty(message) {
  const p = document.createElement('p');
  p.className = 'muted';
  p.textContent = message;
  return p;
}

// points: [{label, value: "decimal"}], oldest first.
export function timeChart(points, { title }) {
  if (!points.length) return empty('No usage in this range.');
  const w = 640;
  const h = 220;
  const left = 56;
  const bottom = 28;
  const top = 10;
  const values = points.map((p) => Number(p.value));
  const max = Math.max(...values, 0) || 1;
  const svg = el('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': title });
  svg.append(el('title', {}, title));
  const plotH = h - bottom - top;
  const step = (w - left - 8) / points.length;
  const barW = Math.max(1, Math.min(36, step * 0.8));
  for (const frac of [0, 0.5, 1]) {
    const y = top + plotH * (1 - frac);
    svg.append(el('line', { x1: left, x2: w - 4, y1: y, y2: y, class: 'axis' }));
    svg.append(el('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' },
      '$' + (max * frac).toPrecision(3).replace(/\.?0+$/, '')));
  }
  points.forEach((p, i) => {
    const bh = Math.max(values[i] > 0 ? 1 : 0, (values[i] / max) * plotH);
    const x = left + i * step + (step - barW) / 2;
    const rect = el('rect', { x, y: top + plotH - bh, width: barW, height: bh, class: 'bar-rect' });
    rect.append(el('title', {}, `${p.label}: ${usd(p.value)}`));
    svg.append(rect);
  });
  const labelEvery = Math.ceil(points.length / 6);
  points.forEach((p, i) => {
    if (i % labelEvery !== 0 && i !== points.length - 1) return;
    svg.append(el('text', { x: left + i * step + step / 2, y: h - 8, 'text-anchor': 'middle' }, p.label));
  });
  const wrap = document.createElement('div');
  wrap.className = 'chart';
  wrap.append(svg);
  return wrap;
}

// rows: [{label, value: "decimal"}], largest first.
export function barList(rows, { title }) {
  if (!rows.length) return empty('No usage yet.');
  const w = 640;
  const rowH = 26;
  const h = rows.length * rowH + 6;
  const labelW = 250;
  const valueW = 90;
  const max = Math.max(...rows.map((r) => Number(r.value)), 0) || 1;
  const svg = el('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': title });
  svg.append(el('title', {}, title));
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    const label = r.label.length > 38 ? r.label.slice(0, 36) + '…' : r.label;
    svg.append(el('text', { x: 0, y: y + 15 }, label));
    const bw = Math.max(1, (Number(r.value) / max) * (w - labelW - valueW));
    const rect = el('rect', { x: labelW, y: y + 3, width: bw, height: 16, class: 'bar-rect alt' });
    rect.append(el('title', {}, `${r.label}: ${usd(r.value)}`));
    svg.append(rect);
    svg.append(el('text', { x: w - 2, y: y + 15, 'text-anchor': 'end' }, usd(r.value)));
  });
  const wrap = document.createElement('div');
  wrap.className = 'chart';
  wrap.append(svg);
  return wrap;
}
