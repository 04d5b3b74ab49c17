/* pages/support.js (#/support): the help desk's morning page. The queue of
 * tickets not resolved or closed (GET /v1/tickets per status) with each SLA
 * target's countdown in business time (the business calendar, GET
 * /v1/business-calendar, as crm-support counts it: weekly hours, holidays,
 * the calendar's zone), breaches first and highlighted; SLA compliance and
 * CSAT of the last 30 days and CSAT week by week (GET /v1/reports/support,
 * support.report.figures). The countdowns tick every 30 s; the queue
 * reloads when a ticket event arrives. */
import { el, clear, errorBox } from '../lib/fmt.js';
import { chart, chartBox } from '../lib/charts.js';
import { bp, enumName, figures, hasRole, int, slaTarget, table } from '../lib/teams.js';

const OPEN = ['TICKET_STATUS_NEW', 'TICKET_STATUS_OPEN', 'TICKET_STATUS_PENDING', 'TICKET_STATUS_ON_HOLD'];
const PRIORITY = { TICKET_PRIORITY_URGENT: 4, TICKET_PRIORITY_HIGH: 3, TICKET_PRIORITY_NORMAL: 2, TICKET_PRIORITY_LOW: 1 };
const WEEK_US = 7 * 86400 * 1e6;
const WEEKS = 8;

/* Reports come as a JSON document in `json` (support.report.figures). */
function doc(r) {
  return r && typeof r.json === 'string' ? JSON.parse(r.json) : r || {};
}

async function allOpen(api) {
  const lists = await Promise.all(OPEN.map(async (s) => {
    const out = [];
    let token = '';
    for (let page = 0; page < 10; page++) {
      const r = await api('GET', '/v1/tickets?page_size=500&status=' + s + (token ? '&page_token=' + encodeURIComponent(token) : ''));
      out.push(...((r && r.tickets) || []));
      token = r && r.next_page_token;
      if (!token) break;
    }
    return out;
  }));
  return lists.flat();
}

function slaCell(s) {
  return el('span', { class: 'sla sla-' + s.state, 'data-sla': s.state }, s.text);
}

