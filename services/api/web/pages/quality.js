/* pages/quality.js (#/quality): the worklist of data-quality findings
 * (GET /v1/reports/data-quality, analytics' scan: unreachable people,
 * likely duplicates, people not contacted in a year, deals without a next
 * step, overdue activities). A duplicate can be dismissed as "not a
 * duplicate" (POST /v1/data-quality/resolutions): analytics never raises
 * that pair again. A privacy officer (or admin) can merge the pair instead
 * (POST /v1/people/{keep_id}/merge), which also resolves it as merged. */
import { el, clear, errorBox, problemText } from '../lib/fmt.js';
import { chart, chartBox } from '../lib/charts.js';
import { hasRole, table } from '../lib/teams.js';

const KINDS = {
  duplicate: 'likely duplicate',
  unreachable: 'unreachable',
  not_contacted: 'not contacted in a year',
  deal_without_next_step: 'deal without next step',
  overdue_activity: 'overdue activity',
};
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const NAMES_AT_MOST = 100;

export async function render(root, ctx) {
  root.appendChild(el('h1', {}, 'Data quality'));
  const status = el('p', { id: 'dq-status', role: 'status', 'aria-live': 'polite' });
  const kind = el('select', { id: 'dq-kind' }, el('option', { value: '' }, 'all kinds'),
    Object.entries(KINDS).map(([k, v]) => el('option', { value: k }, v)));
  root.appendChild(el('div', { class: 'toolbar' }, el('label', { for: 'dq-kind' }, 'Kind '), kind));
  root.appendChild(status);
  const summary = el('div', { id: 'dq-summary' });
  const body = el('div', { id: 'dq-body', 'aria-busy': 'true' }, el('p', { class: 'loading' }, 'Loading findings…'));
  root.appendChild(summary);
  root.appendChild(body);

  const canResolve = hasRole(ctx.me, 'analyst');
  const canMerge = hasRole(ctx.me, 'privacy-officer');
  let findings = [];
  const names = {};

  async function nameOf(id) {
    if (!id) return '';
    if (!(id in names)) {
      names[id] = ctx.api('GET', '/v1/people/' + encodeURIComponent(id))
        .then((r) => (r && r.person && r.person.name) || '')
        .catch(() => '');
    }
    return names[id];
  }

  function person(id, name) {
    return el('a', { href: '#/customer/' + encodeURIComponent(id) }, name ? el('bdi', { dir: 'auto' }, name) : id.slice(0, 8) + '…');
  }

  async function resolve(f, original, resolution, row, button) {
    button.disabled = true;
    try {
      await ctx.api('POST', '/v1/data-quality/resolutions', {
        record_id: f.record_id, original_id: original, resolution,
        note: resolution === 'DATA_QUALITY_RESOLUTION_NOT_DUPLICATE' ? 'dismissed on the dashboard by ' + ctx.me.principal : 'merged on the dashboard',
      });
    } catch (err) {
      button.disabled = false;
      throw err;
    }
    findings = findings.filter((x) => x !== f);
    row.remove();
    drawSummary();
  }

  function actions(f, original, row, labels) {
    const out = [];
    if (f.kind !== 'duplicate' || !original) return out;
    if (canResolve) {
      const b = el('button', { type: 'button', class: 'dismiss', 'aria-label': 'Not a duplicate: ' + labels });
      b.textContent = 'Not a duplicate';
      b.addEventListener('click', async () => {
        try {
          await resolve(f, original, 'DATA_QUALITY_RESOLUTION_NOT_DUPLICATE', row, b);
          status.textContent = 'Dismissed: ' + labels + ' are two people; this pair is not raised again.';
        } catch (err) {
          b.disabled = false;
          status.textContent = 'Could not dismiss: ' + problemText(err);
        }
      });
      out.push(b);
    }
    if (canMerge) {
      const b = el('button', { type: 'button', class: 'merge', 'aria-label': 'Merge ' + labels });
      b.textContent = 'Merge';
      b.addEventListener('click', async () => {
        if (!window.confirm('Merge ' + labels + ' into one person? This cannot be undone.')) return;
        b.disabled = true;
        try {
          await ctx.api('POST', '/v1/people/' + encodeURIComponent(original) + '/merge',
            { drop_id: f.record_id, reason: 'data-quality finding ' + f.record_id });
          /* Analytics marks the pair MERGED when it applies the person.merged
           * event, and drops the merged-away customer: a resolution sent now
           * would race that (409 or 404), so none is sent. */
          findings = findings.filter((x) => x !== f);
          row.remove();
          drawSummary();
          status.textContent = 'Merged: ' + labels + '.';
        } catch (err) {
          b.disabled = false;
          status.textContent = 'Could not merge: ' + problemText(err);
        }
      });
      out.push(b);
    }
    return out;
  }

  function drawSummary() {
    clear(summary);
    const counts = {};
    for (const f of findings) counts[f.kind] = (counts[f.kind] || 0) + 1;
    const ks = Object.keys(counts).sort();
    summary.appendChild(el('p', { id: 'dq-count' }, findings.length + (findings.length === 1 ? ' finding' : ' findings') + (ks.length ? ': ' + ks.map((k) => counts[k] + ' ' + (KINDS[k] || k)).join(', ') : '') + '.'));
    if (!ks.length) return;
    const c = chartBox('Findings by kind: ' + ks.map((k) => (KINDS[k] || k) + ' ' + counts[k]).join(', '), 50 + 34 * ks.length);
    summary.appendChild(c.box);
    chart(c.canvas, {
      type: 'bar',
      data: { labels: ks.map((k) => KINDS[k] || k), datasets: [{ label: 'findings', data: ks.map((k) => counts[k]) }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { ticks: { precision: 0 } } } },
    });
  }

  async function draw() {
    clear(body);
    const shown = findings.filter((f) => !kind.value || f.kind === kind.value);
    if (!shown.length) {
      body.appendChild(el('p', { class: 'muted' }, 'Nothing to fix.'));
      return;
    }
    const rows = [];
    let named = 0;
    for (const f of shown) {
      const m = f.kind === 'duplicate' ? UUID.exec(f.detail || '') : null;
      const original = m ? m[0] : '';
      const lookUp = named++ < NAMES_AT_MOST;
      const [n1, n2] = await Promise.all([lookUp && f.customer_id ? nameOf(f.customer_id) : '', lookUp && original ? nameOf(original) : '']);
      const labels = (n1 || f.record_id) + (original ? ' and ' + (n2 || original) : '');
      const tr = el('tr', { 'data-finding': f.kind + ':' + f.record_id, 'data-kind': f.kind });
      const who = f.customer_id ? person(f.customer_id, n1) : el('span', {}, '—');
      tr.appendChild(el('td', {}, KINDS[f.kind] || f.kind));
      tr.appendChild(el('td', {}, who, original ? [' and ', person(original, n2)] : null));
      tr.appendChild(el('td', { dir: 'auto' }, f.detail || ''));
      tr.appendChild(el('td', {}, f.team || ''));
      tr.appendChild(el('td', { class: 'actions' }, actions(f, original, tr, labels)));
      rows.push(tr);
    }
    const t = table('Findings', ['Kind', 'Who', 'Detail', 'Team', 'Action'], [], { id: 'findings' });
    const tb = t.querySelector('tbody');
    for (const r of rows) tb.appendChild(r);
    body.appendChild(t);
    if (!canResolve) body.appendChild(el('p', { class: 'muted' }, 'Dismissing a duplicate needs the analyst or admin role.'));
  }

  try {
    const r = await ctx.api('GET', '/v1/reports/data-quality');
    findings = (r && r.findings) || [];
    drawSummary();
    await draw();
  } catch (err) {
    clear(body).appendChild(errorBox(err));
  }
  body.setAttribute('aria-busy', 'false');
  kind.addEventListener('change', draw);
}
