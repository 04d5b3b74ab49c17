/* lib/charts.js: charts through Chart.js (npm chart.js, pinned in
 * package.json; the build copies its UMD file next to the pages and
 * index.html loads it as a classic script, so it is window.Chart). One
 * chart per canvas: drawing again on a canvas replaces its chart. */

const charts = new WeakMap();

/* chart(canvas, config) -> the Chart. config is Chart.js's ({type, data,
 * options}); responsive defaults and no animation (screenshots and tests
 * see the final picture at once) are laid under it. */
export function chart(canvas, config) {
  const Chart = globalThis.Chart;
  if (!Chart) throw new Error('Chart.js is not loaded');
  const old = charts.get(canvas);
  if (old) old.destroy();
  const options = { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options || {}) };
  const c = new Chart(canvas, { ...config, options });
  charts.set(canvas, c);
  return c;
}

/* A canvas in a sized box with a text alternative for screen readers. */
export function chartBox(label, height = 260) {
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const box = document.createElement('div');
  box.className = 'chart';
  box.style.height = height + 'px';
  box.appendChild(canvas);
  return { box, canvas };
}