export async function render(root, ctx) {
  root.appendChild(el('h1', {}, 'Support'));
  const mine = el('input', { type: 'checkbox', id: 'sup-mine' });
  const onlyBreached = el('input', { type: 'checkbox', id: 'sup-breached' });
  root.appendChild(el('div', { class: 'toolbar' },
    el('span', {}, mine, ' ', el('label', { for: 'sup-mine' }, 'Assigned to me')),
    el('span', {}, onlyBreached, ' ', el('label', { for: 'sup-breached' }, 'Breached only'))));
  const queue = el('section', { class: 'card', 'aria-labelledby': 'queue-title' },
    el('h2', { id: 'queue-title' }, 'Ticket queue'),
    el('p', { class: 'muted' }, 'Time left on each SLA target in business hours; breaches first.'));
  const qbody = el('div', { id: 'queue', 'aria-live': 'polite', 'aria-busy': 'true' }, el('p', { class: 'loading' }, 'Loading tickets…'));
  queue.appendChild(qbody);
  const figs = el('section', { class: 'card', 'aria-labelledby': 'sla-title' }, el('h2', { id: 'sla-title' }, 'SLA compliance and CSAT, last 30 days'));
  const fbody = el('div', { id: 'support-figures' }, el('p', { class: 'loading' }, 'Loading figures…'));
  figs.appendChild(fbody);
  const trend = el('section', { class: 'card', 'aria-labelledby': 'csat-title' }, el('h2', { id: 'csat-title' }, 'CSAT by week'));
  const tbody = el('div', { id: 'csat-trend' }, el('p', { class: 'loading' }, 'Loading…'));
  trend.appendChild(tbody);
  root.appendChild(queue);
  root.appendChild(el('div', { class: 'grid' }, figs, trend));

  let cal = {};
  let tickets = [];

  function drawQueue() {
    clear(qbody);
    const now = Date.now();
    let rows = tickets.map((t) => {
      const fr = slaTarget(t, 'first_response', cal, now);
      const rs = slaTarget(t, 'resolution', cal, now);
      const breached = fr.state === 'breached' || rs.state === 'breached';
      const left = Math.min(...[fr, rs].filter((s) => s.state === 'running' || s.state === 'breached').map((s) => s.ms), Infinity);
      return { t, fr, rs, breached, left };
    });
    if (mine.checked) rows = rows.filter((r) => r.t.assignee === ctx.me.principal);
    if (onlyBreached.checked) rows = rows.filter((r) => r.breached);
    rows.sort((a, b) => (b.breached - a.breached) || (a.left - b.left)
      || ((PRIORITY[b.t.priority] || 2) - (PRIORITY[a.t.priority] || 2)));
    if (!rows.length) {
      qbody.appendChild(el('p', { class: 'muted' }, tickets.length ? 'No ticket matches.' : 'The queue is empty.'));
      return;
    }
    qbody.appendChild(table(null, ['Ticket', 'Requester', 'Priority', 'Status', 'Assignee', 'First response', 'Resolution'],
      rows.map(({ t, fr, rs, breached }) => ({
        attrs: { 'data-ticket': t.id, class: breached ? 'breached' : null, 'data-breached': breached ? 'true' : 'false' },
        cells: [
          el('span', {}, breached ? el('strong', { class: 'bad' }, 'Breached: ') : null, el('span', { dir: 'auto' }, t.subject || t.id)),
          t.customer_id
            ? el('a', { href: '#/customer/' + encodeURIComponent(t.customer_id), dir: 'auto' }, t.requester_name || t.requester_email || t.customer_id)
            : el('span', { dir: 'auto' }, t.requester_name || t.requester_email || ''),
          enumName(t.priority, 'TICKET_PRIORITY_') || 'normal',
          enumName(t.status, 'TICKET_STATUS_'),
          el('span', { dir: 'auto' }, t.assignee || '—'),
          slaCell(fr), slaCell(rs),
        ],
      })), { id: 'tickets' }));
  }

  async function loadQueue() {
    try {
      const [c, list] = await Promise.all([
        ctx.api('GET', '/v1/business-calendar').catch((err) => {
          /* Without the calendar (a role without config read) count
           * wall-clock time and say so. */
          if (!document.getElementById('no-calendar')) qbody.before(el('p', { class: 'muted', id: 'no-calendar' }, 'Business calendar not available (' + err.message + '): wall-clock time shown.'));
          return {};
        }),
        allOpen(ctx.api),
      ]);
      cal = (c && c.calendar) || {};
      tickets = list;
      drawQueue();
    } catch (err) {
      clear(qbody).appendChild(errorBox(err));
    }
    qbody.setAttribute('aria-busy', 'false');
  }

  async function loadFigures() {
    try {
      const f = doc(await ctx.api('GET', '/v1/reports/support'));
      const sla = f.sla || {};
      const fr = sla.first_response || {};
      const rs = sla.resolution || {};
      const csat = f.csat || {};
      const counts = (x) => el('small', { class: 'muted detail' }, int(x.met) + ' met, ' + int(x.breached) + ' breached, ' + int(x.pending) + ' pending');
      clear(fbody).appendChild(figures([
        { key: 'sla_first_response', label: 'First response SLA met', raw: fr.compliance_bp === null ? '' : String(int(fr.compliance_bp)),
          value: [bp(fr.compliance_bp, fr.compliance_bp !== null && fr.compliance_bp !== undefined), counts(fr)] },
        { key: 'sla_resolution', label: 'Resolution SLA met', raw: rs.compliance_bp === null ? '' : String(int(rs.compliance_bp)),
          value: [bp(rs.compliance_bp, rs.compliance_bp !== null && rs.compliance_bp !== undefined), counts(rs)] },
        { key: 'csat_average', label: 'CSAT average (1-5)', raw: csat.average === null ? '' : String(csat.average),
          value: csat.average === null || csat.average === undefined ? '–'
            : [Number(csat.average).toFixed(2), el('small', { class: 'muted detail' }, int(csat.ratings) + ' ratings')] },
        { key: 'csat_satisfied', label: 'Rated 4 or 5', value: bp(csat.satisfied_bp, csat.satisfied_bp !== null && csat.satisfied_bp !== undefined) },
        { key: 'backlog', label: 'Backlog', raw: String(int((f.backlog || {}).total)), value: String(int((f.backlog || {}).total)) },
        { key: 'opened', label: 'Opened', raw: String(int(f.opened)), value: String(int(f.opened)) },
      ]));
      const agents = f.agents || [];
      if (agents.length && hasRole(ctx.me, 'support-lead', 'sales-manager', 'analyst')) {
        fbody.appendChild(table('Load per agent', ['Agent', { label: 'Open now', num: true }, { label: 'Resolved', num: true }, { label: 'CSAT', num: true }],
          agents.map((a) => [el('span', { dir: 'auto' }, a.agent), { value: String(int(a.open_now)), num: true },
            { value: String(int(a.resolved)), num: true }, { value: a.csat_average === null ? '–' : String(a.csat_average), num: true }])));
      }
    } catch (err) {
      clear(fbody).appendChild(errorBox(err));
    }
  }

  async function loadTrend() {
    try {
      const end = Date.now() * 1000;
      const weeks = [];
      for (let i = WEEKS - 1; i >= 0; i--) weeks.push({ from: Math.round(end - (i + 1) * WEEK_US), to: Math.round(end - i * WEEK_US) });
      const docs = await Promise.all(weeks.map((w) => ctx.api('GET', '/v1/reports/support?from_us=' + w.from + '&to_us=' + w.to + '&at_us=' + w.to).then(doc)));
      const label = (w) => new Date(w.to / 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
      const pts = docs.map((d, i) => ({
        week: 'week to ' + label(weeks[i]), avg: d.csat && d.csat.average !== null && d.csat.average !== undefined ? Number(d.csat.average) : null,
        n: int(d.csat && d.csat.ratings), fr: d.sla && d.sla.first_response ? d.sla.first_response.compliance_bp : null,
        rs: d.sla && d.sla.resolution ? d.sla.resolution.compliance_bp : null,
      }));
      clear(tbody);
      const c = chartBox('CSAT average and SLA compliance per week: ' + pts.map((p) => p.week + ' ' + (p.avg === null ? 'no ratings' : p.avg)).join(', '));
      tbody.appendChild(c.box);
      chart(c.canvas, {
        type: 'line',
        data: {
          labels: pts.map((p) => p.week),
          datasets: [
            { label: 'CSAT (1-5)', data: pts.map((p) => p.avg), yAxisID: 'y', spanGaps: true },
            { label: 'first response SLA %', data: pts.map((p) => (p.fr === null || p.fr === undefined ? null : int(p.fr) / 100)), yAxisID: 'y1', spanGaps: true },
            { label: 'resolution SLA %', data: pts.map((p) => (p.rs === null || p.rs === undefined ? null : int(p.rs) / 100)), yAxisID: 'y1', spanGaps: true },
          ],
        },
        options: { scales: { y: { min: 1, max: 5, position: 'left' }, y1: { min: 0, max: 100, position: 'right', grid: { drawOnChartArea: false } } } },
      });
      tbody.appendChild(table(null, ['Week', { label: 'CSAT', num: true }, { label: 'Ratings', num: true },
        { label: 'First response SLA', num: true }, { label: 'Resolution SLA', num: true }],
      pts.map((p) => [p.week, { value: p.avg === null ? '–' : p.avg.toFixed(2), num: true }, { value: String(p.n), num: true },
        { value: bp(p.fr, p.fr !== null && p.fr !== undefined), num: true }, { value: bp(p.rs, p.rs !== null && p.rs !== undefined), num: true }])));
    } catch (err) {
      clear(tbody).appendChild(errorBox(err));
    }
  }

  /* A tick updates the countdowns in place (no redraw, so the keyboard
   * focus and the order stay where they are). */
  function tickQueue() {
    const now = Date.now();
    const byId = new Map(tickets.map((t) => [t.id, t]));
    for (const tr of qbody.querySelectorAll('tr[data-ticket]')) {
      const t = byId.get(tr.getAttribute('data-ticket'));
      if (!t) continue;
      const cells = tr.querySelectorAll('.sla');
      const states = ['first_response', 'resolution'].map((w, i) => {
        const st = slaTarget(t, w, cal, now);
        if (cells[i]) {
          cells[i].textContent = st.text;
          cells[i].className = 'sla sla-' + st.state;
          cells[i].setAttribute('data-sla', st.state);
        }
        return st.state;
      });
      const breached = states.includes('breached');
      if (breached && tr.getAttribute('data-breached') !== 'true') {
        tr.classList.add('breached');
        tr.setAttribute('data-breached', 'true');
        tr.firstChild.prepend(el('strong', { class: 'bad' }, 'Breached: '));
      }
    }
  }

  mine.addEventListener('change', drawQueue);
  onlyBreached.addEventListener('change', drawQueue);
  await Promise.all([loadQueue(), loadFigures(), loadTrend()]);

  const tick = setInterval(tickQueue, 30000);
  let timer = null;
  if (ctx.onLeave) ctx.onLeave(() => {
    clearInterval(tick);
    clearTimeout(timer);
  });
  if (ctx.onEvent) {
    ctx.onEvent('crm.support.', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        loadQueue();
        loadFigures();
      }, 300);
    });
  }
}
