/* lib/api.js: the one way pages talk to crm-api. Same origin, the session
 * cookie (HttpOnly, so scripts never see it) goes with every request. A
 * non-2xx answer becomes an Error carrying the HTTP status and the RFC 9457
 * problem object, so pages can show its title, detail and hint. */

/* Called on every 401 (the session expired or ended); app.js sets it. */
let onUnauthenticated = null;

export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

function newKey() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return String(Date.now()) + Math.random().toString(16).slice(2);
}

/* api('GET', '/v1/deals?owner=ada') -> Promise of the parsed JSON (null for
 * 204). Writes carry an Idempotency-Key, so a retry is applied once. */
export async function api(method, path, body, headers = {}) {
  const h = { Accept: 'application/json', ...headers };
  const init = { method, credentials: 'same-origin', headers: h };
  if (body !== undefined && body !== null) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && !h['Idempotency-Key']) h['Idempotency-Key'] = newKey();
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    const err = new Error('the server could not be reached');
    err.status = 0;
    err.problem = { title: 'the server could not be reached', detail: String(e), status: 0 };
    throw err;
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (type.startsWith('application/json') || type.startsWith('application/problem+json')) {
      try {
        data = text ? JSON.parse(text) : null;
      } catch (e) {
        data = null;
      }
    } else {
      data = text;
    }
  }
  if (!res.ok) {
    const problem = data && typeof data === 'object' ? data : { title: res.statusText, status: res.status };
    const err = new Error(problem.title || 'HTTP ' + res.status);
    err.status = res.status;
    err.problem = problem;
    err.etag = res.headers.get('ETag');
    if (res.status === 401 && onUnauthenticated && !path.startsWith('/v1/sessions')) onUnauthenticated(err);
    throw err;
  }
  return data;
}
