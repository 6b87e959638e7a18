// A flow's page: its state and schedule, its runs (status, window, records in/out/failed,
// duration, errors), a chart of records and duration per run, "Run now" over a window,
// re-trigger of a failed run, and the live progress of a run in progress (polled every second).

import * as api from './api.js';
import { h, field, pageHeader, loading, showError, simpleTable, statusBadge, formatMillis, formatSeconds, formatDuration, toLocalInput, fromLocalInput, timeZone, busy, flash, emptyState } from './ui.js';
import { runChart } from './chart.js';
import { describeSchedule, lastRunCell } from './flows.js';

const ACTIVE = new Set(['pending', 'inProgress']);
const POLL_MS = 1000;

function runStatus(run) {
  return run.metrics?.statusSummary?.status || 'pending';
}

function durationOf(run) {
  const summary = run.metrics?.durationSummary || {};
  if (summary.startedAtUTC && summary.completedAtUTC) return summary.completedAtUTC - summary.startedAtUTC;
  return null;
}

function recordsOf(run) {
  const summary = run.metrics?.recordSummary || {};
  return { input: summary.inputRecordCount ?? 0, output: summary.outputRecordCount ?? 0, failed: summary.failedRecordCount ?? 0 };
}

function progressText(run) {
  const progress = run.progress;
  if (!progress) return runStatus(run) === 'pending' ? 'waiting for a worker' : 'starting';
  return `${progress.pages ?? 0} page${progress.pages === 1 ? '' : 's'}, ${progress.records ?? 0} record${progress.records === 1 ? '' : 's'} so far`;
}

