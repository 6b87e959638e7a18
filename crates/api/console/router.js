// Hash routing: `#/catalog`, `#/workbench?spec=ID`, `#/flows/ID`, ... Each route names a page
// module's render(main, params); the page may return a cleanup function (timers, listeners)
// that runs before the next page renders.

const routes = [];
let cleanup = null;
let guard = () => null;
let renderCount = 0;

/** Registers `pattern` (e.g. `/flows/:id`) for `render(main, {id, query})`. */
export function route(pattern, render) {
  const names = [];
  const source = pattern
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        names.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  routes.push({ regex: new RegExp(`^${source}$`), names, render });
}

/** `check(path)` answers a hash to go to instead (e.g. `#/signin`), or null to go on. */
export function setGuard(check) {
  guard = check;
}

/** The current hash as {path, query}. */
export function currentLocation() {
  const raw = location.hash.replace(/^#/, '') || '/catalog';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/catalog', query: new URLSearchParams(search) };
}

export function navigate(hash) {
  if (location.hash === hash) {
    renderCurrent();
  } else {
    location.hash = hash;
  }
}

/** Changes the hash without rendering again (a page that already shows what it names). */
export function replaceHash(hash) {
  history.replaceState(null, '', hash);
}

export async function renderCurrent() {
  const { path, query } = currentLocation();
  const redirect = guard(path);
  if (redirect) {
    if (location.hash !== redirect) {
      location.hash = redirect;
      return;
    }
  }
  if (cleanup) {
    try {
      cleanup();
    } catch {
      // a page's cleanup never stops the next page
    }
    cleanup = null;
  }
  const main = document.getElementById('main');
  main.replaceChildren();
  const ticket = ++renderCount;
  const match = routes
    .map((entry) => ({ entry, found: entry.regex.exec(path) }))
    .find(({ found }) => found);
  document.dispatchEvent(new CustomEvent('console:route', { detail: { path } }));
  if (!match) {
    const heading = document.createElement('h1');
    heading.textContent = 'Page not found';
    const text = document.createElement('p');
    text.textContent = `The console has no page at #${path}.`;
    main.append(heading, text);
    return;
  }
  const params = { query };
  match.entry.names.forEach((name, index) => {
    params[name] = decodeURIComponent(match.found[index + 1]);
  });
  const result = await match.entry.render(main, params);
  if (ticket !== renderCount) {
    if (typeof result === 'function') result();
    return;
  }
  cleanup = typeof result === 'function' ? result : null;
  const heading = main.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    if (document.activeElement === document.body || !main.contains(document.activeElement)) {
      heading.focus({ preventScroll: true });
    }
  }
}

export function startRouter() {
  window.addEventListener('hashchange', () => renderCurrent());
  renderCurrent();
}
