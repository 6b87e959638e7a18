// A form generated from a JSON Schema (the specs' authSpec[].spec and sourceSpec.spec):
// strings, numbers, integers and booleans; enums as selects; required marks; secrets as
// password fields; nested objects as fieldsets; arrays of scalars as comma-separated text.
// Every input has a label; values() reads the form back into the object the API expects.

import { h, uid } from './ui.js';

const SECRET_WORDS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'accesskey', 'authkey', 'privatekey', 'signingkey', 'sessionkey', 'credential', 'bearer'];
const NOT_SECRET_ENDINGS = ['url', 'uri', 'endpoint', 'path', 'type', 'name', 'expiry', 'expiration', 'expiresin', 'expiresat', 'date', 'ttl'];

/** Whether a param is a secret by the server's rules (README, "Credentials at rest"). */
export function isSecretField(name, schema = {}, { keyBased = false } = {}) {
  if (schema.format === 'password' || schema.writeOnly === true) return true;
  if (schema['x-secret'] === true || schema.secret === true || schema.isSecret === true || schema['x-sensitive'] === true) return true;
  if (keyBased && (schema.restAttributes?.headerParamName || /^authkey\d+$/i.test(name))) return true;
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (NOT_SECRET_ENDINGS.some((ending) => plain.endsWith(ending))) return false;
  return SECRET_WORDS.some((word) => plain.includes(word)) || /(^|[^A-Za-z])key$|[a-z]Key$/.test(name) || plain === 'key';
}

function typeOf(schema) {
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== 'null') || 'string';
  if (schema.type) return schema.type;
  if (schema.enum) return typeof schema.enum[0] === 'number' ? 'number' : 'string';
  if (schema.properties) return 'object';
  return 'string';
}

