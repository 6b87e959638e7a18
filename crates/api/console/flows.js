// Flows: every flow of the sandbox with its state, schedule, next run and last run, and a
// button to enable or disable it.

import * as api from './api.js';
import { h, pageHeader, emptyState, loading, showError, simpleTable, statusBadge, formatMillis, formatSeconds, flash } from './ui.js';

/** "every 15 minutes from <local time>" from scheduleParams. */
export function describeSchedule(schedule) {
  if (!schedule) return 'no schedule';
  const from = schedule.startTime !== undefined ? ` from ${formatSeconds(schedule.startTime)}` : '';
  if (schedule.frequency === 'once') return `once${schedule.startTime !== undefined ? ` at ${formatSeconds(schedule.startTime)}` : ''}`;
  const interval = Number(schedule.interval || 1);
  return `every ${interval === 1 ? '' : `${interval} `}${schedule.frequency}${interval === 1 ? '' : 's'}${from}`;
}

export function lastRunCell(details) {
  if (!details?.id) return h('span', { class: 'muted' }, 'no run yet');
  return h('span', {}, statusBadge(details.state), details.completedAtUTC ? ` ${formatMillis(details.completedAtUTC)}` : details.startedAtUTC ? ` started ${formatMillis(details.startedAtUTC)}` : '');
}

export async function render(main) {
  const errors = h('div', { class: 'error-slot' });
  const body = h('div', {}, loading());
  main.append(pageHeader('Flows', `Dataflows of sandbox ${api.currentSandbox()}`, h('a', { class: 'button', href: '#/wizard' }, 'New dataflow')), errors, body);
  const draw = async () => {
    let flows;
    try {
      flows = await api.listAll('/flows', { limit: 100 });
    } catch (error) {
      body.replaceChildren();
      showError(errors, error);
      return;
    }
    if (!flows.length) {
      body.replaceChildren(emptyState('No flows in this sandbox yet.', h('a', { class: 'button', href: '#/wizard' }, 'Create a dataflow')));
      return;
    }
    body.replaceChildren(simpleTable(
      ['Name', 'State', 'Schedule', 'Next run', 'Last run', ''],
      flows.map((flow) => {
        const enabled = flow.state === 'enabled';
        const toggle = h('button', { type: 'button', class: 'secondary', 'aria-label': `${enabled ? 'Disable' : 'Enable'} ${flow.name}` }, enabled ? 'Disable' : 'Enable');
        toggle.disabled = flow.state === 'draft';
        toggle.addEventListener('click', async () => {
          toggle.disabled = true;
          try {
            await api.post(`${api.FLOW_SERVICE}/flows/${encodeURIComponent(flow.id)}/action?op=${enabled ? 'disable' : 'enable'}`);
            flash(`${flow.name} ${enabled ? 'disabled' : 'enabled'}.`);
            await draw();
          } catch (error) {
            showError(errors, error);
            toggle.disabled = false;
          }
        });
        return [
          h('a', { href: `#/flows/${encodeURIComponent(flow.id)}` }, flow.name || flow.id),
          statusBadge(flow.state),
          describeSchedule(flow.scheduleParams),
          flow.nextRunAtUTC ? formatMillis(flow.nextRunAtUTC) : h('span', { class: 'muted' }, 'none planned'),
          lastRunCell(flow.lastRunDetails),
          toggle,
        ];
      }),
      { caption: `${flows.length} flow${flows.length === 1 ? '' : 's'}` },
    ));
  };
  await draw();
}
