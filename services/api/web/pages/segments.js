/* pages/segments.js (#/segments): each segment with its rules and its
 * membership count as marketing last evaluated it (GET /v1/segments, then
 * GET /v1/segments/{id}/members?limit=1 per segment: the count is complete
 * whatever the limit). */
import { el, clear, errorBox } from '../lib/fmt.js';
import { chart, chartBox } from '../lib/charts.js';
import { enumName, int, table } from '../lib/teams.js';

/* campaigns: id -> name, for the rules that name a campaign. */
function ruleText(r, campaigns = {}) {
  const kind = enumName(r.kind, 'SEGMENT_RULE_KIND_');
  const value = /CAMPAIGN$/.test(r.kind || '') && campaigns[r.value] ? '"' + campaigns[r.value] + '"' : r.value;
  const operand = [value, int(r.amount) ? String(int(r.amount)) : ''].filter(Boolean).join(' ');
  return (r.negate ? 'not ' : '') + kind + (operand ? ' ' + operand : '');
}

export async function render(root, ctx) {
  root.appendChild(el('h1', {}, 'Segments'));
  root.appendChild(el('p', {}, el('a', { href: '#/marketing' }, '← Campaigns')));
  const body = el('div', { id: 'segments-body', 'aria-live': 'polite' }, el('p', { class: 'loading' }, 'Loading segments…'));
  root.appendChild(body);
  let segs;
  const campaigns = {};
  try {
    /* Names for the rules that name a campaign; ids when not readable. */
    const cs = await ctx.api('GET', '/v1/campaigns').catch(() => null);
    for (const c of (cs && cs.campaigns) || []) campaigns[c.id] = c.name || c.id;
    segs = ((await ctx.api('GET', '/v1/segments')) || {}).segments || [];
    /* A few at a time: one request per segment. */
    for (let i = 0; i < segs.length; i += 8) {
      await Promise.all(segs.slice(i, i + 8).map(async (s) => {
        const m = await ctx.api('GET', '/v1/segments/' + encodeURIComponent(s.id) + '/members?limit=1');
        s.count = int(m && m.count);
      }));
    }
  } catch (err) {
    clear(body).appendChild(errorBox(err));
    return;
  }
  clear(body);
  if (!segs.length) {
    body.appendChild(el('p', { class: 'muted' }, 'No segments yet.'));
    return;
  }
  segs.sort((a, b) => b.count - a.count || (a.name || '').localeCompare(b.name || ''));
  body.appendChild(table('Segments and their members', ['Segment', 'Rules', { label: 'Members', num: true }],
    segs.map((s) => ({
      attrs: { 'data-segment': s.id },
      cells: [el('span', { dir: 'auto' }, s.name || s.id), el('span', { dir: 'auto' }, (s.rules || []).map((r) => ruleText(r, campaigns)).join('; ')),
        { value: String(s.count), num: true, attrs: { 'data-figure': 'members' } }],
    })), { id: 'segments' }));
  const top = segs.slice(0, 20);
  const c = chartBox('Members per segment: ' + top.map((s) => (s.name || s.id) + ' ' + s.count).join(', '), Math.max(90, 50 + top.length * 30));
  body.appendChild(el('h2', {}, 'Members per segment'));
  body.appendChild(c.box);
  chart(c.canvas, {
    type: 'bar',
    data: { labels: top.map((s) => s.name || s.id), datasets: [{ label: 'members', data: top.map((s) => s.count) }] },
    options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { ticks: { precision: 0 } } } },
  });
}