function escapePointer(name) {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function labelFor(name, schema, required) {
  const label = h('span', { class: 'label-text' }, schema.title || name);
  return required ? [label, h('span', { class: 'required', 'aria-hidden': 'true' }, ' *'), h('span', { class: 'visually-hidden' }, ' (required)')] : [label];
}

function scalarControl(name, schema, required, value, options) {
  const type = typeOf(schema);
  const attrs = { id: uid('param'), name, 'data-param': name };
  if (required) {
    attrs.required = true;
    attrs['aria-required'] = 'true';
  }
  if (schema.enum) {
    const select = h(
      'select',
      attrs,
      required ? null : h('option', { value: '' }, '(not set)'),
      schema.enum.map((option) => h('option', { value: String(option), selected: value !== undefined && String(value) === String(option) }, String(option))),
    );
    return { control: select, read: () => (select.value === '' ? undefined : type === 'string' ? select.value : Number(select.value)) };
  }
  if (type === 'boolean') {
    const box = h('input', { ...attrs, type: 'checkbox', checked: value === undefined ? schema.default === true : value === true });
    box.required = false;
    return { control: box, read: () => (box.checked ? true : required || schema.default !== undefined ? false : undefined), checkbox: true };
  }
  if (type === 'number' || type === 'integer') {
    const input = h('input', { ...attrs, type: 'number', step: type === 'integer' ? '1' : 'any', value: value ?? schema.default ?? '' });
    if (schema.minimum !== undefined) input.min = schema.minimum;
    if (schema.maximum !== undefined) input.max = schema.maximum;
    return { control: input, read: () => (input.value === '' ? undefined : Number(input.value)) };
  }
  if (type === 'array') {
    const itemType = typeOf(schema.items || {});
    const scalarItems = ['string', 'number', 'integer'].includes(itemType);
    const shown = Array.isArray(value) ? (scalarItems ? value.join(', ') : JSON.stringify(value)) : '';
    const input = scalarItems ? h('input', { ...attrs, type: 'text', value: shown, placeholder: 'comma-separated' }) : h('textarea', { ...attrs, rows: '3', placeholder: 'JSON array', spellcheck: 'false' }, shown);
    return {
      control: input,
      read: () => {
        const text = input.value.trim();
        if (!text) return undefined;
        if (!scalarItems) return JSON.parse(text);
        const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
        return itemType === 'string' ? parts : parts.map(Number);
      },
    };
  }
  const secret = isSecretField(name, schema, options);
  const input = h('input', {
    ...attrs,
    type: secret ? 'password' : schema.format === 'uri' || schema.format === 'url' ? 'url' : schema.format === 'email' ? 'email' : 'text',
    value: value ?? schema.default ?? '',
    autocomplete: secret ? 'new-password' : 'off',
    spellcheck: 'false',
  });
  if (secret) input.dataset.secret = 'true';
  if (schema.pattern) input.pattern = schema.pattern;
  return { control: input, read: () => (input.value === '' ? undefined : input.value) };
}

function objectFields(schema, values, options, pointer) {
  const properties = schema.properties || {};
  const required = new Set(schema.required || []);
  const readers = [];
  const nodes = [];
  for (const [name, propertySchema] of Object.entries(properties)) {
    const childSchema = propertySchema && typeof propertySchema === 'object' ? propertySchema : {};
    const childPointer = `${pointer}/${escapePointer(name)}`;
    const isRequired = required.has(name);
    if (typeOf(childSchema) === 'object' && childSchema.properties) {
      const inner = objectFields(childSchema, values?.[name] || {}, options, childPointer);
      nodes.push(
        h(
          'fieldset',
          { class: 'nested', 'data-pointer': childPointer },
          h('legend', {}, labelFor(name, childSchema, isRequired)),
          childSchema.description ? h('p', { class: 'hint' }, childSchema.description) : null,
          inner.nodes,
        ),
      );
      readers.push([name, () => {
        const value = inner.read();
        return Object.keys(value).length || isRequired ? value : undefined;
      }]);
      continue;
    }
    const { control, read, checkbox } = scalarControl(name, childSchema, isRequired, values?.[name], options);
    control.dataset.pointer = childPointer;
    const hintId = childSchema.description ? `${control.id}-hint` : null;
    if (hintId) control.setAttribute('aria-describedby', hintId);
    const label = h('label', { for: control.id }, labelFor(name, childSchema, isRequired));
    nodes.push(
      h(
        'div',
        { class: checkbox ? 'field checkbox' : 'field' },
        checkbox ? [control, label] : [label, control],
        hintId ? h('p', { class: 'hint', id: hintId }, childSchema.description) : null,
      ),
    );
    readers.push([name, read]);
  }
  return {
    nodes,
    read: () => {
      const out = {};
      for (const [name, read] of readers) {
        const value = read();
        if (value !== undefined) out[name] = value;
      }
      return out;
    },
  };
}

/**
 * Builds the form of `schema`. Returns {element, values(), missing()}: values() is the object
 * to send (empty optional fields left out), missing() the pointers of required fields left
 * empty. `values` pre-fills the inputs; `keyBased` applies the KeyBased secret rules.
 */
export function schemaForm(schema, { values = {}, keyBased = false, legend, emptyText = 'This schema asks for nothing.' } = {}) {
  const root = schema && typeof schema === 'object' ? schema : {};
  const fields = objectFields(root, values, { keyBased }, '');
  const element = h(
    'fieldset',
    { class: 'schema-form' },
    legend ? h('legend', {}, legend) : null,
    root.description ? h('p', { class: 'hint' }, root.description) : null,
    fields.nodes.length ? fields.nodes : h('p', { class: 'muted' }, emptyText),
  );
  return {
    element,
    values: () => fields.read(),
    missing: () =>
      [...element.querySelectorAll('[required]')]
        .filter((control) => control.type !== 'checkbox' && !control.value)
        .map((control) => ({ pointer: control.dataset.pointer, message: 'is required', control })),
  };
}
