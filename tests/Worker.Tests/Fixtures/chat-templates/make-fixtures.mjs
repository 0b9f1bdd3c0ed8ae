// Renders fixed conversations through every template of templates.json with Hugging Face's own @huggingface/jinja
// under Node (the reference), and records the results in expected.json for ChatTemplateFixtureTests.
// Usage, after a build of src/Worker (whose ChatTemplates/ folder holds the pinned @huggingface/jinja):
//   node tests/Worker.Tests/Fixtures/chat-templates/make-fixtures.mjs
// Variables are passed as transformers' apply_chat_template passes them: messages, add_generation_prompt and the
// tokenizer's special tokens (bos_token, eos_token). Templates that refuse a conversation record the error message.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Template } = await import(path.join(here, '../../../../src/Worker/ChatTemplates/node_modules/@huggingface/jinja/dist/index.js'));
const templates = JSON.parse(fs.readFileSync(path.join(here, 'templates.json'), 'utf8'));

const system = { role: 'system', content: 'You are a terse assistant. Answer in one line.' };
const conversations = {
  'system-multi-turn': [
    system,
    { role: 'user', content: 'What is the capital of France?' },
    { role: 'assistant', content: 'Paris.' },
    { role: 'user', content: 'And of Italy?\nOne word, please.' },
    { role: 'assistant', content: ' Rome, of course. ' },
  ],
  'system-prompt': [system, { role: 'user', content: 'Name a prime number.' }],
  'multi-turn': [
    { role: 'user', content: 'Hello there!' },
    { role: 'assistant', content: 'Hi! How can I help?' },
    { role: 'user', content: 'Count to three: "1, 2, 3" & stop.' },
    { role: 'assistant', content: '1, 2, 3.' },
  ],
  'single-prompt': [{ role: 'user', content: 'Say "hi" in French.' }],
  'not-alternating': [{ role: 'user', content: 'one' }, { role: 'user', content: 'two' }],
};

const cases = [];
for (const t of templates) {
  const template = new Template(t.chat_template);
  for (const [conversation, messages] of Object.entries(conversations)) {
    for (const add_generation_prompt of [false, true]) {
      const variables = { messages, add_generation_prompt, bos_token: t.bos_token, eos_token: t.eos_token };
      let expected = null, error = null;
      try { expected = template.render(variables); } catch (e) { error = e.message; }
      cases.push({ template: t.name, conversation, add_generation_prompt, expected, error });
    }
  }
}
fs.writeFileSync(path.join(here, 'expected.json'), JSON.stringify({ conversations, cases }, null, 2) + '\n');
console.log(`${cases.length} renderings, ${cases.filter(c => c.error).length} refused`);
