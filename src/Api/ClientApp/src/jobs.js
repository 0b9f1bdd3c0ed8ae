// Jobs list: newest first (the API's order), filtered by status and method, refreshed while any job is active.
import { api, terminal } from './api.js';
import { h, clear, relative, statusBadge, errorBox } from './dom.js';

const statuses = ['validating_files', 'queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];
const methods = ['supervised', 'instruction', 'reward_model', 'ppo', 'dpo'];

export function renderJobs(root) {
  const filters = { status: sessionStorage.getItem('filter.status') ?? '', method: sessionStorage.getItem('filter.method') ?? '' };
  const select = (name, options) => h('select', {
    name, 'aria-label': name,
    onchange: e => { filters[name] = e.target.value; sessionStorage.setItem(`filter.${name}`, e.target.value); draw(); },
  }, h('option', { value: '' }, `any ${name}`), options.map(o => h('option', { value: o, selected: filters[name] === o }, o)));

  const body = h('tbody');
  const status = h('p', { class: 'muted' });
  clear(root,
    h('div', { class: 'toolbar' }, h('h1', {}, 'Fine-tuning jobs'), select('status', statuses), select('method', methods)),
    h('table', { class: 'table', id: 'jobs' },
      h('thead', {}, h('tr', {}, ['Job', 'Status', 'Method', 'Model', 'Progress', 'ETA', 'Created'].map(c => h('th', {}, c)))),
      body),
    status);

  let jobs = [];
  let timer;
  let stopped = false;

  function draw() {
    const shown = jobs.filter(j => (!filters.status || j.status === filters.status) && (!filters.method || j.method?.type === filters.method));
    clear(body, shown.map(row));
    status.textContent = shown.length === 0 ? (jobs.length === 0 ? 'No jobs yet. Create one with POST /v1/fine_tuning/jobs.' : 'No job matches the filters.') : '';
  }

  async function load() {
    try {
      const list = await api('/v1/fine_tuning/jobs?limit=100');
      if (stopped) return;
      jobs = list.data;
      draw();
    } catch (error) {
      if (!stopped) clear(status, errorBox(error));
    }
    if (!stopped) timer = setTimeout(load, jobs.some(j => !terminal.has(j.status)) ? 3000 : 15000);
  }
  load();
  return () => { stopped = true; clearTimeout(timer); };
}

function row(job) {
  const { step, total_steps: total } = job.progress ?? {};
  const percent = total ? Math.min(100, Math.round((100 * step) / total)) : 0;
  return h('tr', { dataset: { jobId: job.id } },
    h('td', {}, h('a', { href: `#/jobs/${job.id}` }, job.id)),
    h('td', {}, statusBadge(job.status)),
    h('td', {}, job.method?.type ?? '—'),
    h('td', { class: 'mono' }, job.model),
    h('td', {}, progressBar(percent, total ? `${step}/${total}` : '—')),
    h('td', {}, terminal.has(job.status) ? '—' : relative(job.estimated_finish)),
    h('td', { title: new Date(job.created_at * 1000).toISOString() }, relative(job.created_at)));
}

export function progressBar(percent, label) {
  return h('div', { class: 'progress', title: label },
    h('div', { class: 'progress-fill', style: `width:${percent}%` }),
    h('span', { class: 'progress-label' }, label));
}
