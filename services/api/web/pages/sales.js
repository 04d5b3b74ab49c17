/* pages/sales.js: the sales page. The pipeline board by stage for each
 * pipeline - a rep's own open deals ("my pipeline"), a manager's all those
 * the service shows them, with an owner filter - where a deal moves by drag
 * and drop or, by keyboard, with the stage list on its card
 * (POST /v1/deals/{id}/stage); the weighted forecast by month as a chart,
 * win rate and time to close (analytics' pipeline and forecast reports);
 * the weekly activity per rep; the lead inbox with conversion. The board
 * redraws when the feed says a deal changed. */
import { el, clear, money, date, pct, problemText } from '../lib/fmt.js';
import { chart, chartBox } from '../lib/charts.js';

const MANAGER_ROLES = ['sales-manager', 'admin'];

function isManager(me) {
  return me.roles.some((r) => MANAGER_ROLES.includes(r));
}

async function allPages(ctx, path, key) {
  const out = [];
  let token = '';
  for (let i = 0; i < 20; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await ctx.api('GET', path + sep + 'page_size=500' + (token ? '&page_token=' + encodeURIComponent(token) : ''));
    out.push(...(r[key] || []));
    token = r.next_page_token;
    if (!token) break;
  }
  return out;
}

function section(id, title, ...children) {
  return el('section', { class: 'card', id, 'aria-labelledby': id + '-h' }, el('h2', { id: id + '-h' }, title), ...children);
}

/* ---- the board ----------------------------------------------------------- */

function dealCard(ctx, deal, pipeline, onMove) {
  const select = el('select', { 'aria-label': 'Stage of ' + deal.title, class: 'stage-select', 'data-deal': deal.id },
    pipeline.stages.map((s) => el('option', { value: s.name, selected: s.name === deal.stage }, s.name)));
  select.addEventListener('change', () => onMove(deal, select.value, select));
  const card = el('article', { class: 'deal', draggable: 'true', 'data-deal': deal.id, 'data-stage': deal.stage, 'aria-label': deal.title },
    el('div', { class: 'name', dir: 'auto' }, deal.title),
    el('div', {}, money(deal.amount_minor || '0', deal.currency), ' · ', String(deal.probability ?? 0), '%'),
    el('div', { class: 'muted' }, 'Owner ', el('span', { dir: 'auto' }, deal.owner || '–'),
      deal.expected_close_date ? ' · closes ' + deal.expected_close_date : ''),
    deal.person_id ? el('a', { href: '#/customer/' + encodeURIComponent(deal.person_id) }, 'Customer') : null,
    el('label', { class: 'sr-only', for: 'stage-' + deal.id }, 'Move to stage'),
    select);
  select.id = 'stage-' + deal.id;
  card.addEventListener('dragstart', (e) => {
    e.dataTransfer.setData('text/plain', deal.id);
    e.dataTransfer.effectAllowed = 'move';
  });
  return card;
}

function board(ctx, pipeline, deals, onMove) {
  const cols = pipeline.stages.map((s) => {
    const mine = deals.filter((d) => d.stage === s.name);
    const col = el('div', { class: 'stage', 'data-stage': s.name, role: 'list', 'aria-label': s.name + ', ' + mine.length + ' deals' },
      el('h3', {}, el('span', {}, s.name), el('span', { class: 'badge' }, String(mine.length))),
      mine.map((d) => dealCard(ctx, d, pipeline, onMove)));
    col.addEventListener('dragover', (e) => {
      e.preventDefault();
      col.classList.add('drop');
    });
    col.addEventListener('dragleave', () => col.classList.remove('drop'));
    col.addEventListener('drop', (e) => {
      e.preventDefault();
      col.classList.remove('drop');
      const d = deals.find((x) => x.id === e.dataTransfer.getData('text/plain'));
      if (d && d.stage !== s.name) onMove(d, s.name, null);
    });
    return col;
  });
  return el('div', { class: 'board', 'data-pipeline': pipeline.id }, cols);
}

/* ---- reports -------------------------------------------------------------- */

