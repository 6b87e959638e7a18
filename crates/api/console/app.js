// The console's entry point: resumes the session, draws the header bar (org, sandbox switcher,
// sign-out) and registers the pages with the router.

import * as api from './api.js';
import { route, setGuard, startRouter, navigate, currentLocation } from './router.js';
import { h, flash } from './ui.js';
import * as signin from './signin.js';
import * as catalog from './catalog.js';
import * as workbench from './workbench.js';
import * as wizard from './wizard.js';
import * as flows from './flows.js';
import * as flow from './flow.js';
import * as datasets from './datasets.js';
import * as dataset from './dataset.js';

const SANDBOX_NAME = /^[A-Za-z0-9_-]+$/;

function showHeader(visible) {
  document.getElementById('topbar').hidden = !visible;
}

async function fillSandboxes() {
  const select = document.getElementById('sandbox-select');
  const current = api.currentSandbox();
  let names = [];
  try {
    names = await api.listSandboxes();
  } catch {
    names = [];
  }
  if (!names.includes(current)) names.push(current);
  names.sort();
  select.replaceChildren(...names.map((name) => h('option', { value: name, selected: name === current }, name)));
}

/** After sign-in (or a resumed session): header bar on, the page asked for. */
export async function enterConsole() {
  const info = api.currentSession();
  document.getElementById('org-name').textContent = info?.imsOrgId || '';
  showHeader(true);
  await fillSandboxes();
}

function switchSandbox(name) {
  if (!SANDBOX_NAME.test(name)) {
    flash('A sandbox name has only letters, digits, - and _.');
    return;
  }
  api.setSandbox(name);
  fillSandboxes();
  flash(`Sandbox ${name}`);
  const { path } = currentLocation();
  // A resource page names an id of the old sandbox: go to its list instead.
  const list = path.split('/')[1] || 'catalog';
  navigate(`#/${list}`);
}

function wireHeader() {
  const select = document.getElementById('sandbox-select');
  select.addEventListener('change', () => switchSandbox(select.value));
  const form = document.getElementById('sandbox-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const other = document.getElementById('sandbox-other');
    const name = other.value.trim();
    if (name) {
      other.value = '';
      switchSandbox(name);
    }
  });
  document.getElementById('sign-out').addEventListener('click', async () => {
    try {
      await api.signOut();
    } catch {
      // signed out locally even when the server cannot be reached
    }
    showHeader(false);
    flash('Signed out.');
    navigate('#/signin');
  });
  document.addEventListener('console:route', (event) => {
    const section = event.detail.path.split('/')[1];
    for (const link of document.querySelectorAll('.mainnav a')) {
      if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  });
}

async function main() {
  wireHeader();
  api.onUnauthorized(() => {
    showHeader(false);
    const { path } = currentLocation();
    if (path !== '/signin') {
      flash('Your session has ended: sign in again.');
      navigate(`#/signin?next=${encodeURIComponent(path)}`);
    }
  });
  setGuard((path) => {
    if (path === '/signin') return null;
    return api.currentSession() ? null : `#/signin?next=${encodeURIComponent(path)}`;
  });
  route('/signin', (main, params) => signin.render(main, params, { enterConsole }));
  route('/catalog', catalog.render);
  route('/workbench', workbench.render);
  route('/wizard', wizard.render);
  route('/flows', flows.render);
  route('/flows/:id', flow.render);
  route('/datasets', datasets.render);
  route('/datasets/:id', dataset.render);
  try {
    if (await api.resumeSession()) await enterConsole();
  } catch {
    // the sign-in page says what is wrong when the user tries
  }
  startRouter();
}

main();
