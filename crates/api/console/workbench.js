// The spec workbench (the connector author's page): edit a connection spec as JSON with every
// problem the server's validator finds shown at its pointer while typing; auth and source
// params forms generated from the spec's own JSON Schemas; Test runs the spec on the server
// and shows pages, records and schema; Save creates or replaces the spec and lists it in the
// RestStorageToAEP flow spec in one step.

import * as api from './api.js';
import { replaceHash } from './router.js';
import { h, field, pageHeader, showError, problemList, flash, loading, busy, fromLocalInput } from './ui.js';
import { schemaForm } from './schema_form.js';
import { jsonEditor } from './json_editor.js';
import { locatePointer, lineOf, syntaxErrorOffset } from './json_locate.js';
import { testResults } from './test_results.js';

const SERVER_MANAGED = ['id', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy', 'createdClient', 'updatedClient', 'sandboxId', 'sandboxName', 'imsOrgId', 'etag'];
const VALIDATE_DELAY_MS = 400;

const STARTER = {
  name: 'My REST source',
  description: 'A REST API read with flowd',
  type: 'generic-rest',
  providerId: '0ed90a81-07f4-4586-8190-b40eccef1c5a',
  version: '1.0',
  attributes: { uiAttributes: { apiFeatures: { explorePaginationSupported: false } } },
  authSpec: [
    {
      name: 'Basic Authentication',
      type: 'BasicAuthentication',
      spec: {
        type: 'object',
        properties: {
          host: { type: 'string', description: 'Base URL of the API' },
          username: { type: 'string' },
          password: { type: 'string', format: 'password' },
        },
        required: ['host', 'username', 'password'],
      },
    },
  ],
  sourceSpec: {
    attributes: {
      uiAttributes: { isSource: true, label: 'My REST source' },
      urlParams: { path: '/items', method: 'GET' },
      contentPath: { path: '$.items' },
      paginationParams: { type: 'OFFSET', limitName: 'limit', limitValue: '100', offSetName: 'offset' },
    },
    spec: { type: 'object', properties: {} },
  },
  exploreSpec: { name: 'Resource', type: 'Resource', requestSpec: { type: 'object' }, responseSpec: { type: 'object' } },
};

function stripServerManaged(spec) {
  const copy = { ...spec };
  for (const name of SERVER_MANAGED) delete copy[name];
  return copy;
}

/** Adds the spec to RestStorageToAEP's sourceConnectionSpecIds when it is not listed yet. */
async function listInFlowSpec(specId) {
  const flowSpec = await api.getOne(`/flowSpecs/${api.REST_STORAGE_TO_AEP}`);
  const ids = flowSpec.sourceConnectionSpecIds || [];
  if (ids.includes(specId)) return false;
  flowSpec.sourceConnectionSpecIds = [...ids, specId];
  await api.put(`${api.FLOW_SERVICE}/flowSpecs/${api.REST_STORAGE_TO_AEP}`, flowSpec);
  return true;
}

export async function render(main, params) {
  let editingId = params.query.get('spec');
  const subtitle = h('p', { class: 'subtitle' });
  const saveButton = h('button', { type: 'button' }, 'Save spec');
  main.append(
    h('div', { class: 'page-header' }, h('div', {}, h('h1', {}, 'Spec workbench'), subtitle), h('div', { class: 'actions' }, saveButton)),
  );
  const saveSlot = h('div', { class: 'error-slot', 'aria-live': 'polite' });
  main.append(saveSlot);
  let initial = STARTER;
  if (editingId) {
    const wait = loading('Loading the spec…');
    main.append(wait);
    try {
      initial = stripServerManaged(await api.getOne(`/connectionSpecs/${encodeURIComponent(editingId)}`));
    } catch (error) {
      showError(saveSlot, error);
      editingId = null;
    }
    wait.remove();
  }
  const setSubtitle = () => {
    subtitle.textContent = editingId ? `Editing connection spec ${editingId} (Save replaces it)` : 'A new connection spec (Save creates it)';
  };
  setSubtitle();

  // Validation: the server's validator on each pause in typing.
  const validity = h('p', { class: 'validity', role: 'status', 'aria-live': 'polite' });
  const problemsSlot = h('div', { class: 'problems-slot' });
  let parsed = null;
  let timer = null;
  let sequence = 0;
  const selectPointer = (pointer) => {
    const found = locatePointer(editor.text(), pointer);
    if (found) editor.select(found.start, found.end);
  };
  const showProblems = (problems) => {
    const lines = new Map();
    for (const problem of problems) {
      const found = problem.offset !== undefined ? { start: problem.offset } : locatePointer(editor.text(), problem.pointer);
      if (found) lines.set(lineOf(editor.text(), found.start), `${problem.pointer || ''} ${problem.message}`.trim());
    }
    editor.mark(lines);
    problemsSlot.replaceChildren(problems.length ? problemList(problems, (pointer) => {
      const problem = problems.find((p) => p.pointer === pointer);
      if (problem?.offset !== undefined) editor.select(problem.offset, problem.offset + 1);
      else selectPointer(pointer);
    }) : '');
  };
  const validate = async () => {
    const ticket = ++sequence;
    const text = editor.text();
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      parsed = null;
      const offset = syntaxErrorOffset(text, error.message);
      validity.textContent = 'Not JSON yet';
      validity.className = 'validity invalid';
      showProblems([{ pointer: offset === null ? '' : `line ${lineOf(text, offset)}`, message: error.message, offset: offset ?? 0 }]);
      return;
    }
    refreshForms();
    validity.textContent = 'Checking…';
    validity.className = 'validity';
    try {
      const answer = await api.post(`${api.FLOWD}/connectionSpecs/validate`, parsed);
      if (ticket !== sequence) return;
      const problems = answer?.problems || [];
      validity.textContent = answer?.valid ? 'Valid: the server accepts this spec' : `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
      validity.className = `validity ${answer?.valid ? 'valid' : 'invalid'}`;
      showProblems(problems);
    } catch (error) {
      if (ticket !== sequence) return;
      validity.textContent = 'Could not check the spec';
      validity.className = 'validity invalid';
      showError(problemsSlot, error);
    }
  };
  const editor = jsonEditor({
    label: 'Connection spec (JSON)',
    value: JSON.stringify(initial, null, 2),
    onInput: () => {
      clearTimeout(timer);
      timer = setTimeout(validate, VALIDATE_DELAY_MS);
    },
  });

  // Forms generated from the spec's schemas, rebuilt only when those schemas change.
  const authChoice = h('select', { name: 'authSpec' });
  const authSlot = h('div', { class: 'form-slot' });
  const sourceSlot = h('div', { class: 'form-slot' });
  let authForm = null;
  let sourceForm = null;
  let formsKey = '';
  const authSpecs = () => (Array.isArray(parsed?.authSpec) ? parsed.authSpec.filter((auth) => auth && typeof auth === 'object') : []);
  const drawAuthForm = () => {
    const auth = authSpecs()[Number(authChoice.value)] || null;
    const previous = authForm ? authForm.values() : {};
    authForm = auth ? schemaForm(auth.spec, { values: previous, keyBased: auth.type === 'KeyBased', emptyText: 'This auth type asks for nothing.' }) : null;
    authSlot.replaceChildren(authForm ? authForm.element : h('p', { class: 'muted' }, 'The spec has no auth spec.'));
  };
  function refreshForms() {
    const key = JSON.stringify([authSpecs().map((auth) => [auth.name, auth.type, auth.spec]), parsed?.sourceSpec?.spec]);
    if (key === formsKey) return;
    formsKey = key;
    const chosen = authChoice.value;
    authChoice.replaceChildren(...authSpecs().map((auth, index) => h('option', { value: String(index), selected: String(index) === chosen }, `${auth.name || '(no name)'} — ${auth.type || '?'}`)));
    drawAuthForm();
    const previous = sourceForm ? sourceForm.values() : {};
    sourceForm = schemaForm(parsed?.sourceSpec?.spec, { values: previous, emptyText: 'This spec takes no source params.' });
    sourceSlot.replaceChildren(sourceForm.element);
  }
  authChoice.addEventListener('change', drawAuthForm);

  // The test: the spec, the auth and params from the forms, an optional window and limits.
  const windowStart = h('input', { type: 'datetime-local', name: 'windowStart' });
  const windowEnd = h('input', { type: 'datetime-local', name: 'windowEnd' });
  const maxPages = h('input', { type: 'number', name: 'maxPages', min: '1', max: '50', value: '10' });
  const maxRecords = h('input', { type: 'number', name: 'maxRecords', min: '1', max: '10000', value: '1000' });
  const testButton = h('button', { type: 'button', class: 'primary' }, 'Test');
  const testSlot = h('div', { class: 'test-slot', 'aria-live': 'polite' });
  const focusParam = (form, pointer) => {
    const control = form?.element.querySelector(`[data-pointer="${CSS.escape(pointer)}"]`);
    if (control) control.focus();
  };
  const onTestPointer = (pointer) => {
    if (pointer.startsWith('/spec')) selectPointer(pointer.slice('/spec'.length));
    else if (pointer.startsWith('/auth/params')) focusParam(authForm, pointer.slice('/auth/params'.length));
    else if (pointer.startsWith('/params')) focusParam(sourceForm, pointer.slice('/params'.length));
  };
  testButton.addEventListener('click', () =>
    busy(testButton, null, async () => {
      testSlot.replaceChildren(loading('Running the spec on the server…'));
      if (!parsed) {
        showError(testSlot, new Error('The spec is not JSON yet: fix the syntax first.'));
        return;
      }
      const missing = [...(authForm ? authForm.missing().map((m) => ({ ...m, pointer: `/auth/params${m.pointer}` })) : []), ...(sourceForm ? sourceForm.missing().map((m) => ({ ...m, pointer: `/params${m.pointer}` })) : [])];
      if (missing.length) {
        showError(testSlot, new api.ApiError(0, 'Fill in the required fields first.', { problems: missing }), { onPointer: onTestPointer });
        return;
      }
      const body = { spec: parsed, params: sourceForm ? sourceForm.values() : {}, maxPages: Number(maxPages.value) || 10, maxRecords: Number(maxRecords.value) || 1000 };
      const auth = authSpecs()[Number(authChoice.value)];
      if (auth) body.auth = { specName: auth.name, params: authForm ? authForm.values() : {} };
      const start = fromLocalInput(windowStart.value);
      const end = fromLocalInput(windowEnd.value);
      if (!Number.isNaN(start) || !Number.isNaN(end)) {
        body.window = {};
        if (!Number.isNaN(start)) body.window.start = new Date(start).toISOString();
        if (!Number.isNaN(end)) body.window.end = new Date(end).toISOString();
      }
      try {
        const result = await api.post(`${api.FLOWD}/connectionSpecs/test`, body);
        testSlot.replaceChildren(testResults(result));
      } catch (error) {
        showError(testSlot, error, { onPointer: onTestPointer });
      }
    }),
  );

  saveButton.addEventListener('click', () =>
    busy(saveButton, null, async () => {
      saveSlot.replaceChildren();
      if (!parsed) throw new Error('The spec is not JSON yet: fix the syntax first.');
      const saved = editingId
        ? await api.put(`${api.FLOW_SERVICE}/connectionSpecs/${encodeURIComponent(editingId)}`, parsed)
        : await api.post(`${api.FLOW_SERVICE}/connectionSpecs`, parsed);
      const id = saved?.id || saved?.items?.[0]?.id || editingId;
      editingId = id;
      replaceHash(`#/workbench?spec=${encodeURIComponent(id)}`);
      setSubtitle();
      const added = await listInFlowSpec(id);
      saveSlot.replaceChildren(
        h('div', { class: 'notice', role: 'status' },
          h('p', {}, `Saved connection spec ${id}`, added ? ' and listed it in the RestStorageToAEP flow spec.' : ' (already listed in the RestStorageToAEP flow spec).'),
          h('p', {}, h('a', { href: `#/wizard?spec=${encodeURIComponent(id)}` }, 'Create a dataflow from it'), ' · ', h('a', { href: '#/catalog' }, 'Back to the sources'))),
      );
      flash('Spec saved.');
    }).catch((error) => showError(saveSlot, error, { onPointer: selectPointer })),
  );

  main.append(
    h('div', { class: 'workbench' },
      h('section', { class: 'panel editor-panel', 'aria-labelledby': 'wb-spec' },
        h('h2', { id: 'wb-spec' }, 'Spec'),
        editor.element,
        validity,
        problemsSlot,
        h('div', { class: 'inline-actions' },
          h('button', { type: 'button', class: 'secondary', onclick: () => editor.setText(JSON.stringify(JSON.parse(editor.text()), null, 2)) }, 'Format JSON'),
          h('button', { type: 'button', class: 'secondary', onclick: () => editor.setText(JSON.stringify(STARTER, null, 2)) }, 'Start from the example'))),
      h('section', { class: 'panel side-panel', 'aria-labelledby': 'wb-try' },
        h('h2', { id: 'wb-try' }, 'Try it'),
        h('h3', {}, 'Auth'),
        field('Auth type', authChoice),
        authSlot,
        h('h3', {}, 'Source params'),
        sourceSlot,
        h('h3', {}, 'Test'),
        h('div', { class: 'form-grid' },
          field('Window start (optional)', windowStart),
          field('Window end (optional)', windowEnd),
          field('Max pages', maxPages),
          field('Max records', maxRecords)),
        testButton)),
    h('section', { class: 'panel results-panel', 'aria-labelledby': 'wb-results' }, h('h2', { id: 'wb-results' }, 'Test results'), testSlot),
  );
  testSlot.append(h('p', { class: 'muted' }, 'Fill in the auth form and press Test: the server runs the spec with the same run plan as a flow and shows each page here.'));
  validate();
  return () => clearTimeout(timer);
}
