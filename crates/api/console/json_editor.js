// The workbench's JSON editor: a monospace textarea with a line-number gutter that marks the
// lines holding problems, and a way to select a range (where a problem's pointer is).

import { h, uid } from './ui.js';

/**
 * jsonEditor({label, value, onInput}) → {element, textarea, text(), setText(t), mark(lines), select(start, end)}.
 * `mark` takes a Map of 1-based line → message.
 */
export function jsonEditor({ label, value = '', onInput = () => {} }) {
  const id = uid('editor');
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const textarea = h('textarea', {
    id,
    class: 'code',
    wrap: 'off',
    spellcheck: 'false',
    autocapitalize: 'off',
    autocomplete: 'off',
    rows: '28',
    'aria-describedby': `${id}-hint`,
  });
  textarea.value = value;
  let marks = new Map();

  const drawGutter = () => {
    const lines = textarea.value.split('\n').length;
    const rows = [];
    for (let line = 1; line <= lines; line += 1) {
      const message = marks.get(line);
      rows.push(h('div', message ? { class: 'line has-problem', title: message } : { class: 'line' }, String(line)));
    }
    gutter.replaceChildren(...rows);
    gutter.scrollTop = textarea.scrollTop;
  };
  textarea.addEventListener('input', () => {
    drawGutter();
    onInput(textarea.value);
  });
  textarea.addEventListener('scroll', () => {
    gutter.scrollTop = textarea.scrollTop;
  });
  drawGutter();

  const element = h(
    'div',
    { class: 'json-editor' },
    h('label', { for: id }, label),
    h('p', { class: 'hint', id: `${id}-hint` }, 'Paste or edit a connection spec as JSON; it is checked by the server as you type. Tab moves to the next control.'),
    h('div', { class: 'editor-frame' }, gutter, textarea),
  );

  return {
    element,
    textarea,
    text: () => textarea.value,
    setText(text) {
      textarea.value = text;
      drawGutter();
      onInput(text);
    },
    mark(lines) {
      marks = lines;
      drawGutter();
    },
    select(start, end) {
      textarea.focus();
      textarea.setSelectionRange(start, end);
      const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 18;
      const line = textarea.value.slice(0, start).split('\n').length;
      textarea.scrollTop = Math.max(0, (line - 4) * lineHeight);
      gutter.scrollTop = textarea.scrollTop;
    },
  };
}