function forecastChart(box, forecast) {
  const months = [...new Set((forecast.months || []).map((m) => m.month))].sort();
  const currencies = [...new Set((forecast.months || []).map((m) => m.currency))];
  const table = el('table', {}, el('caption', { class: 'sr-only' }, 'Weighted forecast by month'),
    el('thead', {}, el('tr', {}, el('th', {}, 'Month'), el('th', {}, 'Currency'), el('th', { class: 'num' }, 'Deals'),
      el('th', { class: 'num' }, 'Amount'), el('th', { class: 'num' }, 'Weighted'))),
    el('tbody', {}, (forecast.months || []).map((m) => el('tr', {}, el('td', {}, m.month), el('td', {}, m.currency),
      el('td', { class: 'num' }, String(m.deals)), el('td', { class: 'num' }, money(m.amount_minor, m.currency)),
      el('td', { class: 'num' }, money(m.weighted_minor, m.currency))))));
  const { box: cbox, canvas } = chartBox('Weighted forecast by month, per currency');
  box.append(cbox, el('details', {}, el('summary', {}, 'Forecast as a table'), el('div', { class: 'table-wrap' }, table)));
  const palette = ['#0b5cad', '#1a7f37', '#9a6700', '#b42318', '#6639ba'];
  chart(canvas, {
    type: 'bar',
    data: {
      labels: months,
      datasets: currencies.map((c, i) => ({
        label: c + ' (weighted)',
        backgroundColor: palette[i % palette.length],
        /* major units for the axis; the table has the exact amounts */
        data: months.map((mo) => {
          const r = (forecast.months || []).find((m) => m.month === mo && m.currency === c);
          return r ? Number(r.weighted_minor) / 10 ** minor(c) : 0;
        }),
      })),
    },
    options: { plugins: { legend: { position: 'bottom' } }, scales: { y: { beginAtZero: true } } },
  });
}

function minor(c) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: c }).resolvedOptions().maximumFractionDigits;
  } catch (e) {
    return 2;
  }
}

function weeklyTable(w) {
  const reps = w.reps || [];
  if (!reps.length) return el('p', { class: 'muted' }, 'No activity this week.');
  return el('div', { class: 'table-wrap' }, el('table', { id: 'weekly-table' },
    el('thead', {}, el('tr', {}, ['Rep', 'Calls', 'Meetings', 'Emails', 'Tasks', 'Other', 'Advanced', 'Won', 'Lost', 'Next week']
      .map((h, i) => el('th', { class: i ? 'num' : null, scope: 'col' }, h)))),
    el('tbody', {}, reps.map((r) => el('tr', {}, el('th', { scope: 'row', dir: 'auto' }, r.rep),
      [r.calls, r.meetings, r.emails, r.tasks_done, r.other_done, r.deals_advanced, r.deals_won, r.deals_lost, (r.next_week || []).length]
        .map((v) => el('td', { class: 'num' }, String(v ?? 0))))))));
}

async function leadsSection(ctx, root, me) {
  const box = section('leads', 'Lead inbox');
  root.appendChild(box);
  const path = '/v1/leads?status=LEAD_STATUS_' + 'NEW' + (isManager(me) ? '' : '&owner=' + encodeURIComponent(me.principal));
  try {
    const [fresh, qualified] = await Promise.all([allPages(ctx, path, 'leads'),
      allPages(ctx, path.replace('LEAD_STATUS_NEW', 'LEAD_STATUS_QUALIFIED'), 'leads')]);
    const leads = [...fresh, ...qualified];
    if (!leads.length) {
      box.appendChild(el('p', { class: 'muted' }, 'No new or qualified leads.'));
      return;
    }
    const msg = el('p', { role: 'status', 'aria-live': 'polite' });
    box.append(msg, el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Lead', 'Company', 'Source', 'Status', 'Owner', 'Received', ''].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, leads.map((l) => {
        const btn = el('button', { type: 'button', class: 'primary', 'data-lead': l.id }, 'Convert');
        btn.addEventListener('click', async () => {
          btn.disabled = true;
          try {
            const r = await ctx.api('POST', '/v1/leads/' + encodeURIComponent(l.id) + '/convert', { deal_title: l.company || l.name });
            msg.textContent = 'Converted ' + l.name + (r.deal ? ': deal "' + r.deal.title + '" created.' : '.');
            btn.closest('tr').remove();
          } catch (err) {
            msg.textContent = 'Could not convert ' + l.name + ': ' + problemText(err);
            btn.disabled = false;
          }
        });
        return el('tr', {}, el('td', { dir: 'auto' }, l.name), el('td', { dir: 'auto' }, l.company || ''),
          el('td', {}, (l.source || '').replace('LEAD_SOURCE_', '').toLowerCase()),
          el('td', {}, (l.status || '').replace('LEAD_STATUS_', '').toLowerCase()),
          el('td', { dir: 'auto' }, l.owner || ''), el('td', {}, date(l.created_at_us, false)), el('td', {}, btn));
      })))));
  } catch (err) {
    box.appendChild(el('p', { class: 'error', role: 'alert' }, problemText(err)));
  }
}

/* ---- the page ----------------------------------------------------------- */

