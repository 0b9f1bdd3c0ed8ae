// Files: upload, list, and each file's validation report (the errors by line, field and code; warnings).
import { api } from './api.js';
import { h, clear, time, bytes, number, errorBox } from './dom.js';

export function renderFiles(root) {
  const body = h('tbody');
  const report = h('section', { id: 'file-report' });
  const message = h('div');
  const input = h('input', { type: 'file', id: 'upload-input', accept: '.jsonl,.json,.txt' });
  const upload = h('form', {
    class: 'toolbar', id: 'upload-form',
    onsubmit: async e => {
      e.preventDefault();
      if (!input.files?.length) return;
      const form = new FormData();
      form.append('purpose', 'fine-tune');
      form.append('file', input.files[0]);
      clear(message, h('p', { class: 'muted' }, 'Uploading and validating…'));
      try {
        const file = await api('/v1/files', { method: 'POST', form });
        clear(message);
        input.value = '';
        await load();
        showReport(file);
      } catch (error) { clear(message, errorBox(error)); }
    },
  }, input, h('button', { type: 'submit', id: 'upload-button' }, 'Upload'));

  clear(root, h('h1', {}, 'Files'), upload, message,
    h('div', { class: 'stack' },
      h('table', { class: 'table', id: 'files' },
        h('thead', {}, h('tr', {}, ['File', 'Name', 'Format', 'Examples', 'Size', 'Status', 'Created'].map(c => h('th', {}, c)))), body),
      report));

  async function load() {
    try {
      const list = await api('/v1/files?limit=100');
      clear(body, list.data.map(f => h('tr', { dataset: { fileId: f.id } },
        h('td', {}, h('a', { href: '#', class: 'mono', onclick: e => { e.preventDefault(); showReport(f); } }, f.id)),
        h('td', {}, f.filename), h('td', {}, f.format ?? '—'), h('td', {}, number(f.examples)), h('td', {}, bytes(f.bytes)),
        h('td', {}, h('span', { class: `badge status-${f.status === 'processed' ? 'succeeded' : 'failed'}` }, f.status)),
        h('td', {}, time(f.created_at)))));
      if (list.data.length === 0) clear(body, h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No files yet.')));
    } catch (error) { clear(message, errorBox(error)); }
  }

  function showReport(file) {
    const v = file.validation;
    clear(report,
      h('h2', {}, file.filename, ' ', h('span', { class: 'muted mono' }, file.id)),
      h('p', {}, file.status === 'processed'
        ? `Valid ${file.format} dataset with ${number(file.examples)} examples.`
        : h('span', { class: 'error-text' }, file.status_details ?? 'Validation failed.')),
      v ? h('div', { id: 'validation-report' },
        h('p', { class: 'muted' }, `${number(v.error_count)} problem(s) in ${number(v.lines)} line(s) read.`),
        h('table', { class: 'table compact', id: 'validation-errors' },
          h('thead', {}, h('tr', {}, ['Line', 'Field', 'Code', 'Message'].map(c => h('th', {}, c)))),
          h('tbody', {}, v.errors.map(e => h('tr', {},
            h('td', {}, e.line ?? '—'), h('td', { class: 'mono' }, e.field ?? '—'), h('td', { class: 'mono' }, e.code), h('td', {}, e.message)))))) : null,
      (file.warnings ?? []).length ? h('div', {}, h('h3', {}, 'Warnings'),
        h('ul', { class: 'warnings' }, file.warnings.map(w => h('li', {}, w.code ? h('span', { class: 'mono' }, `${w.code}: `) : '', w.message ?? JSON.stringify(w))))) : null);
  }

  load();
  return () => {};
}
