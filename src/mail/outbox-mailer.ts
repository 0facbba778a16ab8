// The Mailer the app uses: renders a template and writes it, sealed, to the durable outbox; the worker delivers it later.
import type { Clock } from '../domain/clock.js';
import { seal } from '../crypto/seal.js';
import { randomId } from '../crypto/tokens.js';
import type { OutboxStore } from '../store/store.js';
import { renderTemplate } from './templates/render.js';
import type { MailBranding, Mailer } from './templates/template-types.js';

export interface OutboxMailerDeps {
  outbox: OutboxStore;
  sealKey: Buffer;
  branding: MailBranding;
  clock: Clock;
}

/** One plain address: no display name, lists, whitespace or control characters that could add recipients or headers. */
const SINGLE_ADDRESS = /^[^\s@,;<>"()\\\u0000-\u001f\u007f]+@[^\s@,;<>"()\\\u0000-\u001f\u007f]+$/;

export function createOutboxMailer(deps: OutboxMailerDeps): Mailer {
  return {
    async enqueue(to, template, data) {
      if (!SINGLE_ADDRESS.test(to)) throw new Error('refusing to enqueue mail: the recipient is not a single plain email address');
      const rendered = renderTemplate(template, data, deps.branding);
      const id = randomId();
      // Bodies carry link tokens, so they are sealed at rest; the store drops them once sent.
      const sealedContent = seal(deps.sealKey, JSON.stringify(rendered));
      await deps.outbox.enqueue({ id, to, template, sealedContent }, deps.clock.now());
      return id;
    },
  };
}
