// Login page script: fills the browser proof, solves the proof-of-work CAPTCHA in a worker, and swaps the image CAPTCHA.
//
// Markup it expects (all optional; each part runs only when its element is present):
//   <form data-proof-nonce="…" data-proof-tx="…"> <input type="hidden" name="proof"> …
//   <div data-captcha-image data-tx="…"> <div data-captcha-svg>…svg…</div> <input type="hidden" name="captcha_id">
//     <input name="captcha_answer"> <button type="button" data-captcha-refresh>New image</button> </div>
//   <div data-pow-challenge='…ALTCHA challenge JSON…' data-pow-worker="/assets/pow-worker.js"></div>
//     (inside a <details> it starts when opened: the "Verify another way" alternative; otherwise at once)
//   <p data-captcha-status aria-live="polite"></p>
import { sha256 } from './sha256.js';

const MESSAGES = {
  verifying: 'Verifying you are human…',
  verified: 'Verified',
  failed: 'Verification failed. Please reload the page and try again.',
  imageLoading: 'Loading a new image…',
  imageLoaded: 'New image loaded. Enter the characters as displayed.',
  imageFailed: 'Could not load a new image. Please try again.',
};

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

async function sha256Hex(text: string): Promise<string> {
  const data = new TextEncoder().encode(text);
  // SubtleCrypto exists only in secure contexts (https, localhost); the bundled hash covers the rest.
  if (globalThis.crypto?.subtle) return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
  return toHex(sha256(data));
}

function hiddenInput(form: HTMLFormElement | null, name: string): HTMLInputElement | null {
  if (!form) return null;
  const existing = form.querySelector<HTMLInputElement>(`input[name="${name}"]`);
  if (existing) return existing;
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = name;
  form.append(input);
  return input;
}

function statusFor(anchor: Element): (text: string) => void {
  let status = (anchor.closest('form') ?? document).querySelector<HTMLElement>('[data-captcha-status]');
  if (!status) {
    status = document.createElement('p');
    status.setAttribute('data-captcha-status', '');
    anchor.after(status);
  }
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  const element = status;
  return (text) => {
    element.textContent = text;
  };
}

function setSubmitEnabled(form: HTMLFormElement | null, enabled: boolean): void {
  form?.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button[type="submit"], button:not([type]), input[type="submit"]').forEach((button) => {
    button.disabled = !enabled;
  });
}

async function fillBrowserProof(form: HTMLFormElement): Promise<void> {
  const nonce = form.dataset.proofNonce ?? '';
  const transactionId = form.dataset.proofTx ?? '';
  const input = hiddenInput(form, 'proof');
  if (!nonce || !transactionId || !input) return;
  input.value = `${nonce}.${await sha256Hex(`${nonce}:${transactionId}`)}`;
}

interface PowChallenge {
  parameters: Record<string, unknown>;
  signature?: string;
}

function solveInWorker(url: string, challenge: PowChallenge): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url);
    worker.onmessage = (event: MessageEvent<{ solution?: unknown; error?: string }>) => {
      worker.terminate();
      if (event.data.solution) resolve(event.data.solution);
      else reject(new Error(event.data.error ?? 'no solution'));
    };
    worker.onerror = () => {
      worker.terminate();
      reject(new Error('worker failed'));
    };
    worker.postMessage({ parameters: challenge.parameters });
  });
}

async function runProofOfWork(container: HTMLElement): Promise<void> {
  const form = container.closest('form');
  const output = hiddenInput(form, 'altcha');
  const say = statusFor(container);
  if (!output || container.dataset.powState) return;
  container.dataset.powState = 'running';
  setSubmitEnabled(form, false);
  say(MESSAGES.verifying);
  try {
    const challenge = JSON.parse(container.dataset.powChallenge ?? '') as PowChallenge;
    const solution = await solveInWorker(container.dataset.powWorker || '/assets/pow-worker.js', challenge);
    output.value = btoa(JSON.stringify({ challenge: { parameters: challenge.parameters, signature: challenge.signature }, solution }));
    // The image answer is no longer needed once the alternative has verified.
    form?.querySelector<HTMLInputElement>('input[name="captcha_answer"]')?.removeAttribute('required');
    container.dataset.powState = 'verified';
    say(MESSAGES.verified);
  } catch {
    container.dataset.powState = 'failed';
    say(MESSAGES.failed);
  } finally {
    setSubmitEnabled(form, true);
  }
}

function setUpProofOfWork(container: HTMLElement): void {
  const details = container.closest('details');
  if (!details) {
    void runProofOfWork(container);
    return;
  }
  const start = (): void => {
    if (details.open) void runProofOfWork(container);
  };
  details.addEventListener('toggle', start);
  start();
}

function setUpImageRefresh(box: HTMLElement): void {
  const button = box.querySelector<HTMLButtonElement>('[data-captcha-refresh]');
  const picture = box.querySelector<HTMLElement>('[data-captcha-svg]');
  const idInput = box.querySelector<HTMLInputElement>('input[name="captcha_id"]');
  const answer = box.querySelector<HTMLInputElement>('input[name="captcha_answer"]');
  const transactionId = box.dataset.tx ?? box.closest('form')?.dataset.proofTx ?? '';
  if (!button || !picture || !idInput || !transactionId) return;
  const say = statusFor(box);
  button.addEventListener('click', async () => {
    button.disabled = true;
    say(MESSAGES.imageLoading);
    try {
      const url = box.dataset.refreshUrl ?? `/captcha/image?tx=${encodeURIComponent(transactionId)}`;
      const reply = await fetch(url, {
        credentials: 'same-origin',
        headers: { accept: 'application/json' },
      });
      if (!reply.ok) throw new Error(String(reply.status));
      const { id, svg } = (await reply.json()) as { id: string; svg: string };
      picture.innerHTML = svg; // our own server's SVG, same origin
      idInput.value = id;
      if (answer) {
        answer.value = '';
        answer.focus();
      }
      say(MESSAGES.imageLoaded);
    } catch {
      say(MESSAGES.imageFailed);
    } finally {
      button.disabled = false;
    }
  });
}

function start(): void {
  document.querySelectorAll<HTMLFormElement>('form[data-proof-nonce]').forEach((form) => void fillBrowserProof(form));
  document.querySelectorAll<HTMLElement>('[data-captcha-image]').forEach(setUpImageRefresh);
  document.querySelectorAll<HTMLElement>('[data-pow-challenge]').forEach(setUpProofOfWork);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
