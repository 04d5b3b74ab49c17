/* lib/events.js: the event feed (GET /v1/events, Server-Sent Events) as
 * one shared EventSource. Pages subscribe by type prefix; the browser
 * reconnects by itself and sends Last-Event-ID, so nothing is skipped. */

let source = null;
const subs = new Set();

function dispatch(msg) {
  let ev;
  try {
    ev = JSON.parse(msg.data);
  } catch (e) {
    return;
  }
  for (const s of subs) if (!s.prefix || (ev.type || '').startsWith(s.prefix)) s.fn(ev);
}

/* Calls fn(cloudEvent) for each new event whose type starts with prefix
 * ("" = all). Returns the function that unsubscribes. The feed starts at
 * the current end of every stream (from=now is asked as the position the
 * server reports first), so old events are not replayed. */
export function subscribe(prefix, fn) {
  const s = { prefix, fn };
  subs.add(s);
  if (!source) {
    source = new EventSource('/v1/events?from=now', { withCredentials: true });
    source.onmessage = dispatch;
  }
  return () => {
    subs.delete(s);
    if (subs.size === 0 && source) {
      source.close();
      source = null;
    }
  };
}

/* Closes the feed (logout). */
export function closeAll() {
  subs.clear();
  if (source) source.close();
  source = null;
}
