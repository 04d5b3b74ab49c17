/* pages/home.js: the morning page. Live KPIs from the analytics reports
 * (kpis, pipeline) and, for support roles, the support figures, redrawn
 * without a reload whenever the event feed (GET /v1/events, lib/events.js)
 * says something changed anywhere; and the latest events themselves, with
 * who did what. Analytics applies an event a moment after its source
 * publishes it, so a change is fetched at once and again shortly after. */
import { el, clear, money, date, pct, problemText } from '../lib/fmt.js';

const FEED_MAX = 15;

/* Sums [{currency, amount_minor}] lists per currency. */
function byCurrency(lists) {
  const out = new Map();
  for (const list of lists)
    for (const x of list || []) {
      if (!x || !x.currency) continue;
      const prev = out.get(x.currency) || 0n;
      out.set(x.currency, prev + BigInt(x.amount_minor || 0));
    }
  return out;
}

function moneyList(map) {
  if (!map.size) return '–';
  return [...map.entries()].map(([c, v]) => money(v.toString(), c)).join(' · ');
}

function card(id, label, value, hint) {
  return el('div', { class: 'card kpi', id: 'kpi-' + id, 'data-kpi': id },
    el('div', { class: 'value' }, value), el('div', { class: 'label' }, label),
    hint ? el('div', { class: 'muted' }, hint) : null);
}

function health(c) {
  return typeof c.health === 'number' ? c.health : null;
}

async function load(ctx) {
  const cards = [];
  const [kpis, pipeline, support] = await Promise.allSettled([
    ctx.api('GET', '/v1/reports/kpis'),
    ctx.api('GET', '/v1/reports/pipeline'),
    ctx.api('GET', '/v1/reports/support'),
  ]);
  if (kpis.status === 'fulfilled') {
    const cs = kpis.value.customers || [];
    const hs = cs.map(health).filter((h) => h !== null);
    const avg = hs.length ? Math.round(hs.reduce((a, b) => a + b, 0) / hs.length) : null;
    cards.push(card('customers', 'Customers', String(cs.length)));
    cards.push(card('health', 'Average health', avg === null ? '–' : String(avg)));
    cards.push(card('at-risk', 'At risk (health under 40)', String(hs.filter((h) => h < 40).length)));
    cards.push(card('ltv', 'Lifetime value', moneyList(byCurrency(cs.map((c) => c.ltv)))));
  } else if (kpis.reason.status !== 403) {
    cards.push(el('p', { class: 'error', role: 'alert' }, 'KPIs: ' + problemText(kpis.reason)));
  }
  if (pipeline.status === 'fulfilled') {
    const p = pipeline.value;
    const open = (p.stages || []).reduce((a, s) => a + Number(s.deals || 0), 0);
    const weighted = byCurrency([(p.stages || []).map((s) => ({ currency: s.currency, amount_minor: s.weighted_minor }))]);
    cards.push(card('open-deals', 'Open deals', String(open)));
    cards.push(card('weighted', 'Weighted pipeline', moneyList(weighted)));
    cards.push(card('win-rate', 'Win rate', p.win_rate_bp === null || p.win_rate_bp === undefined ? '–' : pct(p.win_rate_bp / 10000)));
  }
  if (support.status === 'fulfilled') {
    const v = support.value || {};
    const doc = typeof v.json === 'string' ? JSON.parse(v.json) : v;
    const b = doc.backlog || {};
    const count = (o) => (o && typeof o === 'object' ? Object.values(o).reduce((a, x) => a + (Number(x) || 0), 0) : null);
    const open = typeof b.total === 'number' ? b.total : count(b.by_status);
    if (open !== null) cards.push(card('backlog', 'Open tickets', String(open)));
    const csat = doc.csat || {};
    if (csat.average !== undefined && csat.average !== null) cards.push(card('csat', 'CSAT (average of 5)', String(csat.average)));
  }
  return cards;
}

function eventLine(ev) {
  const who = ev.actor || ev.source || '';
  return el('li', { 'data-type': ev.type },
    el('span', { class: 'muted' }, date(ev.time)), ' ',
    el('strong', {}, (ev.type || '').replace(/^crm\./, '').replace(/\.v\d+$/, '')), ' ',
    /^[0-9a-f-]{36}$/.test(ev.subject || '')
      ? el('a', { href: '#/customer/' + ev.subject, 'aria-label': 'customer ' + ev.subject }, 'customer')
      : el('span', { dir: 'auto' }, ev.subject || ''), ' ',
    who ? el('span', { class: 'muted' }, 'by ', el('span', { dir: 'auto' }, who)) : null);
}

export async function render(root, ctx) {
  root.appendChild(el('h1', {}, 'Home'));
  const status = el('p', { class: 'muted', id: 'live-status', 'aria-live': 'polite' }, 'Live: connecting…');
  const cards = el('div', { class: 'cards', id: 'kpis', 'aria-live': 'polite', 'aria-busy': 'true' });
  const feed = el('ol', { class: 'timeline', id: 'feed', 'aria-label': 'Latest events' });
  root.append(status, cards, el('h2', {}, 'Latest events'), feed);

  let seq = 0;
  let timers = [];
  const refresh = async () => {
    const mine = ++seq;
    let out;
    try {
      out = await load(ctx);
    } catch (err) {
      out = [el('p', { class: 'error', role: 'alert' }, problemText(err))];
    }
    if (mine !== seq) return; /* a newer refresh has started */
    const before = new Map([...cards.querySelectorAll('[data-kpi]')].map((c) => [c.dataset.kpi, c.textContent]));
    clear(cards).append(...out);
    for (const c of cards.querySelectorAll('[data-kpi]'))
      if (before.has(c.dataset.kpi) && before.get(c.dataset.kpi) !== c.textContent) c.classList.add('changed');
    cards.setAttribute('aria-busy', 'false');
    cards.dataset.updated = String(Date.now());
  };
  await refresh();

  ctx.onEvent('', (ev) => {
    status.textContent = 'Live: last change ' + date(ev.time);
    feed.insertBefore(eventLine(ev), feed.firstChild);
    while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
    /* now, and again once analytics has applied the event */
    for (const t of timers) clearTimeout(t);
    timers = [setTimeout(refresh, 50), setTimeout(refresh, 400), setTimeout(refresh, 1200)];
  });
  ctx.onLeave(() => timers.forEach(clearTimeout));
  status.textContent = 'Live: waiting for changes';
}
