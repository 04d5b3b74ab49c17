/* pages/customer.js: the customer 360 (#/customer/:id). Profile with what
 * each service contributed, consent (the ledger's current grants) and
 * contact preferences, health with its reasons, open deals and tickets,
 * and the cross-team timeline with who did what (analytics'
 * GET /v1/customers/{id}). The as-of picker (a local date and time, to the
 * second) shows the customer as they were then (as_of_us): the profile,
 * deals and tickets open then, and the timeline up to then. */
import { el, clear, money, date, problemText } from '../lib/fmt.js';

function lower(v, prefix) {
  return String(v || '').replace(prefix, '').toLowerCase().replace(/_/g, ' ');
}

function props(pairs) {
  return el('dl', { class: 'props' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v, attrs]) => [el('dt', {}, k), el('dd', attrs || {}, v)]));
}

function healthBox(k) {
  if (!k || typeof k.health !== 'number') return el('p', { class: 'muted' }, 'No health score yet.');
  const cls = k.health >= 70 ? 'good' : k.health < 40 ? 'bad' : '';
  return el('div', {},
    el('p', {}, el('span', { class: 'kpi' }, el('span', { class: 'value ' + cls, id: 'health-score' }, String(k.health))),
      ' of 100 · churn risk ', String(k.churn_risk ?? 100 - k.health)),
    el('ul', { id: 'health-reasons' }, (k.health_reasons || []).map((r) => el('li', {}, r))),
    (k.health_reasons || []).length ? null : el('p', { class: 'muted' }, 'No reasons: the score is the starting 50.'));
}

function moneyList(list) {
  return (list || []).map((x) => money(x.amount_minor, x.currency)).join(' · ') || '–';
}

async function extras(ctx, id, box) {
  /* Consent and preferences live in marketing; a role without them (a
   * sales rep) just does not see this part. */
  const [consent, prefs] = await Promise.allSettled([
    ctx.api('GET', '/v1/consent/' + encodeURIComponent(id)),
    ctx.api('GET', '/v1/preferences/' + encodeURIComponent(id))]);
  clear(box);
  if (consent.status === 'fulfilled') {
    const c = consent.value;
    box.appendChild(props([
      ['Consent given for', (c.granted || []).map((p) => lower(p, 'CONSENT_PURPOSE_')).join(', ') || 'nothing', { id: 'consent-granted' }],
      ['Consent ledger', String((c.entries || []).length) + ' entries'],
    ]));
    if ((c.entries || []).length)
      box.appendChild(el('details', {}, el('summary', {}, 'Consent ledger'), el('ul', {}, c.entries.map((e) =>
        el('li', {}, date(e.at_us), ' ', e.granted ? 'granted ' : 'withdrew ', lower(e.purpose, 'CONSENT_PURPOSE_'),
          ' (', lower(e.source, 'CONSENT_SOURCE_'), ', recorded by ', el('span', { dir: 'auto' }, e.recorded_by || '?'), ')')))));
  } else if (consent.reason.status !== 403 && consent.reason.status !== 404) {
    box.appendChild(el('p', { class: 'error' }, 'Consent: ' + problemText(consent.reason)));
  }
  if (prefs.status === 'fulfilled') {
    const p = prefs.value.preferences || {};
    const win = p.window_start_minute || p.window_end_minute
      ? [p.window_start_minute, p.window_end_minute].map((m) => String(Math.floor(m / 60)).padStart(2, '0') + ':' + String(m % 60).padStart(2, '0')).join('–')
      : 'any time';
    box.appendChild(props([
      ['Preferred channel', lower(p.preferred_channel, 'CHANNEL_') || '–'],
      ['Opted out of', (p.opted_out || []).map((c) => lower(c, 'CHANNEL_')).join(', ') || 'nothing'],
      ['Best time', win + (p.time_zone ? ' (' + p.time_zone + ')' : '')],
      ['Addresses', (prefs.value.addresses || []).map((a) => a.address + (a.undeliverable ? ' (undeliverable)' : '')).join(', ') || '–'],
    ]));
  } else if (prefs.reason.status !== 403 && prefs.reason.status !== 404) {
    box.appendChild(el('p', { class: 'error' }, 'Preferences: ' + problemText(prefs.reason)));
  }
  if (!box.firstChild) box.appendChild(el('p', { class: 'muted' }, 'No consent or preferences recorded, or not for your roles.'));
}

