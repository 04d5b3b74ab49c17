/* lib/fmt.js: building DOM and formatting values. Text always goes in as
 * text nodes (never innerHTML), so a name like "<b>" is shown, not run. */

/* el('button', {class: 'x', onclick: fn, 'aria-label': 'y'}, 'text', child)
 * -> an Element. attrs: class, dir, on<event> (a function),
 * hidden/disabled/checked (booleans), value, anything else (aria-*, for,
 * id...) as an attribute. No style attribute: the CSP forbids inline
 * styles (set e.style.x in code, or use a class). Children: strings, numbers, Nodes, arrays of them; null and
 * false are skipped. */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'value' && 'value' in e) e.value = v;
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/* Removes every child of e. */
export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

/* Digits after the decimal point of an ISO 4217 currency (JPY 0, KWD 3),
 * as Intl knows them. */
export function minorDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits;
  } catch (e) {
    return 2;
  }
}

/* An amount in minor units (a string: 64-bit integers come as strings in
 * the JSON) in its currency: money('123456', 'EUR') -> "€1,234.56",
 * money('1500', 'JPY') -> "¥1,500". Exact: the division is done on the
 * digits, not in floating point, before Intl formats it. */
export function money(amountMinor, currency) {
  if (amountMinor === null || amountMinor === undefined || amountMinor === '') return '';
  const cur = (currency || '').toUpperCase();
  const digits = cur ? minorDigits(cur) : 2;
  let s = String(amountMinor).trim();
  let neg = false;
  if (s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  }
  if (!/^\d+$/.test(s)) return String(amountMinor) + (cur ? ' ' + cur : '');
  s = s.padStart(digits + 1, '0');
  const whole = s.slice(0, s.length - digits) || '0';
  const frac = digits ? s.slice(s.length - digits) : '';
  const text = (neg ? '-' : '') + whole + (digits ? '.' + frac : '');
  if (!cur) return text;
  try {
    /* Intl takes a decimal string exactly (no float rounding). */
    return new Intl.NumberFormat(undefined, {
      style: 'currency', currency: cur, minimumFractionDigits: digits, maximumFractionDigits: digits,
    }).format(text);
  } catch (e) {
    return text + ' ' + cur;
  }
}

/* A date: an ISO string, a Date, or microseconds since 1970 (a number or a
 * string, as the API's *_us fields are). "" for none or 0. */
export function date(v, withTime = true) {
  if (v === null || v === undefined || v === '' || v === '0' || v === 0) return '';
  let d;
  if (v instanceof Date) d = v;
  else if (typeof v === 'number' || /^\d+$/.test(String(v))) d = new Date(Number(v) / 1000);
  else d = new Date(v);
  if (isNaN(d.getTime())) return String(v);
  return withTime
    ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
    : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/* A sentence for an error from api(): the problem's title, detail and hint. */
export function problemText(err) {
  if (!err) return '';
  const p = err.problem || {};
  const parts = [p.title || err.message || 'something went wrong'];
  if (p.detail) parts.push(p.detail);
  if (p.hint) parts.push('(' + p.hint + ')');
  return parts.join(': ').replace(/: \(/, ' (');
}

/* A percentage from a ratio (0.25 -> "25%"). */
export function pct(ratio, digits = 0) {
  if (ratio === null || ratio === undefined || isNaN(Number(ratio))) return '–';
  return (Number(ratio) * 100).toFixed(digits) + '%';
}

/* A standard error box for a page. */
export function errorBox(err) {
  return el('p', { class: 'error', role: 'alert' }, problemText(err));
}
