/* pages/campaign.js (#/campaign/:id): one campaign's results as marketing
 * counts them (GET /v1/campaigns/{id}/results, the figures of `crmctl
 * campaign results`): reach, responses by type and send decisions by
 * reason as charts, cost against attributed revenue over time (by_day),
 * and revenue and ROI under the three attribution models. Every chart has
 * its numbers in a table beside it, for screen readers and for tests. */
import { el, clear, money, errorBox, date } from '../lib/fmt.js';
import { chart, chartBox } from '../lib/charts.js';
import { bp, enumName, figures, int, table } from '../lib/teams.js';

const MODELS = {
  ATTRIBUTION_MODEL_LAST_TOUCH: 'last touch',
  ATTRIBUTION_MODEL_FIRST_TOUCH: 'first touch',
  ATTRIBUTION_MODEL_LINEAR: 'linear',
};

function majorUnits(currency) {
  try {
    return Math.pow(10, new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits);
  } catch (e) {
    return 100;
  }
}

function section(title, ...children) {
  return el('section', { class: 'card', 'aria-label': title }, el('h2', {}, title), ...children);
}

/* Draws results r of campaign c (its show reply) into body. */
function draw(body, c, r) {
  const cur = r.currency || (c.campaign && c.campaign.currency) || '';
  const m = (v) => money(String(int(v)), cur);
  const b = r.budget || {};
  const camp = c.campaign || {};
  body.appendChild(el('p', { class: 'muted' },
    'Status ', el('strong', { 'data-figure': 'status' }, enumName(r.status || camp.status, 'CAMPAIGN_STATUS_') || 'draft'),
    camp.channels && camp.channels.length ? ' · channels ' + camp.channels.map((x) => enumName(x, 'CHANNEL_')).join(', ') : '',
    camp.owner ? ' · owner ' : '', camp.owner ? el('span', { dir: 'auto' }, camp.owner) : '',
    camp.start_date ? ' · from ' + camp.start_date : '', camp.end_date ? ' to ' + camp.end_date : '',
    camp.start_at_us && int(camp.start_at_us) ? ' · starts ' + date(camp.start_at_us) : ''));

  const fig = (key, label, v, fmt = (x) => String(int(x))) => ({ key, label, raw: String(int(v)), value: fmt(v) });
  body.appendChild(section('Figures', figures([
    fig('recipients', 'Recipients', r.recipients),
    fig('sent', 'Sent', r.sent),
    fig('delivered', 'Delivered', r.delivered),
    fig('delivery_failed', 'Delivery failed', r.delivery_failed),
    fig('suppressed', 'Suppressed', r.suppressed),
    fig('deferred', 'Deferred', r.deferred),
    fig('responders', 'Responders', r.responders),
    { key: 'response_rate_bp', label: 'Response rate', raw: r.response_rate_defined ? String(int(r.response_rate_bp)) : '',
      value: bp(r.response_rate_bp, !!r.response_rate_defined) },
    fig('conversions', 'Conversions', r.conversions),
    fig('revenue_minor', 'Revenue (last touch)', r.revenue_minor, m),
    fig('cost_minor', 'Cost', r.cost_minor, m),
    { key: 'roi_bp', label: 'ROI', raw: r.roi_defined ? String(int(r.roi_bp)) : '', value: bp(r.roi_bp, !!r.roi_defined),
      class: r.roi_defined ? (int(r.roi_bp) < 0 ? 'bad' : 'good') : null },
    { key: 'cost_per_response_minor', label: 'Cost per response',
      raw: r.cost_per_response_defined ? String(int(r.cost_per_response_minor)) : '',
      value: r.cost_per_response_defined ? m(r.cost_per_response_minor) : '–' },
    { key: 'cost_per_conversion_minor', label: 'Cost per conversion',
      raw: r.cost_per_conversion_defined ? String(int(r.cost_per_conversion_minor)) : '',
      value: r.cost_per_conversion_defined ? m(r.cost_per_conversion_minor) : '–' },
    fig('budget_minor', 'Budget', b.budget_minor, m),
    fig('spent_minor', 'Spent', b.spent_minor, m),
    { ...fig('remaining_minor', 'Remaining', b.remaining_minor, m), class: b.overspent ? 'bad' : null },
    fig('unsolicited_responses', 'Unsolicited responses', r.unsolicited_responses),
  ], { id: 'campaign-figures' })));

  const grid = el('div', { class: 'grid' });
  body.appendChild(grid);

  /* Responses by type. */
  const resp = (r.responses || []).map((x) => ({ type: enumName(x.response, 'RESPONSE_TYPE_'), raw: x.response, n: int(x.count) }));
  const rc = chartBox('Responses by type: ' + resp.map((x) => x.type + ' ' + x.n).join(', '));
  grid.appendChild(section('Responses by type', resp.length ? rc.box : el('p', { class: 'muted' }, 'No responses yet.'),
    table(null, ['Response', { label: 'Count', num: true }],
      resp.map((x) => ({ attrs: { 'data-response': x.raw }, cells: [x.type, { value: String(x.n), num: true }] })),
      { id: 'responses' })));
  if (resp.length) {
    chart(rc.canvas, {
      type: 'bar',
      data: { labels: resp.map((x) => x.type), datasets: [{ label: 'responses', data: resp.map((x) => x.n) }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { ticks: { precision: 0 } } } },
    });
  }

  /* Suppressed and deferred recipients by reason. */
  const reasons = {};
  for (const x of r.suppressed_by_reason || []) (reasons[x.reason] = reasons[x.reason] || [0, 0])[0] = int(x.count);
  for (const x of r.deferred_by_reason || []) (reasons[x.reason] = reasons[x.reason] || [0, 0])[1] = int(x.count);
  const names = Object.keys(reasons).sort();
  const why = chartBox('Recipients not sent to, by reason: ' + names.map((k) => k + ' ' + reasons[k].join('/')).join(', '));
  grid.appendChild(section('Not sent, by reason', names.length ? why.box : el('p', { class: 'muted' }, 'Nobody suppressed or deferred.'),
    table(null, ['Reason', { label: 'Suppressed', num: true }, { label: 'Deferred', num: true }],
      names.map((k) => ({ attrs: { 'data-reason': k }, cells: [k, { value: String(reasons[k][0]), num: true }, { value: String(reasons[k][1]), num: true }] })),
      { id: 'reasons' })));
  if (names.length) {
    chart(why.canvas, {
      type: 'bar',
      data: {
        labels: names,
        datasets: [{ label: 'suppressed', data: names.map((k) => reasons[k][0]) },
          { label: 'deferred', data: names.map((k) => reasons[k][1]) }],
      },
      options: { indexAxis: 'y', scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true } } },
    });
  }

  /* Cost against attributed revenue over time, cumulative by day. */
  const unit = majorUnits(cur || 'EUR');
  const days = r.by_day || [];
  let cost = 0;
  let rev = 0;
  const cum = days.map((d) => {
    cost += int(d.cost_minor);
    rev += int(d.revenue_minor);
    return { date: d.date, cost, rev };
  });
  /* The lines start from nothing spent and nothing earned. */
  const line = [{ date: 'start', cost: 0, rev: 0 }, ...cum];
  const ot = chartBox('Cumulative cost and attributed revenue by day in ' + cur);
  grid.appendChild(section('Cost against revenue over time (' + cur + ')',
    days.length ? ot.box : el('p', { class: 'muted' }, 'No expense or revenue yet.'),
    table(null, ['Day', { label: 'Cost', num: true }, { label: 'Revenue', num: true },
      { label: 'Cost to date', num: true }, { label: 'Revenue to date', num: true }],
    cum.map((d, i) => ({ attrs: { 'data-day': d.date }, cells: [d.date, { value: m(days[i].cost_minor), num: true },
      { value: m(days[i].revenue_minor), num: true }, { value: m(d.cost), num: true }, { value: m(d.rev), num: true }] })),
    { id: 'by-day' })));
  if (days.length) {
    chart(ot.canvas, {
      type: 'line',
      data: {
        labels: line.map((d) => d.date),
        datasets: [{ label: 'cost to date', data: line.map((d) => d.cost / unit), stepped: true },
          { label: 'revenue to date', data: line.map((d) => d.rev / unit), stepped: true }],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });
  }

  /* The three attribution models side by side. */
  const att = (r.attribution || []).map((a) => ({
    model: MODELS[a.model] || enumName(a.model, 'ATTRIBUTION_MODEL_'), raw: a.model,
    revenue: int(a.revenue_minor), conversions: int(a.conversions), roi: bp(a.roi_bp, !!a.roi_defined),
  }));
  const ac = chartBox('Revenue by attribution model: ' + att.map((a) => a.model + ' ' + m(a.revenue)).join(', '));
  grid.appendChild(section('Attribution models', att.length ? ac.box : null,
    table(null, ['Model', { label: 'Revenue', num: true }, { label: 'Conversions', num: true }, { label: 'ROI', num: true }],
      att.map((a) => ({
        attrs: { 'data-model': a.raw, 'data-revenue': String(a.revenue), 'data-conversions': String(a.conversions) },
        cells: [a.model, { value: m(a.revenue), num: true }, { value: String(a.conversions), num: true }, { value: a.roi, num: true }],
      })), { id: 'attribution' })));
  if (att.length) {
    chart(ac.canvas, {
      type: 'bar',
      data: {
        labels: att.map((a) => a.model),
        datasets: [{ label: 'revenue', data: att.map((a) => a.revenue / unit) },
          { label: 'cost', data: att.map(() => int(r.cost_minor) / unit) }],
      },
    });
  }
}

