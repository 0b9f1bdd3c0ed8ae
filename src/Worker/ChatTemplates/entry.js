// The script the Worker runs under Jint: @huggingface/jinja's Template behind two global functions.
// Variables travel as JSON so that messages are plain JS objects, exactly as transformers.js passes them.
import { Template } from '@huggingface/jinja';

// Jint does not implement Intl (ECMA-402); strftime_now's %b/%B ask Intl.DateTimeFormat for month names. English ones, as Python's strftime
// gives them in the C locale that transformers renders under.
if (typeof Intl === 'undefined' || typeof Intl.DateTimeFormat !== 'function') {
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  globalThis.Intl = {
    DateTimeFormat: function (locale, options) {
      return { format: (date) => (options && options.month === 'short' ? months[date.getMonth()].slice(0, 3) : months[date.getMonth()]) };
    },
  };
}

const templates = [];

/** Parses a chat template once; returns the handle renderChatTemplate takes. */
globalThis.prepareChatTemplate = (source) => templates.push(new Template(source)) - 1;

/** Renders a prepared template with the variables given as a JSON object (messages, add_generation_prompt, special tokens...). */
globalThis.renderChatTemplate = (handle, variablesJson) => templates[handle].render(JSON.parse(variablesJson));
