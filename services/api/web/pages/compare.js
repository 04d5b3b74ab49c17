/* pages/compare.js (#/compare, #/compare/:ids): campaigns side by side, as
 * the marketing process asks (a running campaign against past ones):
 * GET /v1/campaign-comparison, marketing.campaign.compare. The campaigns
 * are chosen with checkboxes; the choice is kept in the address
 * (#/compare/id1,id2), so a comparison can be bookmarked and shared. */
import { el, clear, money, errorBox } from '../lib/fmt.js';
import { chart, chartBox } from '../lib/charts.js';
import { bp, enumName, int, table } from '../lib/teams.js';

const CURRENT = ['CAMPAIGN_STATUS_RUNNING', 'CAMPAIGN_STATUS_PAUSED', 'CAMPAIGN_STATUS_SCHEDULED'];
const PAST = ['CAMPAIGN_STATUS_COMPLETED', 'CAMPAIGN_STATUS_CANCELLED'];
const MAX = 8;

/* The rows of the comparison: [label, (r) -> shown text]. */
const ROWS = [
  ['Status', (r) => enumName(r.status, 'CAMPAIGN_STATUS_')],
  ['Recipients', (r) => String(int(r.recipients))],
  ['Sent', (r) => String(int(r.sent))],
  ['Delivered', (r) => String(int(r.delivered))],
  ['Responders', (r) => String(int(r.responders))],
  ['Response rate', (r) => bp(r.response_rate_bp, !!r.response_rate_defined)],
  ['Conversions', (r) => String(int(r.conversions))],
  ['Revenue', (r) => money(String(int(r.revenue_minor)), r.currency)],
  ['Cost', (r) => money(String(int(r.cost_minor)), r.currency)],
  ['ROI', (r) => bp(r.roi_bp, !!r.roi_defined)],
  ['Cost per response', (r) => (r.cost_per_response_defined ? money(String(int(r.cost_per_response_minor)), r.currency) : '–')],
  ['Cost per conversion', (r) => (r.cost_per_conversion_defined ? money(String(int(r.cost_per_conversion_minor)), r.currency) : '–')],
  ['Budget', (r) => money(String(int((r.budget || {}).budget_minor)), r.currency)],
];

export async function render(root, ctx) {
  root.appendChild(el('h1', {}, 'Compare campaigns'));
  const picker = el('fieldset', { class: 'picker', id: 'compare-picker' }, el('legend', {}, 'Campaigns to compare (at most ' + MAX + ')'));
  const body = el('div', { id: 'compare-body', 'aria-live': 'polite' });
  root.appendChild(picker);
  root.appendChild(body);

  let campaigns;
  try {
    campaigns = ((await ctx.api('GET', '/v1/campaigns')) || {}).campaigns || [];
  } catch (err) {
    root.appendChild(errorBox(err));
    return;
  }
  if (!campaigns.length) {
    body.appendChild(el('p', { class: 'muted' }, 'No campaigns yet.'));
    return;
  }
  /* The choice: from the address, else the current campaigns and the
   * latest past ones. */
  let ids = (ctx.params.ids || '').split(',').filter((x) => campaigns.some((c) => c.id === x));
  if (!ids.length) {
    const by = (s) => campaigns.filter((c) => s.includes(c.status))
      .sort((a, b) => int(b.created_at_us) - int(a.created_at_us));
    ids = [...by(CURRENT).slice(0, MAX / 2), ...by(PAST)].slice(0, MAX).map((c) => c.id);
    if (ids.length < 2) ids = campaigns.slice(0, MAX).map((c) => c.id);
  }
  const chosen = new Set(ids.slice(0, MAX));
  const groups = [['Current', CURRENT], ['Past', PAST], ['Draft', ['CAMPAIGN_STATUS_DRAFT', 'CAMPAIGN_STATUS_UNSPECIFIED', undefined]]];
  for (const [title, sts] of groups) {
    const list = campaigns.filter((c) => sts.includes(c.status));
    if (!list.length) continue;
    const ul = el('ul', { class: 'checks', 'aria-label': title });
    for (const c of list) {
      const box = el('input', { type: 'checkbox', id: 'cmp-' + c.id, value: c.id, checked: chosen.has(c.id) });
      box.addEventListener('change', () => {
        if (box.checked && chosen.size >= MAX) {
          box.checked = false;
          return;
        }
        if (box.checked) chosen.add(c.id);
        else chosen.delete(c.id);
        const hash = '#/compare/' + [...chosen].join(',');
        history.replaceState(null, '', hash);
        draw();
      });
      ul.appendChild(el('li', {}, box, ' ', el('label', { for: 'cmp-' + c.id, dir: 'auto' }, c.name || c.id)));
    }
    picker.appendChild(el('div', {}, el('strong', {}, title), ul));
  }

  async function draw() {
    const order = campaigns.filter((c) => chosen.has(c.id)).map((c) => c.id);
    clear(body);
    if (!order.length) {
      body.appendChild(el('p', { class: 'muted' }, 'Choose campaigns above.'));
      return;
    }
    let results;
    try {
      const q = order.map((id) => 'ids=' + encodeURIComponent(id)).join('&');
      results = ((await ctx.api('GET', '/v1/campaign-comparison?' + q)) || {}).results || [];
    } catch (err) {
      body.appendChild(errorBox(err));
      return;
    }
    const head = ['Figure', ...results.map((r) => ({
      label: el('a', { href: '#/campaign/' + encodeURIComponent(r.campaign_id), dir: 'auto' }, r.name || r.campaign_id), num: true,
    }))];
    const rows = ROWS.map(([label, f]) => [el('strong', {}, label), ...results.map((r) => ({ value: f(r), num: true }))]);
    body.appendChild(table('Campaigns side by side', head, rows, { id: 'comparison' }));

    /* Rates are comparable across currencies; amounts only within one. */
    const rc = chartBox('Response rate and ROI per campaign, in percent');
    body.appendChild(el('h2', {}, 'Response rate and ROI (%)'));
    body.appendChild(rc.box);
    chart(rc.canvas, {
      type: 'bar',
      data: {
        labels: results.map((r) => r.name || r.campaign_id),
        datasets: [
          { label: 'response rate %', data: results.map((r) => (r.response_rate_defined ? int(r.response_rate_bp) / 100 : null)) },
          { label: 'ROI %', data: results.map((r) => (r.roi_defined ? int(r.roi_bp) / 100 : null)) },
        ],
      },
    });
  }
  await draw();
}
