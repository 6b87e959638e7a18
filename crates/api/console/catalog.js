// Sources catalog: the sandbox's connection specs as cards (label, description, icon, auth
// types), searchable by name.

import * as api from './api.js';
import { h, field, pageHeader, emptyState, loading, showError } from './ui.js';

/** A uiAttributes text: a string, or {key, default|value|text}; null when none. */
function uiText(value) {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    for (const name of ['default', 'value', 'text', 'en', 'en_US']) {
      if (typeof value[name] === 'string') return value[name];
    }
  }
  return null;
}

function uiAttributes(spec) {
  return { ...(spec.attributes?.uiAttributes || {}), ...(spec.sourceSpec?.attributes?.uiAttributes || {}) };
}

export function specLabel(spec) {
  return uiText(uiAttributes(spec).label) || spec.name || spec.id;
}

function iconUrl(spec) {
  const icon = uiAttributes(spec).icon;
  const candidates = [icon, icon?.url, icon?.src, icon?.data, icon?.key];
  return candidates.find((value) => typeof value === 'string' && value.startsWith('data:image/')) || null;
}

function card(spec) {
  const label = specLabel(spec);
  const icon = iconUrl(spec);
  const description = spec.description || uiText(uiAttributes(spec).description) || '';
  const authTypes = (spec.authSpec || []).map((auth) => auth.type || auth.name).filter(Boolean);
  return h(
    'li',
    { class: 'card spec-card' },
    h(
      'div',
      { class: 'card-title' },
      icon ? h('img', { src: icon, alt: '', class: 'spec-icon', width: '32', height: '32' }) : h('span', { class: 'spec-icon placeholder', 'aria-hidden': 'true' }, label.slice(0, 1).toUpperCase()),
      h('h2', {}, label),
    ),
    h('p', { class: 'description' }, description || 'No description.'),
    h('p', { class: 'meta' }, h('span', {}, spec.name), ' · ', h('span', {}, `version ${spec.version || '1.0'}`)),
    h(
      'ul',
      { class: 'tags', 'aria-label': 'Auth types' },
      authTypes.length ? authTypes.map((type) => h('li', { class: 'tag' }, type)) : h('li', { class: 'tag muted' }, 'no auth'),
    ),
    h(
      'div',
      { class: 'card-actions' },
      h('a', { class: 'button', href: `#/wizard?spec=${encodeURIComponent(spec.id)}` }, 'Create dataflow'),
      h('a', { class: 'button secondary', href: `#/workbench?spec=${encodeURIComponent(spec.id)}` }, 'Edit in workbench'),
    ),
  );
}

export async function render(main) {
  const search = h('input', { type: 'search', placeholder: 'Search by name', autocomplete: 'off' });
  const list = h('ul', { class: 'cards' });
  const status = h('p', { class: 'count', role: 'status' });
  const errors = h('div', { class: 'error-slot' });
  main.append(
    pageHeader('Sources', `Connection specs of sandbox ${api.currentSandbox()}`, h('a', { class: 'button', href: '#/workbench' }, 'New connection spec')),
    h('div', { class: 'toolbar' }, field('Search sources', search)),
    errors,
    status,
    list,
  );
  list.append(loading());
  let specs;
  try {
    specs = (await api.listAll('/connectionSpecs', { limit: 100 })).filter((spec) => spec.id !== api.DATA_LAKE && !spec.targetSpec);
  } catch (error) {
    list.replaceChildren();
    showError(errors, error);
    return;
  }
  const draw = () => {
    const term = search.value.trim().toLowerCase();
    const shown = specs.filter((spec) => !term || `${spec.name} ${specLabel(spec)}`.toLowerCase().includes(term));
    status.textContent = `${shown.length} of ${specs.length} source${specs.length === 1 ? '' : 's'}`;
    if (!specs.length) {
      list.replaceChildren(h('li', {}, emptyState('No source connection specs in this sandbox yet. Write one in the workbench.', h('a', { class: 'button', href: '#/workbench' }, 'Open the workbench'))));
    } else if (!shown.length) {
      list.replaceChildren(h('li', {}, emptyState(`No source matches “${search.value}”.`)));
    } else {
      list.replaceChildren(...shown.map(card));
    }
  };
  search.addEventListener('input', draw);
  draw();
}
