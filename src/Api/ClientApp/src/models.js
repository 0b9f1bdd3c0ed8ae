// Models: base presets and checkpoints, this project's fine-tuned models and their files (downloads need the key,
// so they are fetched as blobs).
import { api, download } from './api.js';
import { h, clear, time, bytes, number, errorBox } from './dom.js';

export function renderModels(root, query) {
  const body = h('tbody');
  const filesBox = h('section', { id: 'model-files' });
  clear(root, h('h1', {}, 'Models'),
    h('div', { class: 'stack' },
      h('table', { class: 'table', id: 'models' },
        h('thead', {}, h('tr', {}, ['Model', 'Kind', 'Base', 'Parameters', 'Created'].map(c => h('th', {}, c)))), body),
      filesBox));

  async function showFiles(id) {
    clear(filesBox, h('h2', {}, 'Files of ', h('span', { class: 'mono' }, id)), h('p', { class: 'muted' }, 'Loading…'));
    try {
      const list = await api(`/v1/models/${encodeURIComponent(id)}/files`);
      clear(filesBox, h('h2', {}, 'Files of ', h('span', { class: 'mono' }, id)),
        list.data.length === 0 ? h('p', { class: 'muted' }, 'A built-in preset: no files to download.') :
          h('ul', { class: 'downloads' }, list.data.map(f => h('li', {},
            h('a', {
              href: '#', class: 'mono',
              onclick: e => { e.preventDefault(); download(`/v1/models/${encodeURIComponent(id)}/files/${encodeURIComponent(f.name)}`, f.name).catch(err => filesBox.append(errorBox(err))); },
            }, f.name), ' ', h('span', { class: 'muted' }, bytes(f.bytes))))));
    } catch (error) { clear(filesBox, errorBox(error)); }
  }

  (async () => {
    try {
      const list = await api('/v1/models');
      const models = [...list.data].sort((a, b) => b.created - a.created);
      clear(body, models.map(m => h('tr', { dataset: { modelId: m.id } },
        h('td', {}, h('a', { href: '#', class: 'mono', onclick: e => { e.preventDefault(); showFiles(m.id); } }, m.id)),
        h('td', {}, m.kind), h('td', { class: 'mono' }, m.base_model ?? '—'), h('td', {}, number(m.parameter_count)), h('td', {}, time(m.created)))));
      const open = query.get('open');
      if (open) showFiles(open);
    } catch (error) { clear(body, h('tr', {}, h('td', { colspan: 5 }, errorBox(error)))); }
  })();
  return () => {};
}