export async function render(root, ctx) {
  const id = ctx.params.id;
  const heading = el('h1', { dir: 'auto', id: 'customer-name' }, 'Customer');
  const picker = el('input', { type: 'datetime-local', id: 'as-of', step: '1' });
  const now = el('button', { type: 'button', id: 'as-of-now' }, 'Today');
  const note = el('p', { id: 'as-of-note', class: 'muted', 'aria-live': 'polite' });
  const body = el('div', { id: 'customer-body', class: 'grid' });
  root.append(heading, el('div', { class: 'toolbar' }, el('label', { for: 'as-of' }, 'As of'), picker, now), note, body);

  async function draw(asOfUs) {
    body.setAttribute('aria-busy', 'true');
    let c;
    try {
      c = await ctx.api('GET', '/v1/customers/' + encodeURIComponent(id) + (asOfUs ? '?as_of_us=' + asOfUs : ''));
    } catch (err) {
      clear(body).appendChild(el('p', { class: 'error', role: 'alert' },
        err.status === 404 && asOfUs ? 'Nothing was known about this customer by then.' : problemText(err)));
      body.setAttribute('aria-busy', 'false');
      return;
    }
    const p = c.profile || {};
    heading.textContent = p.name || c.kpis?.name || id;
    note.textContent = asOfUs ? 'Showing the customer as they were on ' + new Date(asOfUs / 1000).toLocaleString() + '.' : 'Showing the customer today.';
    const k = c.kpis || {};
    const f = c.figures || {};
    const consentBox = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
    clear(body).append(
      el('section', { class: 'card', 'aria-labelledby': 'h-profile' }, el('h2', { id: 'h-profile' }, 'Profile'), props([
        ['Name', p.name, { dir: 'auto', id: 'profile-name' }],
        ['Emails', (p.emails || []).join(', ')],
        ['Phones', (p.phones || []).join(', ')],
        ['Organisation', p.organization, { dir: 'auto' }],
        ['Kind', p.kind],
        ['Country', p.country],
        ['Industry', p.industry],
        ['Owner', p.owner, { dir: 'auto' }],
        ['Registered by', p.registered_by, { dir: 'auto' }],
        ['First seen', date(p.first_seen_us, false)],
      ])),
      el('section', { class: 'card', 'aria-labelledby': 'h-health' }, el('h2', { id: 'h-health' }, 'Health'), healthBox(k)),
      el('section', { class: 'card', 'aria-labelledby': 'h-figures' }, el('h2', { id: 'h-figures' }, 'Figures'), props([
        ['Lifetime value', moneyList(k.ltv)],
        ['Cost to acquire', moneyList(k.cac)],
        ['Orders', String(f.orders ?? 0)],
        ['Last order', date(f.last_order_us, false)],
        ['Activities done', String(f.activities_done ?? 0)],
        ['Campaigns reached', String(f.campaigns_reached ?? 0)],
        ['Tickets', String(f.tickets ?? 0)],
      ])),
      el('section', { class: 'card', 'aria-labelledby': 'h-consent' }, el('h2', { id: 'h-consent' }, 'Consent and preferences'), consentBox),
      el('section', { class: 'card', 'aria-labelledby': 'h-open' }, el('h2', { id: 'h-open' }, 'Open deals and tickets'),
        el('ul', { id: 'open-deals' }, (c.open_deals || []).map((d) => el('li', {}, el('span', { dir: 'auto' }, d.title), ' · ', d.stage, ' · ',
          money(d.amount_minor, d.currency), ' · ', el('span', { dir: 'auto' }, d.owner || '')))),
        el('ul', { id: 'open-tickets' }, (c.open_tickets || []).map((t) => el('li', {}, el('span', { dir: 'auto' }, t.subject), ' · ',
          lower(t.priority, 'TICKET_PRIORITY_'), ' · ', lower(t.status, 'TICKET_STATUS_')))),
        !(c.open_deals || []).length && !(c.open_tickets || []).length ? el('p', { class: 'muted' }, 'None.') : null),
      el('section', { class: 'card wide', 'aria-labelledby': 'h-timeline' }, el('h2', { id: 'h-timeline' }, 'Timeline'),
        el('ol', { class: 'timeline', id: 'timeline', reversed: true }, [...(c.timeline || [])].reverse().map((e) =>
          el('li', {}, el('span', { class: 'muted' }, date(e.at_us)), ' · ', el('strong', {}, e.source), ' · ',
            el('span', { dir: 'auto' }, e.summary || e.type), e.actor ? [' · by ', el('span', { dir: 'auto', class: 'actor' }, e.actor)] : null)))));
    body.setAttribute('aria-busy', 'false');
    body.dataset.asOf = String(asOfUs || 0);
    extras(ctx, id, consentBox);
  }

  picker.addEventListener('change', () => {
    if (!picker.value) return draw(0);
    /* a local date and time, in the user's time zone */
    const t = new Date(picker.value);
    return isNaN(t.getTime()) ? draw(0) : draw(t.getTime() * 1000);
  });
  now.addEventListener('click', () => {
    picker.value = '';
    draw(0);
  });
  await draw(0);
}
