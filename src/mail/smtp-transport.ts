// The SMTP transport (nodemailer, pooled connections) used whenever an SMTP URL is configured.
import nodemailer from 'nodemailer';
import type { MailTransport } from './message.js';

/**
 * `url` is `smtp://user:pass@host:port` or `smtps://…`; query options (e.g. `?ignoreTLS=true`) pass to nodemailer.
 * Timeouts are bounded so one stuck server cannot hold a claimed batch past its outbox lease.
 */
export function createSmtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  });
  return {
    name: 'smtp',
    async send(message) {
      await transporter.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
      });
    },
    async close() {
      transporter.close();
    },
  };
}
