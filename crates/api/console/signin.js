// Sign-in: an API key and access token (what `flowd credentials create` or the first start of
// `flowd serve` prints) become an HttpOnly session cookie through POST /console/session.

import * as api from './api.js';
import { navigate } from './router.js';
import { h, field, showError } from './ui.js';

export function render(main, params, { enterConsole }) {
  document.getElementById('topbar').hidden = true;
  const apiKey = h('input', { type: 'text', name: 'apiKey', autocomplete: 'username', required: true, spellcheck: 'false' });
  const accessToken = h('input', { type: 'password', name: 'accessToken', autocomplete: 'current-password', required: true });
  const errors = h('div', { class: 'error-slot' });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin-form', novalidate: true },
    field('API key', apiKey, 'The apiKey of a flowd credential.'),
    field('Access token', accessToken, 'The accessToken printed with it; it is not stored by the console.'),
    errors,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!apiKey.value.trim() || !accessToken.value.trim()) {
      showError(errors, new Error('Enter both the API key and the access token.'));
      (apiKey.value.trim() ? accessToken : apiKey).focus();
      return;
    }
    submit.disabled = true;
    errors.replaceChildren();
    try {
      await api.signIn(apiKey.value.trim(), accessToken.value.trim());
      accessToken.value = '';
      await enterConsole();
      const next = params.query.get('next');
      navigate(`#${next && next !== '/signin' ? next : '/catalog'}`);
    } catch (error) {
      showError(errors, error);
      accessToken.focus();
    } finally {
      submit.disabled = false;
    }
  });
  main.append(
    h(
      'section',
      { class: 'signin card' },
      h('h1', {}, 'Sign in to flowd'),
      h('p', {}, 'Use an API credential: the one `flowd serve` printed on its first start, or one made with `flowd credentials create`. Your organization comes from the credential.'),
      form,
    ),
  );
  apiKey.focus();
}
