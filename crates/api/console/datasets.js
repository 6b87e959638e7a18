// Datasets: the sandbox's datasets (Catalog) with their record and batch counts (a read by id
// carries the counts, so each listed dataset is read once).

import * as api from './api.js';
import { h, pageHeader, emptyState, loading, showError, simpleTable, formatMillis } from './ui.js';

export async function render(main) {
  const errors = h('div', { class: 'error-slot' });
  const body = h('div', {}, loading());
  main.append(pageHeader('Datasets', `Datasets of sandbox ${api.currentSandbox()}`), errors, body);
  let datasets;
  try {
    datasets = api.keyedToList(await api.get(`${api.CATALOG}/dataSets`, { query: { limit: 100, orderBy: 'desc:created' } }));
    const details = await Promise.all(datasets.map((dataset) =>
      api.get(`${api.CATALOG}/dataSets/${encodeURIComponent(dataset.id)}`).then((answer) => answer?.[dataset.id] || {}).catch(() => ({}))));
    datasets = datasets.map((dataset, index) => ({ ...dataset, ...details[index] }));
  } catch (error) {
    body.replaceChildren();
    showError(errors, error);
    return;
  }
  if (!datasets.length) {
    body.replaceChildren(emptyState('No datasets in this sandbox yet: the dataflow wizard creates one.', h('a', { class: 'button', href: '#/wizard' }, 'New dataflow')));
    return;
  }
  body.replaceChildren(simpleTable(
    ['Name', 'Records', 'Batches', 'Last batch', 'Created'],
    datasets.map((dataset) => [
      h('a', { href: `#/datasets/${encodeURIComponent(dataset.id)}` }, dataset.name || dataset.id),
      String(dataset.recordCount ?? 0),
      String(dataset.batchCount ?? 0),
      dataset.lastBatchStatus ? `${dataset.lastBatchStatus}` : h('span', { class: 'muted' }, 'none'),
      formatMillis(dataset.created),
    ]),
    { caption: `${datasets.length} dataset${datasets.length === 1 ? '' : 's'}` },
  ));
}
