// The dashboard shell: sign-in with an API key (sessionStorage only), navigation, and a hash router
// (#/jobs, #/jobs/{id}, #/files, #/models, #/playground) so the Api serves one static page.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { api, session, ApiError } from './api.js';
import { h, clear, errorBox } from './dom.js';
import { renderJobs } from './jobs.js';
import { renderJob } from './job.js';
import { renderFiles } from './files.js';
import { renderModels } from './models.js';
import { renderPlayground } from './playground.js';

const app = document.getElementById('app');
let leave = () => {};
let caller = null;

const routes = [
  [/^#\/jobs\/([^/?]+)$/, (root, [id]) => renderJob(root, decodeURIComponent(id))],
  [/^#\/files$/, root => renderFiles(root)],
  [/^#\/models$/, (root, _, query) => renderModels(root, query)],
  [/^#\/playground$/, root => renderPlayground(root)],
  [/^(#\/jobs)?$/, root => renderJobs(root)],
];

function signInPage(message) {
  const key = h('input', { type: 'password', id: 'api-key', name: 'api-key', placeholder: 'sk-…', autocomplete: 'off', required: true });
  const status = h('div', {}, message ? errorBox({ message }) : null);
  clear(app, h('main', { class: 'sign-in' },
    h('h1', {}, 'TuningService'),
    h('form', {
      id: 'sign-in',
      onsubmit: async e => {
        e.preventDefault();
        session.signIn(key.value.trim());
        try {
          caller = await api('/v1/me');
          route();
        } catch (error) {
          session.signOut();
          clear(status, errorBox(error instanceof ApiError && error.status === 401 ? { message: 'That key was not accepted.' } : error));
        }
      },
    },
    h('label', { for: 'api-key' }, 'API key'), key,
    h('button', { type: 'submit', id: 'sign-in-button' }, 'Sign in'),
    h('p', { class: 'muted' }, 'The key stays in this browser tab (sessionStorage) and is sent with every request. A project key shows that project only.')),
    status));
  key.focus();
}

function shell() {
  const link = (hash, label) => h('a', { href: hash, class: location.hash.startsWith(hash) || (hash === '#/jobs' && !location.hash) ? 'active' : '' }, label);
  const main = h('main', { id: 'page' });
  clear(app,
    h('header', { class: 'top' },
      h('strong', { class: 'brand' }, 'TuningService'),
      h('nav', {}, link('#/jobs', 'Jobs'), link('#/files', 'Files'), link('#/models', 'Models'), link('#/playground', 'Playground')),
      h('span', { class: 'who', id: 'who' }, caller ? `${caller.admin ? 'admin · ' : ''}${caller.project_id}` : ''),
      h('button', { id: 'sign-out', class: 'link-button', onclick: () => { session.signOut(); caller = null; route(); } }, 'Sign out')),
    main);
  return main;
}

async function route() {
  leave();
  leave = () => {};
  if (!session.key) return signInPage();
  if (!caller) {
    try { caller = await api('/v1/me'); } catch (error) { return signInPage(error.message); }
  }
  const [path, search = ''] = location.hash.split('?');
  const main = shell();
  for (const [pattern, render] of routes) {
    const match = path.match(pattern);
    if (match) { leave = render(main, match.slice(1), new URLSearchParams(search)) ?? (() => {}); return; }
  }
  clear(main, h('p', {}, 'No such page. ', h('a', { href: '#/jobs' }, 'Jobs')));
}

window.addEventListener('hashchange', route);
window.addEventListener('signed-out', () => { caller = null; route(); });
route();
