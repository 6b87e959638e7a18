// The dataflow wizard (the data team's page): source → base connection (created from the auth
// form, tested) → source params and a preview of the first page → source connection → dataset
// and target connection → mapping (when the sandbox has mapping sets) → schedule → the flow.
// Every step is one or two requests of the documented workflow (README).

import * as api from './api.js';
import { h, field, pageHeader, showError, loading, busy, recordsTable, schemaTable, emptyState, toLocalInput, fromLocalInput, timeZone, flash } from './ui.js';
import { schemaForm } from './schema_form.js';
import { specLabel } from './catalog.js';

const STEPS = ['Source', 'Connection', 'Preview', 'Source connection', 'Dataset', 'Mapping', 'Schedule', 'Create'];
const XED_FULL = 'application/vnd.adobe.xed-full+json;version=1';

function radio(name, value, labelText, checked, onchange) {
  const input = h('input', { type: 'radio', name, value, checked, onchange, id: `${name}-${value}`.replace(/[^A-Za-z0-9_-]/g, '-') });
  return h('div', { class: 'field checkbox' }, input, h('label', { for: input.id }, labelText));
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '') || 'records';
}

export async function render(main, params) {
  const state = { specId: params.query.get('spec') || '', spec: null, connectionId: null, sourceParams: {}, sourceConnectionId: null, dataSetId: null, targetConnectionId: null, mapping: null, step: 0 };
  const steps = h('ol', { class: 'steps', 'aria-label': 'Steps' });
  const panel = h('section', { class: 'panel wizard-panel', 'aria-live': 'polite' });
  main.append(pageHeader('New dataflow', `From a source into a dataset of sandbox ${api.currentSandbox()}`), steps, panel);
  panel.append(loading());
  let specs = [];
  let flowSpec = null;
  try {
    [specs, flowSpec] = await Promise.all([
      api.listAll('/connectionSpecs', { limit: 100 }),
      api.getOne(`/flowSpecs/${api.REST_STORAGE_TO_AEP}`),
    ]);
    specs = specs.filter((spec) => spec.id !== api.DATA_LAKE && !spec.targetSpec);
  } catch (error) {
    showError(panel, error);
    return undefined;
  }

  const go = (step) => {
    state.step = step;
    draw();
  };
  const nav = (next, { nextLabel = 'Next', canGoBack = true } = {}) => {
    const errors = h('div', { class: 'error-slot' });
    const nextButton = h('button', { type: 'button', class: 'primary' }, nextLabel);
    nextButton.addEventListener('click', () => busy(nextButton, errors, async () => {
      if ((await next(errors)) !== false) go(state.step + 1);
    }));
    return h('div', {}, errors, h('div', { class: 'wizard-nav' },
      canGoBack && state.step > 0 ? h('button', { type: 'button', class: 'secondary', onclick: () => go(state.step - 1) }, 'Back') : null,
      nextButton));
  };

  function stepSource() {
    if (!specs.length) return [emptyState('No source connection spec in this sandbox: write one in the workbench first.', h('a', { class: 'button', href: '#/workbench' }, 'Open the workbench'))];
    const select = h('select', { name: 'source' }, specs.map((spec) => h('option', { value: spec.id, selected: spec.id === state.specId }, `${specLabel(spec)} (${spec.name})`)));
    const listed = h('div', { class: 'listed' });
    const showListed = () => {
      const ids = flowSpec.sourceConnectionSpecIds || [];
      listed.replaceChildren(ids.includes(select.value) ? '' : h('p', { class: 'warning' }, 'This spec is not listed in the RestStorageToAEP flow spec yet; a flow needs it there. Save it from the workbench, or list it now:', ' ',
        h('button', { type: 'button', class: 'secondary', onclick: async (event) => busy(event.target, listed, async () => {
          flowSpec.sourceConnectionSpecIds = [...ids, select.value];
          await api.put(`${api.FLOW_SERVICE}/flowSpecs/${api.REST_STORAGE_TO_AEP}`, flowSpec);
          showListed();
        }) }, 'List it')));
    };
    select.addEventListener('change', showListed);
    showListed();
    return [h('h2', {}, 'Choose a source'), field('Source connection spec', select), listed, nav(async () => {
      if (state.specId !== select.value) Object.assign(state, { connectionId: null, sourceConnectionId: null });
      state.specId = select.value;
      state.spec = specs.find((spec) => spec.id === select.value);
    })];
  }

  function stepConnection() {
    const spec = state.spec;
    const body = h('div', {}, loading());
    const testSlot = h('div', { class: 'test-slot', 'aria-live': 'polite' });
    const testButton = h('button', { type: 'button', class: 'secondary' }, 'Test connection');
    testButton.addEventListener('click', () => busy(testButton, testSlot, async () => {
      if (!state.connectionId) throw new Error('Create or choose a connection first.');
      const answer = await api.get(`${api.FLOW_SERVICE}/connections/${encodeURIComponent(state.connectionId)}/test`);
      testSlot.replaceChildren(answer?.result ? h('p', { class: 'good', role: 'status' }, 'Connection test passed.') : h('p', { class: 'bad', role: 'status' }, `Connection test failed: ${answer?.reason || 'no reason given'}`));
    }));
    api.listAll('/connections', { property: `connectionSpec.id==${spec.id}` }).then((connections) => {
      const auths = spec.authSpec || [];
      const authChoice = h('select', { name: 'authType' }, auths.map((auth, index) => h('option', { value: String(index) }, `${auth.name} — ${auth.type}`)));
      const name = h('input', { type: 'text', name: 'connectionName', value: `${specLabel(spec)} connection`, required: true });
      const formSlot = h('div', {});
      let form = null;
      const drawForm = () => {
        const auth = auths[Number(authChoice.value)];
        form = schemaForm(auth?.spec, { keyBased: auth?.type === 'KeyBased' });
        formSlot.replaceChildren(form.element);
      };
      authChoice.addEventListener('change', drawForm);
      drawForm();
      const createErrors = h('div', { class: 'error-slot' });
      const createButton = h('button', { type: 'button', class: 'primary' }, 'Create connection');
      createButton.addEventListener('click', () => busy(createButton, createErrors, async () => {
        const missing = form.missing();
        if (missing.length) throw new api.ApiError(0, 'Fill in the required fields.', { problems: missing.map((m) => ({ pointer: `/auth/params${m.pointer}`, message: m.message })) });
        const auth = auths[Number(authChoice.value)];
        const created = await api.post(`${api.FLOW_SERVICE}/connections`, { name: name.value, connectionSpec: { id: spec.id, version: spec.version || '1.0' }, auth: { specName: auth.name, params: form.values() } });
        state.connectionId = created.id;
        createErrors.replaceChildren(h('p', { class: 'good', role: 'status' }, `Created connection ${created.id}.`));
      }));
      const existing = connections.length
        ? h('fieldset', {}, h('legend', {}, 'Use an existing connection'), connections.map((connection) => radio('connection', connection.id, `${connection.name} (${connection.id})`, state.connectionId === connection.id, () => { state.connectionId = connection.id; })))
        : h('p', { class: 'muted' }, 'No connection uses this spec yet: create one below.');
      body.replaceChildren(existing, h('fieldset', {}, h('legend', {}, 'Create a connection'), field('Connection name', name), field('Auth type', authChoice), formSlot, createErrors, createButton));
    }).catch((error) => showError(body, error));
    return [h('h2', {}, 'Base connection'), body, h('div', { class: 'inline-actions' }, testButton), testSlot, nav(async () => {
      if (!state.connectionId) throw new Error('Create or choose a connection first.');
    })];
  }

  function stepPreview() {
    const form = schemaForm(state.spec.sourceSpec?.spec, { values: state.sourceParams, emptyText: 'This source takes no params.' });
    const result = h('div', { 'aria-live': 'polite' });
    const previewButton = h('button', { type: 'button', class: 'secondary' }, 'Preview the first page');
    previewButton.addEventListener('click', () => busy(previewButton, result, async () => {
      result.replaceChildren(loading('Fetching the first page…'));
      const encoded = btoa(unescape(encodeURIComponent(JSON.stringify(form.values()))));
      const answer = await api.get(`${api.FLOW_SERVICE}/connections/${encodeURIComponent(state.connectionId)}/explore`, { query: { objectType: 'rest', object: 'json', fileType: 'json', preview: 'true', sourceParams: encoded } });
      const data = answer?.data || [];
      result.replaceChildren(...[
        h('h3', {}, `First page: ${data.length} record${data.length === 1 ? '' : 's'}`),
        data.length ? recordsTable(data, { caption: 'Preview of the first page' }) : emptyState('The first page holds no records.'),
        answer?.schema?.columns?.length ? schemaTable(answer.schema.columns) : null,
      ].filter(Boolean));
    }));
    return [h('h2', {}, 'Source params and preview'), form.element, h('div', { class: 'inline-actions' }, previewButton), result, nav(async () => {
      const missing = form.missing();
      if (missing.length) throw new api.ApiError(0, 'Fill in the required fields.', { problems: missing.map((m) => ({ pointer: `/params${m.pointer}`, message: m.message })) });
      state.sourceParams = form.values();
    })];
  }

  function stepSourceConnection() {
    const name = h('input', { type: 'text', name: 'sourceConnectionName', value: `${specLabel(state.spec)} source`, required: true });
    return [h('h2', {}, 'Source connection'), h('p', {}, 'The source connection keeps the params the flow reads with.'), field('Source connection name', name),
      h('pre', { class: 'code-view' }, JSON.stringify(state.sourceParams, null, 2)),
      nav(async () => {
        const created = await api.post(`${api.FLOW_SERVICE}/sourceConnections`, { name: name.value, baseConnectionId: state.connectionId, connectionSpec: { id: state.spec.id, version: state.spec.version || '1.0' }, data: { format: 'json' }, params: state.sourceParams });
        state.sourceConnectionId = created.id;
        flash(`Source connection ${created.id} created.`);
      }, { nextLabel: 'Create source connection' })];
  }

  function stepDataset() {
    const body = h('div', {}, loading());
    let choice = 'new';
    let datasets = [];
    const name = h('input', { type: 'text', name: 'datasetName', value: `${specLabel(state.spec)} records`, required: true });
    const schemaId = h('input', { type: 'text', name: 'schemaId', value: `https://ns.adobe.com/flowd/schemas/${slug(specLabel(state.spec))}` });
    api.get(`${api.CATALOG}/dataSets`, { query: { limit: 100 } }).then((answer) => {
      datasets = api.keyedToList(answer);
      body.replaceChildren(
        h('fieldset', {}, h('legend', {}, 'Dataset'),
          radio('dataset', 'new', 'Create a new dataset', true, () => { choice = 'new'; }),
          datasets.map((dataset) => radio('dataset', dataset.id, `${dataset.name} (${dataset.id})`, false, () => { choice = dataset.id; }))),
        h('fieldset', {}, h('legend', {}, 'New dataset'), field('Dataset name', name), field('Schema id', schemaId, 'A registry schema makes the dataset typed; any other id keeps inferring columns from the records.')),
      );
    }).catch((error) => showError(body, error));
    return [h('h2', {}, 'Dataset and target connection'), body, nav(async () => {
      let dataset;
      if (choice === 'new') {
        const created = await api.post(`${api.CATALOG}/dataSets`, { name: name.value, schemaRef: { id: schemaId.value, contentType: XED_FULL } });
        const id = String(created[0]).replace('@/dataSets/', '');
        dataset = { id, schemaRef: { id: schemaId.value, contentType: XED_FULL } };
      } else {
        dataset = datasets.find((d) => d.id === choice);
      }
      const target = await api.post(`${api.FLOW_SERVICE}/targetConnections`, {
        name: `${dataset.name || name.value} target`,
        connectionSpec: { id: api.DATA_LAKE, version: '1.0' },
        data: { format: 'parquet_xdm', schema: { id: dataset.schemaRef?.id, version: dataset.schemaRef?.contentType || XED_FULL } },
        params: { dataSetId: dataset.id },
      });
      Object.assign(state, { dataSetId: dataset.id, targetConnectionId: target.id });
      flash(`Dataset ${dataset.id} and target connection ${target.id} ready.`);
    }, { nextLabel: 'Use this dataset' })];
  }

  function stepMapping() {
    const body = h('div', {}, loading());
    let select = null;
    api.get(`${api.CONVERSION}/mappingSets`, { query: { limit: 100 } }).then((answer) => {
      const sets = answer?.data || [];
      if (!sets.length) {
        body.replaceChildren(h('p', {}, 'This sandbox has no mapping sets: records land in the dataset as the source sends them. Go on to the schedule.'));
        return;
      }
      select = h('select', { name: 'mapping' }, h('option', { value: '' }, 'No mapping (records as sent)'), sets.map((set) => h('option', { value: set.id }, `${set.name || set.id} (version ${set.version ?? 0})`)));
      body.replaceChildren(field('Mapping set (optional)', select, 'Its destinations must be fields of the dataset’s schema.'));
    }).catch((error) => showError(body, error));
    return [h('h2', {}, 'Mapping (optional)'), body, nav(async () => {
      state.mapping = select?.value || null;
    })];
  }

  function stepSchedule() {
    const scheduleSchema = flowSpec.scheduleSpec?.spec?.properties || {};
    const frequencies = scheduleSchema.frequency?.enum || ['once', 'minute', 'hour', 'day', 'week'];
    const frequency = h('select', { name: 'frequency' }, frequencies.map((f) => h('option', { value: f, selected: f === (state.schedule?.frequency || 'day') }, f)));
    const interval = h('input', { type: 'number', name: 'interval', min: '1', value: String(state.schedule?.interval || 1) });
    const nextHour = Math.ceil(Date.now() / 3600000) * 3600000;
    const start = h('input', { type: 'datetime-local', name: 'startTime', value: toLocalInput(state.schedule ? state.schedule.startTime * 1000 : nextHour), required: true });
    const backfill = h('input', { type: 'checkbox', name: 'backfill', checked: state.schedule?.backfill ?? true, id: 'schedule-backfill' });
    const stored = h('p', { class: 'stored', role: 'status' });
    const periodic = h('div', { class: 'form-grid' }, field('Every (interval)', interval, 'At least 15 for minutes.'), h('div', { class: 'field checkbox' }, backfill, h('label', { for: backfill.id }, 'Backfill: also fetch what was there before the start time')));
    const read = () => {
      const millis = fromLocalInput(start.value);
      const schedule = { startTime: Math.floor(millis / 1000), frequency: frequency.value };
      if (frequency.value !== 'once') {
        schedule.interval = Number(interval.value);
        schedule.backfill = backfill.checked;
      }
      return schedule;
    };
    const update = () => {
      periodic.hidden = frequency.value === 'once';
      const schedule = read();
      stored.textContent = Number.isNaN(schedule.startTime)
        ? 'Enter a start time.'
        : `Stored as startTime ${schedule.startTime} (epoch seconds) = ${new Date(schedule.startTime * 1000).toISOString()} UTC`;
    };
    for (const control of [frequency, interval, start, backfill]) control.addEventListener('input', update);
    frequency.addEventListener('change', update);
    update();
    return [h('h2', {}, 'Schedule'), h('div', { class: 'form-grid' }, field('Frequency', frequency), field(`Start time (${timeZone})`, start, 'In your time zone; the API stores epoch seconds.')), periodic, stored, nav(async () => {
      const schedule = read();
      if (Number.isNaN(schedule.startTime)) throw new Error('Enter a start time.');
      state.schedule = schedule;
    })];
  }

  function stepCreate() {
    const name = h('input', { type: 'text', name: 'flowName', value: `${specLabel(state.spec)} dataflow`, required: true });
    const rows = [
      ['Source', `${specLabel(state.spec)} (${state.specId})`], ['Connection', state.connectionId], ['Source connection', state.sourceConnectionId],
      ['Dataset', state.dataSetId], ['Target connection', state.targetConnectionId], ['Mapping', state.mapping || 'none'],
      ['Schedule', JSON.stringify(state.schedule)],
    ];
    const done = h('div', { 'aria-live': 'polite' });
    return [h('h2', {}, 'Create the flow'), field('Flow name', name), h('dl', { class: 'review' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])), done, nav(async () => {
      const body = { name: name.value, flowSpec: { id: api.REST_STORAGE_TO_AEP, version: '1.0' }, sourceConnectionIds: [state.sourceConnectionId], targetConnectionIds: [state.targetConnectionId], scheduleParams: state.schedule };
      if (state.mapping) body.transformations = [{ name: 'Mapping', params: { mappingId: state.mapping } }];
      const created = await api.post(`${api.FLOW_SERVICE}/flows`, body);
      done.replaceChildren(h('div', { class: 'notice', role: 'status' }, h('p', {}, `Flow ${created.id} created.`), h('p', {}, h('a', { class: 'button', href: `#/flows/${encodeURIComponent(created.id)}` }, 'Open the flow'))));
      panel.querySelector('.wizard-nav')?.remove(); // created once: no second flow from a second click
      return false;
    }, { nextLabel: 'Create flow' })];
  }

  const builders = [stepSource, stepConnection, stepPreview, stepSourceConnection, stepDataset, stepMapping, stepSchedule, stepCreate];
  function draw() {
    steps.replaceChildren(...STEPS.map((label, index) => h('li', { class: index === state.step ? 'current' : index < state.step ? 'done' : '', 'aria-current': index === state.step ? 'step' : false }, label)));
    panel.replaceChildren(...builders[state.step]());
    const heading = panel.querySelector('h2');
    if (heading) {
      heading.tabIndex = -1;
      if (state.step > 0) heading.focus();
    }
  }
  if (state.specId && !specs.some((spec) => spec.id === state.specId)) state.specId = '';
  draw();
  return undefined;
}
