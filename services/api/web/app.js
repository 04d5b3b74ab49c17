/* app.js: the dashboard's shell. A hash router over one table of pages
 * (PAGES), the login screen, the navigation (only the pages the
 * principal's roles allow) and logout. Each page is a module
 * (pages/<name>.js) exporting render(root, ctx); it is loaded when first
 * opened. The server decides what anyone may see (every API call is
 * checked against the caller's roles); the roles here only choose which
 * pages to offer and say clearly when a page is not for this user. */
import { api, setUnauthenticatedHandler } from './lib/api.js';
import { el, clear, problemText } from './lib/fmt.js';
import { closeAll, subscribe } from './lib/events.js';

/* hash: '#/name' or '#/name/:param'; roles: who may open it (admin always
 * may; [] = all staff). Other helpers append their rows here. */
export const PAGES = [
  { hash: '#/home', module: './pages/home.js', title: 'Home', roles: [] },
  { hash: '#/customers', module: './pages/customers.js', title: 'Customers', roles: [] },
  { hash: '#/sales', module: './pages/sales.js', title: 'Sales', roles: ['sales-rep', 'sales-manager'] },
  { hash: '#/customer/:id', module: './pages/customer.js', title: 'Customer', roles: [], nav: false },
  { hash: '#/marketing', module: './pages/marketing.js', title: 'Marketing', roles: ['marketer', 'sales-manager', 'analyst'] },
  { hash: '#/campaign/:id', module: './pages/campaign.js', title: 'Campaign', roles: ['marketer', 'sales-manager', 'analyst'], nav: false },
  { hash: '#/compare', module: './pages/compare.js', title: 'Compare', roles: ['marketer', 'sales-manager', 'analyst'] },
  { hash: '#/compare/:ids', module: './pages/compare.js', title: 'Compare', roles: ['marketer', 'sales-manager', 'analyst'], nav: false },
  { hash: '#/segments', module: './pages/segments.js', title: 'Segments', roles: ['marketer', 'sales-manager', 'analyst'] },
  { hash: '#/support', module: './pages/support.js', title: 'Support', roles: ['support-agent', 'support-lead', 'sales-manager', 'analyst'] },
  { hash: '#/quality', module: './pages/quality.js', title: 'Data quality', roles: ['analyst', 'sales-manager', 'privacy-officer'] },
];

const state = { me: null, leave: [] };

function $(id) {
  return document.getElementById(id);
}

function banner(text) {
  const b = $('banner');
  clear(b);
  if (text) b.appendChild(document.createTextNode(text));
  b.hidden = !text;
}

