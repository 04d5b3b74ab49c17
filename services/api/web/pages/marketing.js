/* pages/marketing.js (#/marketing): every campaign with its status, budget
 * against spend and ROI. The list is GET /v1/campaigns; the spend and ROI
 * are marketing's own results (GET /v1/campaign-comparison, the figures of
 * `crmctl campaign results`), fetched for all campaigns in a few requests. */
import { el, clear, money, errorBox } from '../lib/fmt.js';
import { chart, chartBox } from '../lib/charts.js';
import { bp, enumName, int, table } from '../lib/teams.js';

const STATUSES = ['RUNNING', 'SCHEDULED', 'PAUSED', 'DRAFT', 'COMPLETED', 'CANCELLED'];
const CHUNK = 40; /* ids per comparison request, to keep the URL short */

/* Results of the campaigns ids, by id. */
export async function resultsOf(api, ids) {
  const out = {};
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    const q = part.map((id) => 'ids=' + encodeURIComponent(id)).join('&');
    const r = await api('GET', '/v1/campaign-comparison?' + q);
    for (const x of (r && r.results) || []) out[x.campaign_id] = x;
  }
  return out;
}

/* Spend against budget: a <meter> with the figures in text beside it. */
function budgetCell(r, currency) {
  const b = (r && r.budget) || {};
  const budget = int(b.budget_minor);
  const spent = int(b.spent_minor);
  const text = money(String(spent), currency) + ' of ' + money(String(budget), currency);
  if (!budget) return el('span', {}, money(String(spent), currency) + ' (no budget)');
  return el('span', { class: 'spend' + (b.overspent ? ' bad' : '') },
    el('meter', { min: 0, max: budget, value: Math.min(spent, budget), high: budget * 0.9, 'aria-hidden': 'true' }),
    ' ', text, b.overspent ? ' (overspent)' : '');
}

export async function render(root, ctx) {
  root.appendChild(el('h1', {}, 'Marketing'));
  const filterId = 'mkt-status';
  const select = el('select', { id: filterId },
    el('option', { value: '' }, 'all'),
    STATUSES.map((s) => el('option', { value: s }, s.toLowerCase())));
  const compare = el('button', { type: 'button', id: 'mkt-compare', disabled: true }, 'Compare selected');
  root.appendChild(el('div', { class: 'toolbar' },
    el('label', { for: filterId }, 'Status '), select, ' ', compare,
    ' ', el('a', { href: '#/segments' }, 'Segments')));
  const body = el('div', { id: 'mkt-body', 'aria-live': 'polite' }, el('p', { class: 'loading' }, 'Loading campaigns…'));
  root.appendChild(body);

  let campaigns = [];
  let results = {};
  try {
    const r = await ctx.api('GET', '/v1/campaigns');
    campaigns = (r && r.campaigns) || [];
    results = await resultsOf(ctx.api, campaigns.map((c) => c.id));
  } catch (err) {
    clear(body).appendChild(errorBox(err));
    return;
  }

  const chosen = new Set();
  compare.addEventListener('click', () => ctx.navigate('#/compare/' + [...chosen].join(',')));

  function draw() {
    clear(body);
    const want = select.value ? 'CAMPAIGN_STATUS_' + select.value : '';
    const shown = campaigns.filter((c) => !want || c.status === want);
    if (!shown.length) {
      body.appendChild(el('p', { class: 'muted' }, campaigns.length ? 'No campaign has this status.' : 'No campaigns yet.'));
      return;
    }
    const rows = shown.map((c) => {
      const r = results[c.id] || {};
      const cur = c.currency || r.currency;
      const box = el('input', { type: 'checkbox', id: 'pick-' + c.id, checked: chosen.has(c.id) });
      box.addEventListener('change', () => {
        if (box.checked) chosen.add(c.id);
        else chosen.delete(c.id);
        compare.disabled = chosen.size < 2;
      });
      return {
        attrs: { 'data-campaign': c.id },
        cells: [
          el('span', {}, box, el('label', { for: 'pick-' + c.id, class: 'sr-only' }, 'Compare ' + (c.name || c.id))),
          el('a', { href: '#/campaign/' + encodeURIComponent(c.id), dir: 'auto' }, c.name || c.id),
          enumName(c.status, 'CAMPAIGN_STATUS_') || 'draft',
          (c.channels || []).map((x) => enumName(x, 'CHANNEL_')).join(', '),
          budgetCell(r, cur),
          { value: money(r.revenue_minor || '0', cur), num: true },
          { value: bp(r.roi_bp, !!r.roi_defined), num: true, attrs: { 'data-figure': 'roi' } },
        ],
      };
    });
    body.appendChild(table('Campaigns', ['', 'Name', 'Status', 'Channels', 'Spent of budget',
      { label: 'Revenue', num: true }, { label: 'ROI', num: true }], rows, { id: 'campaigns' }));

    /* Budget against spend, one pair of bars per campaign of one currency
     * (amounts of different currencies are never drawn on one axis). */
    const byCur = {};
    for (const c of shown) (byCur[c.currency || '?'] = byCur[c.currency || '?'] || []).push(c);
    for (const [cur, list] of Object.entries(byCur)) {
      const digits = Math.pow(10, new Intl.NumberFormat('en', cur === '?' ? {} : { style: 'currency', currency: cur })
        .resolvedOptions().maximumFractionDigits || 0);
      const { box, canvas } = chartBox('Budget against spend per campaign, ' + cur, 240);
      body.appendChild(el('h2', {}, 'Budget and spend (' + cur + ')'));
      body.appendChild(box);
      chart(canvas, {
        type: 'bar',
        data: {
          labels: list.map((c) => c.name || c.id),
          datasets: [
            { label: 'budget', data: list.map((c) => int((results[c.id] || {}).budget && results[c.id].budget.budget_minor) / digits) },
            { label: 'spent', data: list.map((c) => int((results[c.id] || {}).budget && results[c.id].budget.spent_minor) / digits) },
            { label: 'revenue', data: list.map((c) => int((results[c.id] || {}).revenue_minor) / digits) },
          ],
        },
      });
    }
  }
  select.addEventListener('change', draw);
  draw();
}
