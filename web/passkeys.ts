// Passkeys on the hosted pages: "Continue with passkey", passkeys in the email field's autofill, and "Create a passkey".
//
// Loaded as <script type="module" src="/assets/passkeys.js"> (no inline script). Every part is optional and runs only
// when its elements are on the page; without JavaScript or WebAuthn the password form works as before.
//
// Login page:
//   <form data-passkey-login data-options-url="…" data-verify-url="…">  <input type="hidden" name="csrf" value="…"> … </form>
//   <input name="email" autocomplete="username webauthn">               anywhere: offers passkeys in autofill
//   <button type="button" id="continue-with-passkey" hidden>…</button>  shown once WebAuthn is known to work; it may
//                                                                       carry its own data-options-url/data-verify-url
//   <div id="no-passkeys" role="alert" tabindex="-1" hidden>…</div>      shown and focused when the browser has no
//                                                                       passkey for this site or the user cancels
// Registration (after login, account page):
//   <button type="button" id="create-passkey" data-options-url="…" data-verify-url="…">…</button>
//     the CSRF token comes from data-csrf on the button, else the enclosing form's input[name=csrf]
// Both: <p id="passkey-error" role="alert" hidden></p> (or, failing that, a #passkey-status live region) receives the
//   server's message or a default one.
//
// Requests: POST JSON with header x-csrf-token and the same token as body.csrf.
//   options: {csrf, mode: 'modal'|'autofill'} (login) or {csrf} (registration) -> 200 {options}
//   verify:  {csrf, response}                                                  -> 200 {redirect}
//   any non-2xx answer may carry {message} (shown) and {redirect} (followed, e.g. when the login expired).
// Redirects are followed only within this origin.
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/browser';

const MESSAGES = {
  failed: 'Signing in with a passkey did not work. Try again, or use your email and password.',
  network: 'Could not reach the server. Check your connection and try again.',
  createCancelled: 'No passkey was created: the request was cancelled or timed out. You can try again.',
  createExists: 'This device or password manager already has a passkey for your account.',
  createFailed: 'The passkey could not be created. Try again.',
};

interface Endpoints {
  optionsUrl: string;
  verifyUrl: string;
  csrf: string;
}

/** An answer from our server that was not a success; its message is safe to show. */
class ServerRefusal extends Error {}

const byId = (id: string): HTMLElement | null => document.getElementById(id);

/** Toggles `hidden`, and display too: a stylesheet rule such as `button { display: inline-block }` beats `[hidden]`. */
function setShown(element: HTMLElement, shown: boolean): void {
  element.hidden = !shown;
  if (shown) element.style.removeProperty('display');
  else element.style.display = 'none';
}

function reveal(element: HTMLElement | null, text?: string): void {
  if (!element) return;
  if (text !== undefined) element.textContent = text;
  setShown(element, true);
}

function conceal(element: HTMLElement | null): void {
  if (element) setShown(element, false);
}

/** The page's error line: #passkey-error, else a #passkey-status live region, else one created above the passkey button. */
function errorLine(): HTMLElement {
  const existing = byId('passkey-error') ?? byId('passkey-status');
  if (existing) return existing;
  const line = document.createElement('p');
  line.id = 'passkey-error';
  line.className = 'alert error';
  line.setAttribute('role', 'alert');
  const anchor = byId('continue-with-passkey') ?? byId('create-passkey') ?? document.querySelector('form[data-passkey-login]');
  if (anchor?.parentNode) anchor.parentNode.insertBefore(line, anchor);
  else document.body.prepend(line);
  return line;
}

function showError(text: string): void {
  reveal(errorLine(), text);
}

function showNoPasskeys(): void {
  const section = byId('no-passkeys');
  if (!section) return showError(MESSAGES.failed);
  if (!section.hasAttribute('tabindex')) section.tabIndex = -1;
  setShown(section, true);
  section.focus();
}

function followRedirect(target: unknown): boolean {
  if (typeof target !== 'string' || !target) return false;
  const url = new URL(target, window.location.href);
  if (url.origin !== window.location.origin) return false;
  window.location.assign(url.href);
  return true;
}

async function postJson(url: string, csrf: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  let answer: Response;
  try {
    answer = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ ...body, csrf }),
    });
  } catch {
    throw new ServerRefusal(MESSAGES.network);
  }
  const json = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
  if (answer.ok) return json;
  if (followRedirect(json.redirect)) return new Promise(() => undefined);
  throw new ServerRefusal(typeof json.message === 'string' && json.message ? json.message : MESSAGES.failed);
}

/** The server answers {options}; a bare options object is accepted too. */
function optionsFrom<T>(json: Record<string, unknown>): T {
  const options = (json.options ?? json) as Record<string, unknown>;
  if (typeof options.challenge !== 'string') throw new ServerRefusal(MESSAGES.failed);
  return options as T;
}