/* The page and its parameters for a hash, or null. */
function match(hash) {
  const parts = (hash || '').replace(/^#/, '').split('/').filter(Boolean);
  for (const p of PAGES) {
    const t = p.hash.replace(/^#/, '').split('/').filter(Boolean);
    if (t.length !== parts.length) continue;
    const params = {};
    let ok = true;
    t.forEach((seg, i) => {
      if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(parts[i]);
      else if (seg !== parts[i]) ok = false;
    });
    if (ok) return { page: p, params };
  }
  return null;
}

export function allowed(page, me) {
  if (!page.roles || page.roles.length === 0) return true;
  const roles = (me && me.roles) || [];
  return roles.includes('admin') || page.roles.some((r) => roles.includes(r));
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderNav() {
  const nav = clear($('nav'));
  const ul = el('ul', {});
  for (const p of PAGES) {
    if (p.nav === false || !allowed(p, state.me)) continue;
    const current = location.hash.split('/')[1] === p.hash.split('/')[1];
    ul.appendChild(el('li', {}, el('a', { href: p.hash, 'aria-current': current ? 'page' : null }, p.title)));
  }
  nav.appendChild(ul);
  $('who').textContent = state.me.principal + (state.me.roles.length ? ' · ' + state.me.roles.join(', ') : '');
}

function leavePage() {
  for (const fn of state.leave.splice(0)) {
    try {
      fn();
    } catch (e) {
      /* a page's cleanup failing must not stop the next page */
    }
  }
}

async function route() {
  if (!state.me) return;
  leavePage();
  const main = clear($('main'));
  const m = match(location.hash);
  if (!m) {
    if (!location.hash || location.hash === '#' || location.hash === '#/') {
      navigate('#/home');
      return;
    }
    main.appendChild(el('h1', {}, 'No such page'));
    main.appendChild(el('p', { class: 'error', role: 'alert' }, 'There is no page "' + location.hash + '".'));
    return;
  }
  renderNav();
  document.title = m.page.title + ' · CRM';
  if (!allowed(m.page, state.me)) {
    main.appendChild(el('h1', {}, m.page.title));
    main.appendChild(el('p', { class: 'error forbidden', role: 'alert' },
      'This page is not for your roles: it is for ' + m.page.roles.join(', ') + '. You are signed in as ' +
      state.me.principal + ' (' + (state.me.roles.join(', ') || 'no roles') + ').'));
    return;
  }
  const root = el('section', { class: 'page', 'data-page': m.page.hash.split('/')[1] });
  main.appendChild(root);
  const ctx = {
    api,
    me: state.me,
    params: m.params,
    navigate,
    /* fn runs when the user leaves the page (close feeds, timers). */
    onLeave: (fn) => state.leave.push(fn),
    /* Events of the feed whose type starts with prefix, while on the page. */
    onEvent: (prefix, fn) => state.leave.push(subscribe(prefix, fn)),
  };
  try {
    const mod = await import(m.page.module);
    await mod.render(root, ctx);
    main.focus({ preventScroll: true });
  } catch (err) {
    if (err && err.status === 401) return; /* the login screen is shown */
    root.appendChild(el('p', { class: 'error', role: 'alert' }, problemText(err) || String(err)));
  }
}

function showLogin(message) {
  leavePage();
  closeAll();
  state.me = null;
  $('top').hidden = true;
  banner(message || '');
  const main = clear($('main'));
  const err = el('p', { class: 'error', role: 'alert', id: 'login-error', 'aria-live': 'assertive' });
  const principal = el('input', { id: 'login-principal', name: 'principal', autocomplete: 'username', required: true, dir: 'auto' });
  const password = el('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = el('form', { class: 'login', id: 'login', 'aria-labelledby': 'login-title' },
    el('h1', { id: 'login-title' }, 'Log in'),
    el('label', { for: 'login-principal' }, 'Principal'), principal,
    el('label', { for: 'login-password' }, 'Password'), password,
    el('button', { type: 'submit' }, 'Log in'), err);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await api('POST', '/v1/sessions', { principal: principal.value.trim(), password: password.value });
      password.value = '';
      banner('');
      await start();
    } catch (x) {
      password.value = '';
      err.textContent = x.status === 401 ? 'Wrong principal or password.'
        : x.status === 429 ? 'Too many attempts: ' + problemText(x) : problemText(x);
      password.focus();
    }
  });
  main.appendChild(form);
  principal.focus();
}

async function start() {
  try {
    state.me = await api('GET', '/v1/sessions/current');
  } catch (err) {
    const expired = err.problem && (err.problem.code === 'token_expired' || err.problem.code === 'session_expired');
    showLogin(expired ? 'Your session has expired: log in again.' : err.status === 401 ? '' : problemText(err));
    return;
  }
  state.me.roles = state.me.roles || [];
  $('top').hidden = false;
  await route();
}

setUnauthenticatedHandler((err) => {
  const code = err.problem && err.problem.code;
  showLogin(code === 'token_expired' || code === 'session_expired'
    ? 'Your session has expired: log in again.'
    : 'Your session has ended: log in again.');
});

$('logout').addEventListener('click', async () => {
  try {
    await api('DELETE', '/v1/sessions/current');
  } catch (e) {
    /* logged out either way */
  }
  showLogin('You have logged out.');
});

window.addEventListener('hashchange', route);
start();
