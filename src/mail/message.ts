// A rendered email and the transport that delivers it.
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  readonly name: 'smtp' | 'dev';
  /** Delivers or throws; the outbox worker retries on throw. */
  send(message: MailMessage & { from: string; messageId: string }): Promise<void>;
  close(): Promise<void>;
}
