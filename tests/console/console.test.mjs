// The console in real Chromium, against a real `flowd serve` and the loopback mock API that
// scripts/console-tests.sh starts: sign in; the workbench shows both mistakes of a pasted spec
// at their pointers, tests the fixed spec (pages, records, schema) and saves it; the wizard
// walks to a flow; a run goes from in progress to success with its record count; the dataset
// shows its rows; sign-out refuses the old cookie. A second test walks what fails: a spec test
// against a port nothing listens on, the wizard through the existing base connection, a
// flow whose source the upstream policy refuses: its run fails, and is re-triggered.
// A screenshot of each step is saved.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const FLOWD_URL = process.env.FLOWD_URL;
const MOCK_URL = process.env.MOCK_URL;
const CREDENTIAL = process.env.FLOWD_CREDENTIAL ? JSON.parse(process.env.FLOWD_CREDENTIAL) : null;
const SCREENSHOTS = process.env.SCREENSHOT_DIR || path.resolve('target/console-screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LIST_ID = 'a1b2c3d4e5'; // the mock's Mailchimp-like list
const SPEC_NAME = 'Console members source';
const ICON = `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1457c7"/><text x="16" y="22" font-size="16" text-anchor="middle" fill="#fff">M</text></svg>').toString('base64')}`;

/** A members source for the mock's Mailchimp-like route; `method` and `limitValue` vary. */
function memberSpec({ method = 'GET', limitValue = '20' } = {}) {
  return {
    name: SPEC_NAME,
    description: 'Members of a Mailchimp-like list, read with OFFSET pagination',
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
          description: 'The API host and a user name and password.',
          properties: {
            host: { type: 'string', description: 'Base URL of the API' },
            authorizationTestUrl: { type: 'string', description: 'A URL answering 2xx with valid credentials' },
            username: { type: 'string' },
            password: { type: 'string', format: 'password' },
          },
          required: ['host', 'username', 'password'],
        },
      },
    ],
    sourceSpec: {
      attributes: {
        uiAttributes: { isSource: true, label: 'Console members', icon: ICON, description: 'Members of a list' },
        urlParams: { path: '/3.0/lists/${listId}/members', method },
        contentPath: { path: '$.members', skipAttributes: ['_links', 'list_id'] },
        paginationParams: { type: 'OFFSET', limitName: 'count', limitValue, offSetName: 'offset' },
        scheduleParams: {
          scheduleStartParamName: 'since_last_changed',
          scheduleEndParamName: 'before_last_changed',
          scheduleStartParamFormat: 'yyyy-MM-ddTHH:mm:ss:fffffffK',
          scheduleEndParamFormat: 'yyyy-MM-ddTHH:mm:ss:fffffffK',
        },
      },
      spec: {
        type: 'object',
        properties: { listId: { type: 'string', description: 'The list whose members are read' } },
        required: ['listId'],
      },
    },
    exploreSpec: { name: 'Resource', type: 'Resource', requestSpec: { type: 'object' }, responseSpec: { type: 'object' } },
  };
}

let browser;
let context;
let page;
let shots = 0;

/** A subtest that saves a screenshot of the page when it fails. */
async function step(t, name, body) {
  await t.test(name, async () => {
    try {
      await body();
    } catch (error) {
      await page.screenshot({ path: path.join(SCREENSHOTS, `failed-${name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.png`), fullPage: true }).catch(() => {});
      throw error;
    }
  });
}

/** A link of the header bar's main navigation. */
function nav(name) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

/** Every input, select and textarea on the page has a label (or an aria-label). */
async function assertLabelled(where) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((control) => control.type !== 'hidden' && !control.closest('[hidden]'))
    .filter((control) => !(control.labels && control.labels.length) && !control.getAttribute('aria-label'))
    .map((control) => control.outerHTML.slice(0, 120)));
  assert.deepEqual(unlabelled, [], `controls without a label on ${where}`);
}

