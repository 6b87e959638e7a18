// What a spec test answered (POST /flowd/v1/connectionSpecs/test), drawn for the author: the
// summary and why it stopped, the error when one, each page's request (redacted by the server),
// status, timing and counts, the records as a table and the inferred schema.

import { h, recordsTable, schemaTable, simpleTable, formatDuration } from './ui.js';

function requestCell(request) {
  if (!request) return '';
  const headers = request.headers || [];
  return h(
    'details',
    { class: 'request' },
    h('summary', {}, h('code', {}, `${request.method || 'GET'} ${request.url || ''}`)),
    headers.length
      ? h('dl', { class: 'headers' }, headers.map((header) => [h('dt', {}, header.name), h('dd', {}, h('code', {}, header.value))]))
      : h('p', { class: 'muted' }, 'No headers.'),
  );
}

function pagesTable(pages) {
  return simpleTable(
    ['Page', 'Request', 'Status', 'Time', 'Items', 'Records', 'Attempts'],
    pages.map((page) => [
      String(page.number),
      requestCell(page.request),
      h('span', { class: page.status >= 400 ? 'bad' : 'good' }, String(page.status ?? '')),
      formatDuration(page.elapsedMs),
      String(page.itemCount ?? ''),
      String(page.recordCount ?? ''),
      String(page.attempts ?? ''),
    ]),
    { caption: 'Pages fetched' },
  );
}

/** The results panel of one test. */
export function testResults(result) {
  const summary = result.summary || {};
  const pages = result.pages || [];
  const records = result.records || [];
  const columns = result.schema?.columns || [];
  const total = result.recordCount ?? summary.records ?? records.length;
  const parts = [
    h(
      'div',
      { class: `test-summary ${result.error ? 'failed' : 'passed'}`, role: 'status' },
      h('p', { class: 'summary-line' },
        h('strong', {}, result.error ? 'Test failed' : 'Test passed'), ': ',
        `${summary.pages ?? pages.length} page${(summary.pages ?? pages.length) === 1 ? '' : 's'}, `,
        `${total} record${total === 1 ? '' : 's'}`,
        summary.bytes !== undefined ? `, ${summary.bytes} bytes` : '',
        summary.elapsedMs !== undefined ? ` in ${formatDuration(summary.elapsedMs)}` : '',
      ),
      summary.stopReason ? h('p', { class: 'stop-reason' }, h('span', { class: 'label-text' }, 'Why it stopped: '), summary.stopReason) : null,
    ),
  ];
  if (result.error) {
    parts.push(
      h('div', { class: 'error-box', role: 'alert' },
        h('p', { class: 'error-message' }, result.error.message),
        result.error.page ? h('p', { class: 'error-code' }, `on page ${result.error.page}`) : null),
    );
  }
  if (result.warnings?.length) {
    parts.push(h('ul', { class: 'warnings', 'aria-label': 'Warnings' }, result.warnings.map((warning) => h('li', {}, warning))));
  }
  parts.push(h('section', { class: 'result-section' }, h('h3', {}, `Pages (${pages.length})`), pages.length ? pagesTable(pages) : h('p', { class: 'muted' }, 'No page was fetched.')));
  parts.push(
    h('section', { class: 'result-section' },
      h('h3', {}, records.length < total ? `Records (first ${records.length} of ${total})` : `Records (${records.length})`),
      records.length ? recordsTable(records, { caption: 'Records of the test' }) : h('p', { class: 'muted' }, 'No records.')),
  );
  parts.push(
    h('section', { class: 'result-section' },
      h('h3', {}, 'Inferred schema'),
      columns.length ? schemaTable(columns, 'Inferred schema') : h('p', { class: 'muted' }, 'No columns: no record came back.')),
  );
  return h('div', { class: 'test-results' }, parts);
}
