// A dataset's page: its schema, its first rows (read from its files by flowd's own
// /flowd/v1/dataSets/{id}/rows) and its batches (Catalog).

import * as api from './api.js';
import { h, pageHeader, loading, showError, simpleTable, schemaTable, recordsTable, emptyState, formatMillis, statusBadge } from './ui.js';

export async function render(main, params) {
  const id = params.id;
  const errors = h('div', { class: 'error-slot' });
  const header = h('div', {}, pageHeader('Dataset', id));
  const facts = h('div', {}, loading());
  const schemaSlot = h('section', { class: 'panel', 'aria-labelledby': 'ds-schema' }, h('h2', { id: 'ds-schema' }, 'Schema'));
  const rowsSlot = h('section', { class: 'panel', 'aria-labelledby': 'ds-rows' }, h('h2', { id: 'ds-rows' }, 'First rows'));
  const batchesSlot = h('section', { class: 'panel', 'aria-labelledby': 'ds-batches' }, h('h2', { id: 'ds-batches' }, 'Batches'));
  main.append(header, errors, facts, schemaSlot, rowsSlot, batchesSlot);
  let dataset;
  try {
    dataset = (await api.get(`${api.CATALOG}/dataSets/${encodeURIComponent(id)}`))?.[id];
    if (!dataset) throw new api.ApiError(404, `No dataset ${id} in this sandbox.`);
  } catch (error) {
    facts.replaceChildren();
    showError(errors, error);
    return;
  }
  header.replaceChildren(pageHeader(dataset.name || id, `Dataset ${id}`));
  facts.replaceChildren(h('dl', { class: 'facts' },
    h('dt', {}, 'Records'), h('dd', {}, String(dataset.recordCount ?? 0)),
    h('dt', {}, 'Batches'), h('dd', {}, String(dataset.batchCount ?? 0)),
    h('dt', {}, 'Schema'), h('dd', {}, h('code', {}, dataset.schemaRef?.id || ''), dataset.schema?.typed ? ' (typed)' : ' (columns inferred from the records)'),
    h('dt', {}, 'Created'), h('dd', {}, formatMillis(dataset.created))));
  const columns = dataset.schema?.columns || [];
  schemaSlot.append(columns.length ? schemaTable(columns, 'Columns') : emptyState('No columns yet: a run that writes records gives the dataset its columns.'));

  const [rows, batches] = await Promise.allSettled([
    api.get(`${api.FLOWD}/dataSets/${encodeURIComponent(id)}/rows`, { query: { limit: 50 } }),
    api.get(`${api.CATALOG}/batches`, { query: { dataSet: id, limit: 100 } }),
  ]);
  if (rows.status === 'fulfilled') {
    const answer = rows.value || {};
    const names = (answer.columns || []).map((column) => column.name);
    const shown = answer.rows || [];
    rowsSlot.append(...(shown.length
      ? [h('p', { class: 'muted' }, `${shown.length} of ${answer.recordCount ?? shown.length} records`), recordsTable(shown, { columns: names.length ? names : undefined, caption: 'First rows' })]
      : [emptyState('No rows yet.')]));
  } else {
    showError(rowsSlot.appendChild(h('div')), rows.reason);
  }
  if (batches.status === 'fulfilled') {
    const list = api.keyedToList(batches.value);
    batchesSlot.append(list.length
      ? simpleTable(['Batch', 'Status', 'Records', 'Failed', 'Created', 'Run'], list.map((batch) => {
        const run = (batch.relatedObjects || []).find((object) => object.type === 'flowRun');
        return [h('code', {}, batch.id), statusBadge(batch.status), String(batch.recordCount ?? batch.metrics?.recordCount ?? 0), String(batch.metrics?.failedRecordCount ?? 0), formatMillis(batch.created), run ? h('code', {}, run.id) : ''];
      }), { caption: `${list.length} batch${list.length === 1 ? '' : 'es'}` })
      : emptyState('No batches yet: each successful run that writes records commits one.'));
  } else {
    showError(batchesSlot.appendChild(h('div')), batches.reason);
  }
}
