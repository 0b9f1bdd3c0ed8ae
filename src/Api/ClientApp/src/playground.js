// Playground: chat with any listed model through POST /v1/chat/completions, when the server has that route.
import { api, routeExists } from './api.js';
import { h, clear, errorBox } from './dom.js';

export function renderPlayground(root) {
  clear(root, h('h1', {}, 'Playground'), h('p', { class: 'muted' }, 'Checking for an inference route…'));
  (async () => {
    if (!(await routeExists('/v1/chat/completions'))) {
      clear(root, h('h1', {}, 'Playground'),
        h('p', { id: 'playground-unavailable', class: 'muted' }, 'Not available: this server has no /v1/chat/completions route (no inference worker is configured).'));
      return;
    }
    const models = (await api('/v1/models')).data;
    const history = [];
    const transcript = h('div', { class: 'transcript', id: 'transcript' });
    const model = h('select', { id: 'playground-model' }, models.map(m => h('option', { value: m.id }, m.id)));
    const prompt = h('textarea', { id: 'playground-prompt', rows: 3, placeholder: 'Say something…' });
    const maxTokens = h('input', { type: 'number', value: 64, min: 1, max: 2048, 'aria-label': 'max tokens' });
    const say = (role, text) => transcript.append(h('div', { class: `turn turn-${role}` }, h('strong', {}, role), ' ', text));
    const form = h('form', {
      class: 'playground',
      onsubmit: async e => {
        e.preventDefault();
        const content = prompt.value.trim();
        if (!content) return;
        history.push({ role: 'user', content });
        say('user', content);
        prompt.value = '';
        try {
          const reply = await api('/v1/chat/completions', { method: 'POST', json: { model: model.value, messages: history, max_tokens: Number(maxTokens.value) } });
          const message = reply.choices?.[0]?.message ?? { role: 'assistant', content: '' };
          history.push({ role: 'assistant', content: message.content ?? '' });
          say('assistant', message.content ?? '');
        } catch (error) { transcript.append(errorBox(error)); }
      },
    }, h('div', { class: 'toolbar' }, model, h('label', {}, 'max tokens ', maxTokens)), transcript, prompt, h('button', { type: 'submit' }, 'Send'));
    clear(root, h('h1', {}, 'Playground'), form);
  })().catch(error => root.append(errorBox(error)));
  return () => {};
}