async function finish(endpoints: Endpoints, response: AuthenticationResponseJSON | RegistrationResponseJSON): Promise<void> {
  const json = await postJson(endpoints.verifyUrl, endpoints.csrf, { response });
  if (!followRedirect(json.redirect)) window.location.reload();
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function csrfNear(element: Element): string {
  const own = element.getAttribute('data-csrf');
  if (own) return own;
  const input = element.closest('form')?.querySelector<HTMLInputElement>('input[name="csrf"]');
  return input?.value ?? '';
}

function endpointsOf(element: Element, fallback?: Endpoints): Endpoints | null {
  const optionsUrl = element.getAttribute('data-options-url') ?? fallback?.optionsUrl;
  const verifyUrl = element.getAttribute('data-verify-url') ?? fallback?.verifyUrl;
  if (!optionsUrl || !verifyUrl) return null;
  return { optionsUrl, verifyUrl, csrf: csrfNear(element) || fallback?.csrf || '' };
}

function setBusy(button: HTMLButtonElement, busy: boolean): void {
  button.disabled = busy;
  button.setAttribute('aria-busy', String(busy));
}

/** Passkeys offered in the email field's autofill; silent on every failure, since the user never asked for it. */
async function startAutofill(endpoints: Endpoints): Promise<void> {
  if (!document.querySelector('input[autocomplete$="webauthn"]')) return;
  if (!(await browserSupportsWebAuthnAutofill())) return;
  let response: AuthenticationResponseJSON;
  try {
    const json = await postJson(endpoints.optionsUrl, endpoints.csrf, { mode: 'autofill' });
    response = await startAuthentication({ optionsJSON: optionsFrom<PublicKeyCredentialRequestOptionsJSON>(json), useBrowserAutofill: true });
  } catch {
    // Aborted because the button started a modal request, or autofill is unavailable: the page works without it.
    return;
  }
  try {
    await finish(endpoints, response);
  } catch (error) {
    // The user picked a passkey and the server refused it: say why. Autofill is not offered again at once (an
    // authenticator that answers by itself would loop); "Continue with passkey" still works and re-offers it.
    showError(error instanceof ServerRefusal ? error.message : MESSAGES.failed);
  }
}

function setUpLogin(form: HTMLFormElement): void {
  const endpoints = endpointsOf(form);
  const button = byId('continue-with-passkey');
  if (!endpoints || !browserSupportsWebAuthn()) {
    // Without WebAuthn the button could only fail: the password form is the way in.
    if (button) setShown(button, false);
    return;
  }
  if (button instanceof HTMLButtonElement) {
    const own = endpointsOf(button, endpoints) ?? endpoints;
    setShown(button, true);
    button.addEventListener('click', (event) => {
      event.preventDefault();
      void continueWithPasskey(button, own).then((stayed) => {
        // The modal request aborted the autofill one; offer autofill again unless the page is navigating away.
        if (stayed) void startAutofill(endpoints);
      });
    });
  }
  void startAutofill(endpoints);
}

/** The modal, usernameless request behind "Continue with passkey". Resolves true when the page stays (it failed). */
async function continueWithPasskey(button: HTMLButtonElement, endpoints: Endpoints): Promise<boolean> {
  conceal(byId('no-passkeys'));
  conceal(byId('passkey-error'));
  setBusy(button, true);
  try {
    const json = await postJson(endpoints.optionsUrl, endpoints.csrf, { mode: 'modal' });
    const response = await startAuthentication({ optionsJSON: optionsFrom<PublicKeyCredentialRequestOptionsJSON>(json) });
    await finish(endpoints, response);
    return false;
  } catch (error) {
    if (error instanceof ServerRefusal) showError(error.message);
    // NotAllowedError covers "no passkey for this site", a cancelled dialog and a timeout: browsers do not tell them apart.
    else if (errorName(error) === 'NotAllowedError') showNoPasskeys();
    else if (errorName(error) !== 'AbortError') showError(MESSAGES.failed);
    return true;
  } finally {
    setBusy(button, false);
  }
}

async function createPasskey(button: HTMLButtonElement, endpoints: Endpoints): Promise<void> {
  conceal(byId('passkey-error'));
  setBusy(button, true);
  try {
    const json = await postJson(endpoints.optionsUrl, endpoints.csrf, {});
    const response = await startRegistration({ optionsJSON: optionsFrom<PublicKeyCredentialCreationOptionsJSON>(json) });
    await finish(endpoints, response);
  } catch (error) {
    if (error instanceof ServerRefusal) showError(error.message);
    else if (errorName(error) === 'NotAllowedError') showError(MESSAGES.createCancelled);
    else if (errorName(error) === 'InvalidStateError') showError(MESSAGES.createExists);
    else if (errorName(error) !== 'AbortError') showError(MESSAGES.createFailed);
  } finally {
    setBusy(button, false);
  }
}

function setUpRegistration(button: HTMLButtonElement): void {
  const endpoints = endpointsOf(button);
  if (!endpoints) return;
  if (!browserSupportsWebAuthn()) {
    setShown(button, false);
    return;
  }
  setShown(button, true);
  button.addEventListener('click', (event) => {
    event.preventDefault();
    void createPasskey(button, endpoints);
  });
}

function main(): void {
  const loginForm = document.querySelector<HTMLFormElement>('form[data-passkey-login]');
  if (loginForm) setUpLogin(loginForm);
  const createButton = byId('create-passkey');
  if (createButton instanceof HTMLButtonElement) setUpRegistration(createButton);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