export async function render(root, ctx) {
  const id = ctx.params.id;
  const h1 = el('h1', { dir: 'auto' }, 'Campaign');
  root.appendChild(el('p', {}, el('a', { href: '#/marketing' }, '← Campaigns'), ' · ',
    el('a', { href: '#/compare/' + encodeURIComponent(id) }, 'Compare with others')));
  root.appendChild(h1);
  const body = el('div', { id: 'campaign-body', 'aria-live': 'polite', 'aria-busy': 'true' },
    el('p', { class: 'loading' }, 'Loading…'));
  root.appendChild(body);

  async function load() {
    try {
      const [c, res] = await Promise.all([
        ctx.api('GET', '/v1/campaigns/' + encodeURIComponent(id)),
        ctx.api('GET', '/v1/campaigns/' + encodeURIComponent(id) + '/results'),
      ]);
      const r = (res && res.results) || {};
      h1.textContent = (c.campaign && c.campaign.name) || r.name || id;
      clear(body);
      draw(body, c, r);
      body.setAttribute('data-loaded', String(Date.now()));
    } catch (err) {
      clear(body).appendChild(errorBox(err));
      if (err.status === 404) body.appendChild(el('p', {}, 'No campaign ' + id + ' (or not one you may see).'));
    }
    body.setAttribute('aria-busy', 'false');
  }
  await load();

  /* Live: a marketing event about this campaign redraws the figures. */
  if (ctx.onEvent) {
    let timer = null;
    ctx.onEvent('crm.marketing.', (ev) => {
      if (JSON.stringify(ev).indexOf(id) < 0) return;
      clearTimeout(timer);
      timer = setTimeout(load, 300);
    });
    ctx.onLeave(() => clearTimeout(timer));
  }
}
