// A few DOM helpers: elements are built with h(), never from HTML strings, so API text is always inert.

/** h('a', {href: '#/x', class: 'link', onclick: fn}, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function time(unix) {
  return unix ? new Date(unix * 1000).toLocaleString() : '—';
}

/** "in 3 min", "2 h ago" for a Unix-seconds time. */
export function relative(unix) {
  if (!unix) return '—';
  const seconds = Math.round(unix - Date.now() / 1000);
  const abs = Math.abs(seconds);
  const [value, unit] = abs < 90 ? [abs, 's'] : abs < 5400 ? [Math.round(abs / 60), 'min'] : abs < 172800 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd'];
  return seconds >= 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

export function bytes(n) {
  if (n == null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function number(value) {
  if (typeof value !== 'number') return value ?? '—';
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? value.toLocaleString() : value.toPrecision(4);
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}`, 'data-status': status }, status.replace('_', ' '));
}

export function errorBox(error) {
  return h('div', { class: 'error-box', role: 'alert' }, error?.message ?? String(error));
}