async function shot(name) {
  await assertLabelled(name);
  shots += 1;
  await page.screenshot({ path: path.join(SCREENSHOTS, `${String(shots).padStart(2, '0')}-${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(FLOWD_URL && MOCK_URL && CREDENTIAL, 'run through scripts/console-tests.sh (FLOWD_URL, MOCK_URL, FLOWD_CREDENTIAL)');
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  // A zone away from UTC, so the schedule's local time and its stored epoch seconds differ.
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: FLOWD_URL, timezoneId: 'Europe/Paris', locale: 'en-GB' });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) problems.push(message.text());
  });
  page.problems = problems;
});

after(async () => {
  await browser?.close();
});

test('the console walks a connector author and a data team from sign-in to rows, then refuses a signed-out cookie', async (t) => {
  let oldCookie;
  let flowUrl;

  await step(t, 'sign in with the bootstrap credential', async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to flowd' }).waitFor();
    await page.getByLabel('API key').fill(CREDENTIAL.apiKey);
    await page.getByLabel('Access token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.error-box').waitFor();
    await shot('signin-refused');
    // By keyboard: the token field, then Enter submits the form.
    await page.getByLabel('Access token').fill(CREDENTIAL.accessToken);
    await page.getByLabel('Access token').press('Enter');
    await page.getByRole('heading', { name: 'Sources' }).waitFor();
    assert.equal(await page.locator('#org-name').textContent(), CREDENTIAL.imsOrgId);
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === 'flowd_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie.includes('flowd_session')), false, 'scripts cannot read the cookie');
    oldCookie = `${session.name}=${session.value}`;
    await shot('catalog-empty');
  });

  await step(t, 'the workbench shows both mistakes of a pasted spec at their pointers', async () => {
    await nav('Workbench').click();
    await page.getByRole('heading', { name: 'Spec workbench' }).waitFor();
    const editor = page.getByLabel('Connection spec (JSON)');
    await editor.fill(JSON.stringify(memberSpec({ method: 'PATCH', limitValue: 'twenty' }), null, 2));
    const problems = page.locator('.problems-slot .problems li');
    await page.locator('.validity', { hasText: '2 problems' }).waitFor();
    assert.equal(await problems.count(), 2);
    const listed = await problems.allTextContents();
    assert.ok(listed.some((text) => text.includes('/sourceSpec/attributes/urlParams/method')), listed.join('\n'));
    assert.ok(listed.some((text) => text.includes('/sourceSpec/attributes/paginationParams/limitValue')), listed.join('\n'));
    assert.equal(await page.locator('.gutter .line.has-problem').count(), 2, 'both lines are marked in the gutter');
    await page.getByRole('button', { name: '/sourceSpec/attributes/urlParams/method' }).click();
    const selected = await editor.evaluate((area) => area.value.slice(area.selectionStart, area.selectionEnd));
    assert.match(selected, /"method": "PATCH"/, 'clicking the pointer selects the field in the text');
    await shot('workbench-two-problems');
  });

  await step(t, 'the fixed spec tests against the mock with the generated forms', async () => {
    const editor = page.getByLabel('Connection spec (JSON)');
    await editor.fill(JSON.stringify(memberSpec(), null, 2));
    await page.locator('.validity.valid').waitFor();
    assert.equal(await page.locator('.gutter .line.has-problem').count(), 0);
    // The generated auth form: required marks, the password as a password field.
    const password = page.getByLabel(/^password/);
    assert.equal(await password.getAttribute('type'), 'password');
    assert.equal(await page.getByLabel(/^host/).getAttribute('required'), '');
    await page.getByLabel(/^host/).fill(MOCK_URL);
    await page.getByLabel(/^username/).fill('anystring');
    await password.fill('console-secret-password');
    await page.getByLabel(/^listId/).fill(LIST_ID);
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.locator('.test-summary').waitFor({ timeout: 30000 });
    const summary = await page.locator('.test-summary').textContent();
    assert.match(summary, /Test passed/, summary);
    assert.match(summary, /10 pages, 200 records/, summary);
    assert.match(summary, /Why it stopped/, summary);
    const pageRows = page.locator('table:has(caption:text("Pages fetched")) tbody tr');
    assert.equal(await pageRows.count(), 10);
    const firstRequest = await pageRows.first().locator('summary').textContent();
    assert.match(firstRequest, /GET http:\/\/127\.0\.0\.1:\d+\/3\.0\/lists\/a1b2c3d4e5\/members/);
    assert.ok(!(await page.locator('.test-results').textContent()).includes('console-secret-password'), 'no secret is shown');
    assert.equal(await page.locator('table:has(caption:text("Records of the test")) tbody tr').count(), 100);
    const schema = await page.locator('table:has(caption:text("Inferred schema"))').textContent();
    assert.match(schema, /email_address/);
    await shot('workbench-test-results');
  });

  await step(t, 'saving creates the spec and lists it in RestStorageToAEP', async () => {
    await page.getByRole('button', { name: 'Save spec' }).click();
    await page.locator('.notice', { hasText: 'listed it in the RestStorageToAEP flow spec' }).waitFor();
    assert.match(page.url(), /#\/workbench\?spec=[0-9a-f-]+/);
    await shot('workbench-saved');
    await nav('Sources').click();
    const card = page.locator('.spec-card', { hasText: 'Console members' });
    await card.waitFor();
    assert.equal(await card.locator('img.spec-icon').getAttribute('src'), ICON);
    assert.match(await card.textContent(), /BasicAuthentication/);
    await page.getByLabel('Search sources').fill('nothing like it');
    await page.locator('.empty', { hasText: 'No source matches' }).waitFor();
    await page.getByLabel('Search sources').fill('members');
    await card.waitFor();
    await shot('catalog');
    // Another sandbox by name: its catalog is its own (empty), then back to prod.
    await page.getByLabel('Open another sandbox by name').fill('console-other');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByText('Connection specs of sandbox console-other').waitFor();
    await page.locator('.empty', { hasText: 'No source connection specs in this sandbox yet' }).waitFor();
    await page.getByLabel('Sandbox', { exact: true }).selectOption('prod');
    await page.getByText('Connection specs of sandbox prod').waitFor();
    await card.waitFor();
  });

  await step(t, 'the wizard walks from the source to a flow', async () => {
    await page.locator('.spec-card', { hasText: 'Console members' }).getByRole('link', { name: 'Create dataflow' }).click();
    await page.getByRole('heading', { name: 'Choose a source' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: 'Base connection' }).waitFor();
    await page.getByLabel(/^host/).fill(MOCK_URL);
    await page.getByLabel(/^authorizationTestUrl/).fill(`${MOCK_URL}/auth/test`);
    await page.getByLabel(/^username/).fill('anystring');
    await page.getByLabel(/^password/).fill('console-secret-password');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByText(/Created connection/).waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('Connection test passed.').waitFor();
    await shot('wizard-connection');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: 'Source params and preview' }).waitFor();
    await page.getByLabel(/^listId/).fill(LIST_ID);
    await page.getByRole('button', { name: 'Preview the first page' }).click();
    await page.getByRole('heading', { name: /First page: 20 records/ }).waitFor();
    await shot('wizard-preview');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: 'Source connection' }).waitFor();
    await page.getByRole('button', { name: 'Create source connection' }).click();

    await page.getByRole('heading', { name: 'Dataset and target connection' }).waitFor();
    await page.getByLabel('Dataset name').fill('Console members');
    await page.getByRole('button', { name: 'Use this dataset' }).click();

    await page.getByRole('heading', { name: 'Mapping (optional)' }).waitFor();
    await page.getByText('no mapping sets').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: 'Schedule' }).waitFor();
    await page.getByLabel('Frequency').selectOption('day');
    const tomorrow = await page.evaluate(() => {
      const date = new Date(Date.now() + 24 * 3600 * 1000);
      const pad = (n) => String(n).padStart(2, '0');
      return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
    });
    await page.getByLabel(/^Start time/).fill(tomorrow);
    const stored = await page.locator('.stored').textContent();
    const expected = Math.floor(await page.evaluate((value) => new Date(value).getTime(), tomorrow) / 1000);
    assert.match(stored, new RegExp(`startTime ${expected} \\(epoch seconds\\)`), stored);
    await shot('wizard-schedule');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('heading', { name: 'Create the flow' }).waitFor();
    await page.getByLabel('Flow name').fill('Console members flow');
    await page.getByRole('button', { name: 'Create flow' }).click();
    await page.getByRole('link', { name: 'Open the flow' }).waitFor();
    await shot('wizard-flow-created');
    await page.getByRole('link', { name: 'Open the flow' }).click();
    await page.getByRole('heading', { name: 'Console members flow' }).waitFor();
    flowUrl = page.url();
    await page.locator('.empty', { hasText: 'No runs yet' }).waitFor();
  });

  await step(t, 'a run goes from in progress to success with its record count', async () => {
    await page.getByRole('button', { name: 'Run now' }).click();
    const status = page.locator('.run-status').first();
    await page.locator('.run-status[data-status="inProgress"]').waitFor({ timeout: 20000 });
    await page.locator('.run-status[data-status="inProgress"] .progress', { hasText: /[1-9]\d* records? so far/ }).waitFor({ timeout: 20000 });
    await shot('run-in-progress');
    await page.locator('.run-status[data-status="success"]').waitFor({ timeout: 60000 });
    assert.equal(await status.getAttribute('data-status'), 'success');
    const row = page.locator('table:has(caption:text("newest first")) tbody tr').first();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[3], '240', `records in: ${cells.join(' | ')}`);
    assert.equal(cells[4], '240', `records out: ${cells.join(' | ')}`);
    assert.equal(await page.locator('svg.run-chart rect.bar').count(), 1, 'the chart shows the run');
    await shot('run-success');
    await nav('Flows').click();
    const flowRow = page.locator('tr', { hasText: 'Console members flow' });
    await flowRow.waitFor();
    assert.match(await flowRow.textContent(), /success/);
    await shot('flows');
  });

  await step(t, 'the dataset shows its rows and batch', async () => {
    await page.goto(flowUrl);
    await page.getByRole('link', { name: /^dataset / }).click();
    await page.getByRole('heading', { name: 'Console members', exact: true }).waitFor();
    await page.locator('table:has(caption:text("First rows")) tbody tr').first().waitFor();
    assert.equal(await page.locator('table:has(caption:text("First rows")) tbody tr').count(), 50);
    assert.match(await page.locator('dl.facts').textContent(), /Records240/);
    assert.equal(await page.locator('section:has(#ds-batches) tbody tr').count(), 1);
    await shot('dataset-rows');
    await page.setViewportSize({ width: 390, height: 800 });
    await page.locator('section:has(#ds-rows)').scrollIntoViewIfNeeded();
    await page.waitForTimeout(500); // let the resized page's layers paint before the screenshot
    await assertLabelled('dataset-narrow');
    shots += 1;
    await page.screenshot({ path: path.join(SCREENSHOTS, `${String(shots).padStart(2, '0')}-dataset-narrow.png`) });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no sideways scrolling on a narrow window');
    await page.setViewportSize({ width: 1280, height: 800 });
    await nav('Datasets').click();
    assert.match(await page.locator('tr', { hasText: 'Console members' }).textContent(), /240/);
  });

  await step(t, 'sign-out ends the session: the old cookie is refused', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to flowd' }).waitFor();
    const session = await fetch(`${FLOWD_URL}/console/session`, { headers: { cookie: oldCookie } });
    assert.equal(session.status, 401);
    const flows = await fetch(`${FLOWD_URL}/data/foundation/flowservice/flows`, { headers: { cookie: oldCookie, 'x-sandbox-name': 'prod' } });
    assert.equal(flows.status, 401);
    await page.goto(`${FLOWD_URL}/#/flows`);
    await page.getByRole('heading', { name: 'Sign in to flowd' }).waitFor();
    await shot('signed-out');
    assert.deepEqual(page.problems, [], 'no script error and no CSP refusal');
  });
});

