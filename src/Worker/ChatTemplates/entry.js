// The script the Worker runs under Jint: @huggingface/jinja's Template behind two global functions.
// Variables travel as JSON so that messages are plain JS objects, exactly as transformers.js passes them.
import { Template } from '@huggingface/jinja';

const templates = [];

/** Parses a chat template once; returns the handle renderChatTemplate takes. */
globalThis.prepareChatTemplate = (source) => templates.push(new Template(source)) - 1;

/** Renders a prepared template with the variables given as a JSON object (messages, add_generation_prompt, special tokens...). */
globalThis.renderChatTemplate = (handle, variablesJson) => templates[handle].render(JSON.parse(variablesJson));
