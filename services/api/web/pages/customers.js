/* pages/customers.js: every customer with health and its reasons, lowest
 * first (analytics' health report), with a filter by name; each opens the
 * customer 360. */
import { el, clear, problemText } from '../lib/fmt.js';

export async function render(root, ctx) {
  root.appendChild(el('h1', {}, 'Customers'));
  const filter = el('input', { id: 'customer-filter', type: 'search', dir: 'auto', autocomplete: 'off' });
  const list = el('div', { class: 'table-wrap' });
  root.append(el('div', { class: 'toolbar' }, el('label', { for: 'customer-filter' }, 'Find by name'), filter), list);
  let customers = [];
  try {
    customers = (await ctx.api('GET', '/v1/reports/health')).customers || [];
  } catch (err) {
    list.appendChild(el('p', { class: 'error', role: 'alert' }, problemText(err)));
    return;
  }
  const draw = () => {
    const q = filter.value.trim().toLocaleLowerCase();
    const rows = customers.filter((c) => !q || (c.name || '').toLocaleLowerCase().includes(q));
    clear(list).appendChild(el('table', { id: 'customers-table' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Customer'), el('th', { scope: 'col', class: 'num' }, 'Health'),
        el('th', { scope: 'col' }, 'Reasons'))),
      el('tbody', {}, rows.slice(0, 500).map((c) => el('tr', {},
        el('td', {}, el('a', { href: '#/customer/' + encodeURIComponent(c.customer_id), dir: 'auto' }, c.name || c.customer_id)),
        el('td', { class: 'num ' + (c.health < 40 ? 'bad' : c.health >= 70 ? 'good' : '') }, String(c.health ?? '–')),
        el('td', {}, (c.health_reasons || []).join('; ')))))));
    if (!rows.length) list.appendChild(el('p', { class: 'muted' }, 'No customer matches.'));
  };
  filter.addEventListener('input', draw);
  draw();
}