/** A loopback port nothing listens on: bound by node, read, then closed. */
async function deadPort() {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('the console shows what fails: an unreachable host in the workbench, a failed run and its re-trigger', async (t) => {
  await step(t, 'sign in again', async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to flowd' }).waitFor();
    await page.getByLabel('API key').fill(CREDENTIAL.apiKey);
    await page.getByLabel('Access token').fill(CREDENTIAL.accessToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sources' }).waitFor();
  });

  await step(t, 'a spec test against a port nothing listens on shows the error and its cause', async () => {
    const port = await deadPort();
    await nav('Workbench').click();
    await page.getByRole('heading', { name: 'Spec workbench' }).waitFor();
    await page.getByLabel('Connection spec (JSON)').fill(JSON.stringify(memberSpec(), null, 2));
    await page.locator('.validity.valid').waitFor();
    await page.getByLabel(/^host/).fill(`http://127.0.0.1:${port}`);
    await page.getByLabel(/^username/).fill('anystring');
    await page.getByLabel(/^password/).fill('console-secret-password');
    await page.getByLabel(/^listId/).fill(LIST_ID);
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const results = page.locator('.test-slot .error-box, .test-slot .test-summary');
    await results.first().waitFor({ timeout: 30000 });
    const shown = await page.locator('.test-slot').textContent();
    assert.match(shown, /Test failed/, shown);
    assert.match(shown, new RegExp(`127\\.0\\.0\\.1:${port}/3\\.0/lists/${LIST_ID}/members.*connection refused`), shown);
    assert.equal(await page.locator('table:has(caption:text("Records of the test"))').count(), 0, 'no records table');
    assert.ok(!shown.includes('console-secret-password'), 'no secret is shown');
    await shot('workbench-test-unreachable');
  });

  /** From the preview step on: the params, a source connection, a new dataset, a daily schedule from tomorrow, the flow. */
  async function finishWizard({ listId, dataset, flowName }) {
    await page.getByRole('heading', { name: 'Source params and preview' }).waitFor();
    await page.getByLabel(/^listId/).fill(listId);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Source connection' }).waitFor();
    await page.getByRole('button', { name: 'Create source connection' }).click();
    await page.getByRole('heading', { name: 'Dataset and target connection' }).waitFor();
    await page.getByLabel('Dataset name').fill(dataset);
    await page.getByRole('button', { name: 'Use this dataset' }).click();
    await page.getByRole('heading', { name: 'Mapping (optional)' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Schedule' }).waitFor();
    await page.getByLabel('Frequency').selectOption('day');
    const tomorrow = await page.evaluate(() => {
      const date = new Date(Date.now() + 24 * 3600 * 1000);
      const pad = (n) => String(n).padStart(2, '0');
      return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
    });
    await page.getByLabel(/^Start time/).fill(tomorrow);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Create the flow' }).waitFor();
    await page.getByLabel('Flow name').fill(flowName);
    await page.getByRole('button', { name: 'Create flow' }).click();
    await page.getByRole('link', { name: 'Open the flow' }).click();
    await page.getByRole('heading', { name: flowName }).waitFor();
    await page.locator('.empty', { hasText: 'No runs yet' }).waitFor();
  }

  async function openWizard() {
    await nav('Sources').click();
    await page.locator('.spec-card', { hasText: 'Console members' }).getByRole('link', { name: 'Create dataflow' }).click();
    await page.getByRole('heading', { name: 'Choose a source' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Base connection' }).waitFor();
  }

  await step(t, 'the wizard can pick the existing base connection instead of creating one', async () => {
    await openWizard();
    const existing = page.getByRole('group', { name: 'Use an existing connection' }).getByRole('radio');
    await existing.first().waitFor();
    assert.equal(await existing.count(), 1, 'the connection the first walk created is offered');
    await existing.first().check();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('Connection test passed.').waitFor();
    await shot('wizard-existing-connection');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Source params and preview' }).waitFor();
    await page.getByLabel(/^listId/).fill(LIST_ID);
    await page.getByRole('button', { name: 'Preview the first page' }).click();
    await page.getByRole('heading', { name: /First page: 20 records/ }).waitFor();
    await finishWizard({ listId: LIST_ID, dataset: 'Console members again', flowName: 'Console members flow (same connection)' });
    await page.getByRole('link', { name: /^dataset / }).waitFor();
  });

  await step(t, 'a second flow whose source the upstream policy refuses (a link-local host)', async () => {
    await openWizard();
    await page.getByLabel('Connection name').fill('Console refused connection');
    await page.getByLabel(/^host/).fill('http://169.254.169.254');
    await page.getByLabel(/^username/).fill('anystring');
    await page.getByLabel(/^password/).fill('console-secret-password');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByText(/Created connection/).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await finishWizard({ listId: LIST_ID, dataset: 'Console refused members', flowName: 'Console failing flow' });
  });

  await step(t, 'Run now ends failed with its error in the runs table', async () => {
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.locator('.run-status[data-status="failed"]').waitFor({ timeout: 60000 });
    const row = page.locator('table:has(caption:text("newest first")) tbody tr').first();
    const errorsCell = await row.locator('.run-errors').textContent();
    assert.match(errorsCell, /CONFIGURATION/, errorsCell);
    assert.match(errorsCell, /169\.254\.169\.254.*refused by the upstream policy/, errorsCell);
    await page.locator('dl.facts dd', { hasText: 'failed' }).waitFor(); // the overview's last run too
    await shot('run-failed');
  });

  await step(t, 'Re-trigger puts the failed run back in the queue and it fails again', async () => {
    const row = page.locator('table:has(caption:text("newest first")) tbody tr').first();
    const runId = await row.locator('.run-status').getAttribute('data-run');
    const answered = page.waitForResponse((response) => response.url().includes(`/runs/${runId}/action`) && response.request().method() === 'POST');
    await row.getByRole('button', { name: 'Re-trigger' }).click();
    const response = await answered;
    assert.equal(response.status(), 200);
    const again = await response.json();
    assert.equal((again.items?.[0] ?? again).metrics?.statusSummary?.status, 'pending', 'the server puts the run back in the queue');
    await page.getByText('Run re-triggered.').waitFor();
    // The table is drawn again from a fresh read: the run is pending, in progress or (the
    // refusal takes no time) already failed again, but now as a retrigger.
    await page.locator(`.run-id:has-text("${runId.slice(0, 8)}")`, { hasText: 'retrigger' }).waitFor({ timeout: 10000 });
    await shot('run-retriggered');
    await page.locator(`.run-status[data-run="${runId}"][data-status="failed"]`).waitFor({ timeout: 60000 });
    assert.equal(await page.locator('table:has(caption:text("newest first")) tbody tr').count(), 1, 'the same run, not a new one');
    assert.match(await page.locator('table:has(caption:text("newest first")) tbody tr .run-errors').first().textContent(), /refused by the upstream policy/);
    await shot('run-failed-again');
    assert.deepEqual(page.problems, [], 'no script error and no CSP refusal');
  });
});
