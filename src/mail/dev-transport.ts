// The development transport: keeps mail in the store's dev mailbox (shown at /dev/mail) and prints a one-line notice.
import type { Clock } from '../domain/clock.js';
import { randomId } from '../crypto/tokens.js';
import type { DevMailboxStore } from '../store/store.js';
import type { MailTransport } from './message.js';

/** `<outboxId@portcullis>` → `outboxId`, so a retried send after a crash lands on the same mailbox item. */
function itemId(messageId: string): string {
  const match = /^<([A-Za-z0-9_-]{1,100})@[^>]+>$/.exec(messageId);
  return match?.[1] ?? randomId();
}

/** `notify` gets the recipient, subject and where to read it; never the body, which carries link tokens. */
export function createDevTransport(devMailbox: DevMailboxStore, clock: Clock, notify: (line: string) => void, publicUrl = ''): MailTransport {
  return {
    name: 'dev',
    async send(message) {
      const id = itemId(message.messageId);
      await devMailbox.deliver({ id, to: message.to, subject: message.subject, text: message.text, html: message.html, receivedAt: clock.now() });
      notify(`dev mail to ${message.to}: ${JSON.stringify(message.subject)} — ${publicUrl}/dev/mail/${id}`);
    },
    async close() {},
  };
}
