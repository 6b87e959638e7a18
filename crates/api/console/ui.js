// Small DOM helpers every page shares: an element builder, tables of records, error boxes that
// show the API's message and pointers, empty states, and time formatting in the user's zone.

import { ApiError } from './api.js';

/**
 * h('button', {class: 'x', onclick: f, type: 'button'}, 'Text', child...) → an element.
 * Attributes starting with `on` are listeners; `class` and `for` as in HTML; false/null skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'value' && 'value' in element) {
      element.value = value;
    } else if (name === 'checked' || name === 'selected' || name === 'disabled') {
      element[name] = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  appendChildren(element, children);
  return element;
}

function appendChildren(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let idCounter = 0;
/** A document-unique id for label/input pairs. */
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled input row: label above, the control, an optional hint tied by aria-describedby. */
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid('input');
  const children = [h('label', { for: control.id }, labelText), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    children.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  return h('div', { class: 'field' }, children);
}

/** The page heading and an optional line under it. */
export function pageHeader(title, subtitle, ...actions) {
  return h(
    'div',
    { class: 'page-header' },
    h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
    actions.length ? h('div', { class: 'actions' }, actions) : null,
  );
}

export function emptyState(text, ...actions) {
  return h('div', { class: 'empty' }, h('p', {}, text), actions);
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

/** An error box: the API's message, its code, and each problem with its pointer. */
export function errorBox(error, { onPointer } = {}) {
  const box = h('div', { class: 'error-box', role: 'alert' });
  const message = error instanceof Error ? error.message : String(error);
  box.append(h('p', { class: 'error-message' }, message));
  if (error instanceof ApiError && error.code) {
    box.append(h('p', { class: 'error-code' }, `${error.code}${error.status ? ` (HTTP ${error.status})` : ''}`));
  }
  if (error instanceof ApiError && error.problems.length) {
    box.append(problemList(error.problems, onPointer));
  }
  return box;
}

/** A list of {pointer, message}; with onPointer each pointer is a button that jumps there. */
export function problemList(problems, onPointer) {
  return h(
    'ul',
    { class: 'problems' },
    problems.map((problem) =>
      h(
        'li',
        {},
        onPointer
          ? h('button', { type: 'button', class: 'pointer link', onclick: () => onPointer(problem.pointer) }, problem.pointer || '/')
          : h('code', { class: 'pointer' }, problem.pointer || '/'),
        ' ',
        h('span', { class: 'problem-message' }, problem.message),
      ),
    ),
  );
}

/** Puts `error` into `slot` (replacing what it held), or clears it when error is null. */
export function showError(slot, error, options) {
  slot.replaceChildren(...(error ? [errorBox(error, options)] : []));
}

function cellText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Column names of records: the union of their keys in first-seen order. */
export function recordColumns(records) {
  const seen = new Set();
  for (const record of records) {
    if (record && typeof record === 'object') Object.keys(record).forEach((key) => seen.add(key));
  }
  return [...seen];
}

/** A scrollable table of records (objects), columns from `columns` or the records' keys. */
export function recordsTable(records, { columns, caption } = {}) {
  const names = columns || recordColumns(records);
  const table = h(
    'table',
    { class: 'data' },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, names.map((name) => h('th', { scope: 'col' }, name)))),
    h(
      'tbody',
      {},
      records.map((record) =>
        h('tr', {}, names.map((name) => {
          const text = cellText(record?.[name]);
          return h('td', { class: 'clip', title: text.length > 40 ? text : false }, text);
        })),
      ),
    ),
  );
  return h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': caption || 'Records' }, table);
}

/** A table from rows of cells; `headers` are strings, cells strings or nodes. */
export function simpleTable(headers, rows, { caption, className = 'data' } = {}) {
  const table = h(
    'table',
    { class: className },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell ?? ''))))),
  );
  return h('div', { class: 'table-scroll' }, table);
}

/** The schema columns [{name, type}] as a two-column table. */
export function schemaTable(columns, caption = 'Schema') {
  return simpleTable(['Column', 'Type'], (columns || []).map((column) => [column.name, h('code', {}, column.type)]), { caption });
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Epoch milliseconds → the user's local date and time ('' for none). */
export function formatMillis(millis) {
  if (millis === null || millis === undefined || millis === '' || Number.isNaN(Number(millis))) return '';
  return dateTime.format(new Date(Number(millis)));
}

/** Epoch seconds → the user's local date and time. */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || seconds === '') return '';
  return formatMillis(Number(seconds) * 1000);
}

export function formatDuration(millis) {
  if (millis === null || millis === undefined || Number.isNaN(millis)) return '';
  if (millis < 1000) return `${Math.round(millis)} ms`;
  if (millis < 60000) return `${(millis / 1000).toFixed(1)} s`;
  return `${Math.floor(millis / 60000)} min ${Math.round((millis % 60000) / 1000)} s`;
}

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';

/** A `<input type=datetime-local>` value for epoch milliseconds, in the user's zone. */
export function toLocalInput(millis) {
  const date = new Date(millis);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local value (the user's zone) → epoch milliseconds, NaN when empty/invalid. */
export function fromLocalInput(value) {
  if (!value) return NaN;
  return new Date(value).getTime();
}

/** A status as a coloured badge (text stays, colour only helps). */
export function statusBadge(status) {
  const text = status || 'unknown';
  return h('span', { class: `badge status-${String(text).replace(/[^A-Za-z0-9]/g, '')}` }, text);
}

/** Shows a passing message in the flash area under the header. */
export function flash(message) {
  const slot = document.getElementById('flash');
  slot.textContent = message;
  slot.classList.add('visible');
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => slot.classList.remove('visible'), 3000);
}

/** Runs `action` with `button` disabled and busy, showing failures in `errorSlot`. */
export async function busy(button, errorSlot, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (errorSlot) errorSlot.replaceChildren();
  try {
    return await action();
  } catch (error) {
    if (errorSlot) showError(errorSlot, error);
    else throw error;
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
