// The console's only way to the server: fetch against flowd's public API, with the session
// cookie (sent by the browser), the sandbox header on every request and the CSRF token on every
// state-changing one. Error bodies (the gateway's {error_code, message} and Flow Service's
// {title, report, problems}) become ApiError values with a readable message and the pointers.

export const FLOW_SERVICE = '/data/foundation/flowservice';
export const CATALOG = '/data/foundation/catalog';
export const CONVERSION = '/data/foundation/conversion';
export const FLOWD = '/flowd/v1';
export const REST_STORAGE_TO_AEP = '6499120c-0b15-42dc-936e-847ea3c24d72';
export const DATA_LAKE = 'c604ff05-7f1a-43c0-8e18-33bf874cb11c';

const SANDBOX_KEY = 'flowd.console.sandbox';

/** A refusal of the API, as people read it. */
export class ApiError extends Error {
  constructor(status, message, { code = null, problems = [], body = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.problems = problems;
    this.body = body;
  }
}

const session = {
  info: null, // {imsOrgId, principalId, csrfToken, expiresAt}
  sandbox: localStorage.getItem(SANDBOX_KEY) || 'prod',
  onUnauthorized: () => {},
};

export function currentSession() {
  return session.info;
}

export function currentSandbox() {
  return session.sandbox;
}

export function setSandbox(name) {
  session.sandbox = name;
  localStorage.setItem(SANDBOX_KEY, name);
}

/** Called with no argument whenever the API answers 401 (the session is gone). */
export function onUnauthorized(callback) {
  session.onUnauthorized = callback;
}

function errorFromBody(status, body, text) {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    if (typeof body.error_code !== 'undefined' || (typeof body.message === 'string' && !body.title)) {
      return new ApiError(status, body.message || `HTTP ${status}`, { code: body.error_code ?? null, body });
    }
    const report = body.report || {};
    const message = report['detailed-message'] || body.errorMessage || body.message || body.title || `HTTP ${status}`;
    const code = typeof body.type === 'string' ? body.type.split('/').pop() : null;
    const problems = Array.isArray(body.problems) ? body.problems : [];
    return new ApiError(status, message, { code, problems, body });
  }
  const snippet = (text || '').trim().slice(0, 200);
  return new ApiError(status, snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`);
}

function withQuery(path, query) {
  if (!query) return path;
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    search.append(name, String(value));
  }
  const rendered = search.toString();
  return rendered ? `${path}${path.includes('?') ? '&' : '?'}${rendered}` : path;
}

/**
 * One request to the API. `path` is absolute (e.g. `${FLOW_SERVICE}/flows`); `body` is sent
 * as JSON. Resolves to the parsed JSON answer (null when empty), rejects with an ApiError.
 */
export async function request(method, path, { body, query, headers = {}, sandbox = true } = {}) {
  const sendHeaders = { accept: 'application/json', ...headers };
  if (sandbox) sendHeaders['x-sandbox-name'] = session.sandbox;
  if (!['GET', 'HEAD', 'OPTIONS'].includes(method) && session.info) {
    sendHeaders['x-csrf-token'] = session.info.csrfToken;
  }
  const init = { method, headers: sendHeaders, credentials: 'same-origin' };
  if (body !== undefined) {
    sendHeaders['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(withQuery(path, query), init);
  } catch (err) {
    throw new ApiError(0, `flowd did not answer (${err.message}); is flowd serve still running?`);
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    const error = errorFromBody(response.status, parsed, text);
    if (response.status === 401 && path !== '/console/session') session.onUnauthorized();
    throw error;
  }
  return parsed;
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, body, options) => request('POST', path, { ...options, body });
export const put = (path, body, options) => request('PUT', path, { ...options, body });
export const del = (path, options) => request('DELETE', path, options);

/** `POST /console/session`: trades an API credential for the session cookie. */
export async function signIn(apiKey, accessToken) {
  session.info = await request('POST', '/console/session', { body: { apiKey, accessToken }, sandbox: false });
  return session.info;
}

/** `GET /console/session`: the session the cookie names, or null when there is none. */
export async function resumeSession() {
  try {
    session.info = await request('GET', '/console/session', { sandbox: false });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      session.info = null;
    } else {
      throw err;
    }
  }
  return session.info;
}

/** `DELETE /console/session`: the server forgets the session; the cookie no longer works. */
export async function signOut() {
  try {
    await request('DELETE', '/console/session', { sandbox: false });
  } finally {
    session.info = null;
  }
}

/** The sandboxes of the signed-in org that exist in the store. */
export async function listSandboxes() {
  const answer = await request('GET', '/console/sandboxes', { sandbox: false });
  return (answer?.items || []).map((item) => item.name);
}

/** Every item of a Flow Service list, following `_links.next` (at most `maxPages` pages). */
export async function listAll(path, query = {}, maxPages = 20) {
  const items = [];
  let answer = await get(`${FLOW_SERVICE}${path}`, { query });
  for (let page = 1; ; page += 1) {
    items.push(...(answer?.items || []));
    const next = answer?._links?.next?.href;
    if (!next || page >= maxPages) break;
    answer = await get(`${FLOW_SERVICE}${next}`);
  }
  return items;
}

/** The first item of a Flow Service `GET /{collection}/{id}` answer. */
export async function getOne(path) {
  const answer = await get(`${FLOW_SERVICE}${path}`);
  const item = answer?.items?.[0];
  if (!item) throw new ApiError(404, `Nothing at ${path}.`);
  return item;
}

/** Catalog answers objects keyed by id: turned into [{id, ...}] in the server's order. */
export function keyedToList(answer) {
  if (!answer || typeof answer !== 'object') return [];
  return Object.entries(answer).map(([id, value]) => ({ id, ...value }));
}
