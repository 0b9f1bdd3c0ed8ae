// One job: status and controls, live metric charts, events, checkpoints, hyperparameters and the error if it failed.
import { api, terminal } from './api.js';
import { h, clear, time, relative, number, statusBadge, errorBox } from './dom.js';
import { MetricCharts } from './charts.js';
import { followJob } from './live.js';
import { progressBar } from './jobs.js';

const maxEventRows = 500;

export function renderJob(root, jobId) {
  const header = h('section', { class: 'job-header' });
  const controls = h('div', { class: 'controls' });
  const failure = h('div');
  const chartsBox = h('div', { class: 'charts', id: 'charts', dataset: { steps: 0 } }, h('p', { class: 'placeholder muted' }, 'No metrics yet: charts appear with the first training step.'));
  const eventsBody = h('tbody');
  const checkpointsBox = h('div');
  const settingsBox = h('div');
  const mode = h('span', { class: 'muted', id: 'live-mode' });

  clear(root,
    h('p', {}, h('a', { href: '#/jobs' }, '← all jobs')),
    header, controls, failure,
    h('h2', {}, 'Metrics ', mode), chartsBox,
    h('div', { class: 'columns' },
      h('section', {}, h('h2', {}, 'Checkpoints'), checkpointsBox),
      h('section', {}, h('h2', {}, 'Hyperparameters'), settingsBox)),
    h('h2', {}, 'Events'),
    h('table', { class: 'table events', id: 'events' }, h('thead', {}, h('tr', {}, ['Time', 'Level', 'Message'].map(c => h('th', {}, c)))), eventsBody));

  const charts = new MetricCharts(chartsBox);
  let last = null;

  const control = action => async () => {
    Object.values(buttons).forEach(b => { b.disabled = true; });
    try { showJob(await api(`/v1/fine_tuning/jobs/${jobId}/${action}`, { method: 'POST' })); }
    catch (error) { controls.append(errorBox(error)); }
  };
  // Made once and only enabled or disabled afterwards, so a click never lands on a button being replaced.
  const buttons = Object.fromEntries(['cancel', 'pause', 'resume'].map(action => [action,
    h('button', { id: `${action}-job`, class: action === 'cancel' ? 'danger' : '', disabled: true, onclick: control(action) }, action[0].toUpperCase() + action.slice(1))]));
  controls.append(...Object.values(buttons));

  function showJob(job) {
    const changed = !last || last.status !== job.status || last.fine_tuned_model !== job.fine_tuned_model;
    last = job;
    const { step, total_steps: total, epoch } = job.progress ?? {};
    clear(header,
      h('h1', {}, job.id, ' ', statusBadge(job.status)),
      h('dl', { class: 'facts' },
        fact('Model', job.model), fact('Method', job.method?.type),
        fact('Progress', progressBar(total ? Math.round((100 * step) / total) : 0, total ? `step ${step}/${total} · epoch ${number(epoch)}` : '—')),
        fact('ETA', terminal.has(job.status) ? '—' : relative(job.estimated_finish)),
        fact('Created', time(job.created_at)), fact('Finished', time(job.finished_at)),
        fact('Trained tokens', number(job.trained_tokens ?? job.metrics?.trained_tokens)),
        fact('Fine-tuned model', job.fine_tuned_model ? h('a', { href: `#/models?open=${encodeURIComponent(job.fine_tuned_model)}`, class: 'mono' }, job.fine_tuned_model) : '—'),
        fact('Training file', h('span', { class: 'mono' }, job.training_file)),
        fact('Validation file', h('span', { class: 'mono' }, job.validation_file ?? '—'))));
    const can = {
      cancel: ['validating_files', 'queued', 'running', 'paused'].includes(job.status),
      pause: ['queued', 'running'].includes(job.status),
      resume: job.status === 'paused',
    };
    for (const [action, enabled] of Object.entries(can)) buttons[action].disabled = !enabled;
    clear(failure, job.error ? h('div', { class: 'error-box', role: 'alert', id: 'job-error' },
      h('strong', {}, job.error.code), ': ', job.error.message, job.error.param ? ` (${job.error.param})` : '') : null);
    clear(settingsBox, settingsTable(job));
    if (changed) loadCheckpoints();
  }

  async function loadCheckpoints() {
    try {
      const list = await api(`/v1/fine_tuning/jobs/${jobId}/checkpoints?limit=100`);
      clear(checkpointsBox, list.data.length === 0 ? h('p', { class: 'muted' }, 'None yet.') : h('table', { class: 'table', id: 'checkpoints' },
        h('thead', {}, h('tr', {}, ['Step', 'Checkpoint', 'Train loss', 'Valid loss', 'Accuracy'].map(c => h('th', {}, c)))),
        h('tbody', {}, list.data.map(c => h('tr', {},
          h('td', {}, c.step_number),
          h('td', { class: 'mono' }, c.fine_tuned_model_checkpoint),
          h('td', {}, number(c.metrics?.train_loss)),
          h('td', {}, number(c.metrics?.valid_loss ?? c.metrics?.full_valid_loss)),
          h('td', {}, number(c.metrics?.train_mean_token_accuracy ?? c.metrics?.valid_mean_token_accuracy)))))));
    } catch (error) {
      clear(checkpointsBox, errorBox(error));
    }
  }

  function showEvents(events) {
    let checkpointSeen = false;
    for (const e of events) {
      if (e.type === 'metrics') charts.add(e.data);
      if (/checkpoint/i.test(e.message ?? '')) checkpointSeen = true;
      eventsBody.prepend(h('tr', { class: `level-${e.level}`, dataset: { type: e.type } },
        h('td', { title: e.id }, time(e.created_at)), h('td', {}, e.level), h('td', {}, e.message)));
    }
    while (eventsBody.rows.length > maxEventRows) eventsBody.lastElementChild.remove();
    if (checkpointSeen) loadCheckpoints();
  }

  const labels = { stream: 'live (event stream)', polling: 'live (polling)', finished: '', error: 'connection lost, retrying' };
  const stop = followJob(jobId, {
    onJob: showJob,
    onEvents: showEvents,
    onMode: (m, error) => { mode.textContent = labels[m] ?? ''; mode.dataset.mode = m; if (m === 'error') console.warn(error); },
  });
  return () => { stop(); charts.destroy(); };
}

function fact(name, value) {
  return [h('dt', {}, name), h('dd', {}, value ?? '—')];
}

function settingsTable(job) {
  const method = job.method ?? {};
  const selected = method[method.type] ?? {};
  const rows = [];
  const walk = (prefix, value) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
    else if (value !== null && value !== undefined) rows.push([prefix, Array.isArray(value) ? value.join(', ') : value]);
  };
  walk('', selected.hyperparameters ?? selected);
  rows.push(['seed', job.seed]);
  if (job.user_provided_suffix) rows.push(['suffix', job.user_provided_suffix]);
  for (const [k, v] of Object.entries(job.metadata ?? {})) rows.push([`metadata.${k}`, v]);
  return h('table', { class: 'table compact', id: 'hyperparameters' }, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'mono' }, String(v))))));
}

