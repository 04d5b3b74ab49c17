/* pages/customer.js: (being built) */
import { el } from '../lib/fmt.js';

export async function render(root, ctx) {
  root.appendChild(el('h1', {}, 'customer'));
  root.appendChild(el('p', { class: 'muted' }, JSON.stringify(ctx.params)));
}