export async function render(root, ctx) {
  const me = ctx.me;
  const manager = isManager(me);
  root.appendChild(el('h1', {}, manager ? 'Sales: the team\'s pipeline' : 'Sales: my pipeline'));
  const status = el('p', { role: 'status', 'aria-live': 'polite', id: 'sales-status', class: 'muted' });
  const toolbar = el('div', { class: 'toolbar' });
  const boards = el('div', { id: 'boards' });
  root.append(toolbar, status, boards);

  let owner = manager ? '' : me.principal;
  let pipelines = [];
  if (manager) {
    const sel = el('select', { id: 'owner-filter' }, el('option', { value: '' }, 'Everyone'));
    sel.addEventListener('change', () => {
      owner = sel.value;
      drawBoards();
    });
    toolbar.append(el('label', { for: 'owner-filter' }, 'Owner'), sel);
  }

  const move = async (deal, stage, select) => {
    status.textContent = 'Moving "' + deal.title + '" to ' + stage + '…';
    try {
      await ctx.api('POST', '/v1/deals/' + encodeURIComponent(deal.id) + '/stage', { stage });
      status.textContent = '"' + deal.title + '" moved to ' + stage + '.';
      await drawBoards();
    } catch (err) {
      status.textContent = 'Could not move "' + deal.title + '": ' + problemText(err);
      if (select) select.value = deal.stage;
    }
  };

  async function drawBoards() {
    let deals;
    try {
      if (!pipelines.length) pipelines = (await ctx.api('GET', '/v1/pipelines')).pipelines || [];
      deals = await allPages(ctx, '/v1/deals?status=DEAL_STATUS_OPEN' + (owner ? '&owner=' + encodeURIComponent(owner) : ''), 'deals');
    } catch (err) {
      clear(boards).appendChild(el('p', { class: 'error', role: 'alert' }, problemText(err)));
      return;
    }
    const sel = document.getElementById('owner-filter');
    if (sel && sel.options.length === 1) {
      for (const o of [...new Set(deals.map((d) => d.owner).filter(Boolean))].sort()) sel.appendChild(el('option', { value: o }, o));
    }
    clear(boards);
    for (const p of pipelines) {
      const mine = deals.filter((d) => d.pipeline_id === p.id);
      boards.appendChild(el('section', { class: 'pipeline', 'data-pipeline': p.id, 'aria-label': 'Pipeline ' + p.name },
        el('h2', { dir: 'auto' }, p.name, ' ', el('span', { class: 'badge' }, mine.length + ' open')),
        board(ctx, p, mine, move)));
    }
    boards.dataset.deals = String(deals.length);
  }
  await drawBoards();

  /* reports */
  const grid = el('div', { class: 'grid' });
  root.appendChild(grid);
  const fbox = section('forecast', 'Weighted forecast by month');
  const pbox = section('winrate', 'Win rate and time to close');
  const wbox = section('weekly', 'Weekly activity per rep');
  grid.append(fbox, pbox, wbox);
  const [forecast, pipeline, weekly] = await Promise.allSettled([
    ctx.api('GET', '/v1/reports/forecast'), ctx.api('GET', '/v1/reports/pipeline'),
    ctx.api('GET', '/v1/reports/weekly-activity' + (manager ? '' : '?rep=' + encodeURIComponent(me.principal)))]);
  if (forecast.status === 'fulfilled') forecastChart(fbox, forecast.value);
  else fbox.appendChild(el('p', { class: 'error' }, problemText(forecast.reason)));
  if (pipeline.status === 'fulfilled') {
    const p = pipeline.value;
    pbox.appendChild(el('dl', { class: 'props' },
      el('dt', {}, 'Win rate'), el('dd', { id: 'win-rate' }, p.win_rate_bp === null || p.win_rate_bp === undefined ? '–' : pct(p.win_rate_bp / 10000, 1)),
      el('dt', {}, 'Won / lost'), el('dd', {}, String(p.won ?? 0) + ' / ' + String(p.lost ?? 0)),
      el('dt', {}, 'Average days to close'), el('dd', { id: 'days-to-close' }, p.avg_days_to_close === null || p.avg_days_to_close === undefined ? '–' : String(p.avg_days_to_close)),
      el('dt', {}, 'Lost reasons'), el('dd', {}, (p.lost_reasons || []).map((r) => r.reason + ' (' + r.deals + ')').join(', ') || '–')));
  } else pbox.appendChild(el('p', { class: 'error' }, problemText(pipeline.reason)));
  if (weekly.status === 'fulfilled') wbox.appendChild(weeklyTable(weekly.value));
  else wbox.appendChild(el('p', { class: 'error' }, problemText(weekly.reason)));

  await leadsSection(ctx, root, me);

  /* Another user's move shows here too. */
  let t = null;
  ctx.onEvent('crm.sales.deal.', () => {
    clearTimeout(t);
    t = setTimeout(drawBoards, 100);
  });
  ctx.onLeave(() => clearTimeout(t));
}
