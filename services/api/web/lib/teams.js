/* lib/teams.js: what the marketing, support and data-quality pages share:
 * names for enum values, basis points as percentages, small tables and
 * figure lists with stable test hooks (data-figure), and the business-time
 * arithmetic of the SLA countdowns (the same calendar crm-support counts
 * in: weekly hours, holidays, an IANA zone or a fixed offset). */
import { el } from './fmt.js';

/* 'CAMPAIGN_STATUS_RUNNING' -> 'running'; prefix is dropped when given. */
export function enumName(v, prefix) {
  if (v === undefined || v === null || v === '') return '';
  let s = String(v);
  if (prefix && s.startsWith(prefix)) s = s.slice(prefix.length);
  return s.toLowerCase().replace(/_/g, ' ');
}

/* A 64-bit integer of the JSON (a string) or a number, as a Number; 0 when
 * absent (proto3 leaves zero values out). */
export function int(v) {
  if (v === undefined || v === null || v === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/* Basis points as a percentage with two decimals ("12.34%"); '–' when the
 * figure is not defined (defined === false). */
export function bp(v, defined = true) {
  if (!defined || v === undefined || v === null) return '–';
  return (int(v) / 100).toFixed(2) + '%';
}

/* A list of figures: [{key, label, value, raw}] -> a <dl> whose values
 * carry data-figure="key" (and data-value, the figure before formatting,
 * when raw is given), so tests read exactly what is shown. */
export function figures(list, attrs = {}) {
  const dl = el('dl', { class: 'figures', ...attrs });
  for (const f of list) {
    dl.appendChild(el('div', { class: 'figure' },
      el('dt', {}, f.label),
      el('dd', { 'data-figure': f.key, 'data-value': f.raw, class: f.class || null }, f.value === '' ? '–' : f.value)));
  }
  return dl;
}

/* A table with a caption: head = [label | {label, num}], rows = arrays of
 * cells (strings, Nodes, or {value, num, attrs}). */
export function table(caption, head, rows, attrs = {}) {
  const cell = (tag, c) => {
    if (c && typeof c === 'object' && !(c instanceof Node) && !Array.isArray(c) && 'value' in c)
      return el(tag, { class: c.num ? 'num' : null, ...(c.attrs || {}) }, c.value);
    return el(tag, {}, c);
  };
  const thead = el('thead', {}, el('tr', {}, head.map((h) => {
    const th = cell('th', h && typeof h === 'object' && !(h instanceof Node) ? { value: h.label, num: h.num } : h);
    th.setAttribute('scope', 'col');
    return th;
  })));
  const tbody = el('tbody', {});
  for (const r of rows) {
    const tr = el('tr', r.attrs || {});
    for (const c of r.cells || r) tr.appendChild(cell('td', c));
    tbody.appendChild(tr);
  }
  return el('div', { class: 'table-wrap' },
    el('table', attrs, caption ? el('caption', {}, caption) : null, thead, tbody));
}

/* Roles: whether the principal holds any of these (admin holds all). */
export function hasRole(me, ...roles) {
  const mine = (me && me.roles) || [];
  return mine.includes('admin') || roles.some((r) => mine.includes(r));
}

/* Durations as "2h 05m" ("3d 4h" past a day); sign ignored. */
export function duration(ms) {
  let m = Math.round(Math.abs(ms) / 60000);
  const d = Math.floor(m / 1440);
  m -= d * 1440;
  const h = Math.floor(m / 60);
  m -= h * 60;
  if (d) return d + 'd ' + h + 'h';
  if (h) return h + 'h ' + String(m).padStart(2, '0') + 'm';
  return m + 'm';
}

/* ---- business time --------------------------------------------------- */

const WEEKDAYS = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/* The calendar's local date ("YYYY-MM-DD"), ISO weekday and minute of the
 * day (with fraction) at instant ms. */
function localAt(cal, ms) {
  if (cal.time_zone) {
    const f = new Intl.DateTimeFormat('en-GB', {
      timeZone: cal.time_zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
      minute: '2-digit', second: '2-digit', weekday: 'short', hourCycle: 'h23',
    });
    const p = {};
    for (const x of f.formatToParts(new Date(ms))) p[x.type] = x.value;
    return {
      date: p.year + '-' + p.month + '-' + p.day, weekday: WEEKDAYS[p.weekday],
      minute: Number(p.hour) * 60 + Number(p.minute) + Number(p.second) / 60 + (ms % 1000) / 60000,
    };
  }
  const d = new Date(ms + int(cal.utc_offset_minutes) * 60000);
  return {
    date: d.toISOString().slice(0, 10), weekday: d.getUTCDay() || 7,
    minute: d.getUTCHours() * 60 + d.getUTCMinutes() + d.getUTCSeconds() / 60 + d.getUTCMilliseconds() / 60000,
  };
}

/* Business milliseconds in [a, b) under calendar cal (a <= b). A calendar
 * without hours counts every minute, as an unset calendar does not stop
 * any clock. Walks day by day: at most `maxDays` days are looked at. */
export function businessMs(cal, a, b, maxDays = 400) {
  if (b <= a) return 0;
  const hours = (cal && cal.hours) || [];
  if (!hours.length) return b - a;
  const holidays = new Set((cal && cal.holidays) || []);
  let t = a;
  let total = 0;
  for (let i = 0; i < maxDays * 3 && t < b; i++) {
    const l = localAt(cal, t);
    const h = hours.find((x) => int(x.weekday) === l.weekday);
    const open = h ? int(h.open_minute) : 0;
    const close = h ? int(h.close_minute) : 0;
    const worked = h && close > open && !holidays.has(l.date);
    let next;
    if (worked && l.minute < open) {
      next = t + (open - l.minute) * 60000;
    } else if (worked && l.minute < close) {
      next = Math.min(b, t + (close - l.minute) * 60000);
      total += next - t;
    } else {
      next = t + (1440 - l.minute) * 60000;
    }
    /* Never stand still (a daylight-saving edge can round to zero). */
    t = Math.max(next, t + 1000);
  }
  return total;
}

/* The state of one SLA target of ticket t at instant now (ms):
 * {state: 'met'|'breached'|'paused'|'running'|'none', ms (business time
 * left, negative when overdue), text}. */
export function slaTarget(t, which, cal, now) {
  const due = int(t[which + '_due_us']) / 1000;
  const done = which === 'first_response' ? int(t.first_responded_at_us) : int(t.resolved_at_us);
  const breached = !!t[which + '_breached'];
  if (!due) return { state: 'none', ms: 0, text: 'no target' };
  if (done) return { state: breached ? 'breached' : 'met', ms: 0, text: breached ? 'breached' : 'met' };
  if (int(t.sla_paused_at_us)) {
    const left = int(t[which + '_remaining_us']) / 1000;
    return {
      state: breached ? 'breached' : 'paused', ms: left,
      text: (breached ? 'breached, ' : '') + 'paused: ' + duration(left) + ' left',
    };
  }
  if (now >= due) {
    const over = businessMs(cal, due, now);
    return { state: 'breached', ms: -over, text: 'breached ' + duration(over) + ' ago' };
  }
  const left = businessMs(cal, now, due);
  return {
    state: breached ? 'breached' : 'running', ms: left,
    text: (breached ? 'breached, ' : '') + duration(left) + ' left',
  };
}