export async function render(main, params) {
  const flowId = params.id;
  const errors = h('div', { class: 'error-slot' });
  const header = h('div', {}, pageHeader('Flow', flowId));
  const overview = h('div', {}, loading());
  const chartSlot = h('div', { class: 'chart-slot' });
  const runsSlot = h('div', { 'aria-live': 'polite' });
  const runNowSlot = h('div', {});
  main.append(header, errors, overview, runNowSlot, h('section', { class: 'panel', 'aria-labelledby': 'runs-heading' }, h('h2', { id: 'runs-heading' }, 'Runs'), chartSlot, runsSlot));

  let flow = null;
  let runs = [];
  let timer = null;
  let stopped = false;

  const drawOverview = async () => {
    flow = await api.getOne(`/flows/${encodeURIComponent(flowId)}`);
    const enabled = flow.state === 'enabled';
    const toggle = h('button', { type: 'button', class: 'secondary' }, enabled ? 'Disable' : 'Enable');
    toggle.disabled = flow.state === 'draft';
    toggle.addEventListener('click', () => busy(toggle, errors, async () => {
      await api.post(`${api.FLOW_SERVICE}/flows/${encodeURIComponent(flowId)}/action?op=${enabled ? 'disable' : 'enable'}`);
      flash(`Flow ${enabled ? 'disabled' : 'enabled'}.`);
      await drawOverview();
    }));
    let datasetLink = null;
    const targetId = flow.targetConnectionIds?.[0];
    if (targetId) {
      try {
        const target = await api.getOne(`/targetConnections/${encodeURIComponent(targetId)}`);
        const dataSetId = target.params?.dataSetId;
        if (dataSetId) datasetLink = h('a', { href: `#/datasets/${encodeURIComponent(dataSetId)}` }, `dataset ${dataSetId}`);
      } catch {
        datasetLink = null;
      }
    }
    header.replaceChildren(pageHeader(flow.name || flowId, `Flow ${flowId}`, toggle));
    overview.replaceChildren(h('dl', { class: 'facts' },
      h('dt', {}, 'State'), h('dd', {}, statusBadge(flow.state)),
      h('dt', {}, 'Schedule'), h('dd', {}, describeSchedule(flow.scheduleParams)),
      h('dt', {}, 'Next run'), h('dd', {}, flow.nextRunAtUTC ? formatMillis(flow.nextRunAtUTC) : 'none planned'),
      h('dt', {}, 'Last run'), h('dd', {}, lastRunCell(flow.lastRunDetails)),
      h('dt', {}, 'Writes to'), h('dd', {}, datasetLink || 'unknown')));
  };

  const retrigger = (run, button) => busy(button, errors, async () => {
    await api.post(`${api.FLOW_SERVICE}/runs/${encodeURIComponent(run.id)}/action?op=RE_TRIGGER`);
    flash('Run re-triggered.');
    await loadRuns();
    await redrawOverviewWhenIdle();
  });

  const drawRuns = () => {
    if (!runs.length) {
      chartSlot.replaceChildren();
      runsSlot.replaceChildren(emptyState('No runs yet: the schedule starts them, or start one with Run now.'));
      return;
    }
    const chronological = [...runs].sort((a, b) => (a.createdAt || 0) - (b.createdAt || 0)).slice(-30);
    chartSlot.replaceChildren(runChart(chronological.map((run, index) => ({ label: `Run ${index + 1} (${run.id})`, records: recordsOf(run).output || recordsOf(run).input, durationMs: durationOf(run), status: runStatus(run) }))));
    runsSlot.replaceChildren(simpleTable(
      ['Run', 'Status', 'Window', 'In', 'Out', 'Failed', 'Duration', 'Errors', ''],
      runs.map((run) => {
        const status = runStatus(run);
        const counts = recordsOf(run);
        const errorsOf = run.metrics?.statusSummary?.errors || [];
        const action = status === 'failed' ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Re-trigger run ${run.id}` }, 'Re-trigger') : null;
        if (action) action.addEventListener('click', () => retrigger(run, action));
        return [
          h('span', { class: 'run-id' }, h('code', {}, run.id.slice(0, 8)), h('span', { class: 'muted' }, ` ${run.trigger || ''}`)),
          h('span', { class: 'run-status', 'data-run': run.id, 'data-status': status }, statusBadge(status), ACTIVE.has(status) ? h('span', { class: 'progress' }, ` ${progressText(run)}`) : null),
          `${run.params?.windowStartTime !== undefined ? formatSeconds(run.params.windowStartTime) : 'the beginning'} → ${formatSeconds(run.params?.windowEndTime)}`,
          String(counts.input), String(counts.output), String(counts.failed),
          durationOf(run) === null ? '' : formatDuration(durationOf(run)),
          errorsOf.length ? h('ul', { class: 'run-errors' }, errorsOf.map((error) => h('li', {}, h('code', {}, error.code || ''), ' ', error.message || ''))) : '',
          action,
        ];
      }),
      { caption: `${runs.length} run${runs.length === 1 ? '' : 's'}, newest first` },
    ));
  };

  const schedulePoll = () => {
    clearTimeout(timer);
    if (stopped || !runs.some((run) => ACTIVE.has(runStatus(run)))) return;
    timer = setTimeout(async () => {
      try {
        const active = runs.filter((run) => ACTIVE.has(runStatus(run)));
        const fresh = await Promise.all(active.map((run) => api.get(`${api.FLOW_SERVICE}/runs/${encodeURIComponent(run.id)}`)));
        const byId = new Map(fresh.map((answer) => [answer?.items?.[0]?.id, answer?.items?.[0]]));
        runs = runs.map((run) => byId.get(run.id) || run);
        if (stopped) return;
        drawRuns();
        if (!runs.some((run) => ACTIVE.has(runStatus(run)))) drawOverview().catch(() => {});
      } catch (error) {
        showError(errors, error);
      }
      schedulePoll();
    }, POLL_MS);
  };

  // A run that ended before the first poll (a refusal takes no time) is never seen active, so
  // the poll would not redraw the overview's last run: redraw it here.
  async function redrawOverviewWhenIdle() {
    if (!runs.some((run) => ACTIVE.has(runStatus(run)))) await drawOverview();
  }

  async function loadRuns() {
    runs = await api.listAll('/runs', { property: `flowId==${flowId}`, orderby: '-createdAt', limit: 100 });
    drawRuns();
    schedulePoll();
  }

  const drawRunNow = () => {
    const latestEnd = Math.max(0, ...runs.map((run) => Number(run.params?.windowEndTime) || 0));
    const start = h('input', { type: 'datetime-local', name: 'runWindowStart', value: latestEnd ? toLocalInput(latestEnd * 1000) : '' });
    const end = h('input', { type: 'datetime-local', name: 'runWindowEnd', value: toLocalInput(Date.now() + 60000), required: true });
    const button = h('button', { type: 'submit', class: 'primary' }, 'Run now');
    const slot = h('div', { class: 'error-slot' });
    const form = h('form', { class: 'run-now' },
      h('h2', {}, 'Run now'),
      h('p', { class: 'hint' }, `An ad hoc run over a window, in your time zone (${timeZone}). Leave the start empty to fetch from the beginning of time; windows of runs may not overlap.`),
      h('div', { class: 'form-grid' }, field('Window start', start), field('Window end', end)), slot, button);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      busy(button, slot, async () => {
        const runParams = { windowEndTime: Math.floor(fromLocalInput(end.value) / 1000) };
        if (start.value) runParams.windowStartTime = Math.floor(fromLocalInput(start.value) / 1000);
        await api.post(`${api.FLOW_SERVICE}/runs`, { flowId, params: runParams });
        flash('Run started.');
        await loadRuns();
        await redrawOverviewWhenIdle();
        drawRunNow();
      });
    });
    runNowSlot.replaceChildren(h('section', { class: 'panel' }, form));
  };

  try {
    await drawOverview();
    await loadRuns();
    drawRunNow();
  } catch (error) {
    overview.replaceChildren();
    showError(errors, error);
  }
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
