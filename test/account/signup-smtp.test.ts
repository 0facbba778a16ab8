// Self-service sign-up end to end: the verification mail travels through a real SMTP server (smtp-server on loopback) before the user can sign in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, hiddenCsrf, location } from '../helpers/oidc-flow.js';
import { browserFrom, csrfFrom, FakeClock, linkIn, loginAt, seedUser } from '../helpers/account-browser.js';

const PASSWORD = 'a long enough passphrase';

interface SmtpMail {
  to: string[];
  subject: string;
  text: string;
}

/** A real SMTP server on 127.0.0.1 that keeps the decoded plain-text part of every message. */
async function startSmtp(): Promise<{ port: number; mail: SmtpMail[]; close(): Promise<void> }> {
  const mail: SmtpMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mail.push({ to: session.envelope.rcptTo.map((r) => r.address), subject: header(raw, 'subject'), text: plainText(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('smtp server has no port');
  return { port: address.port, mail, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** One header of a raw message, unfolded. (mailparser is not a dependency; these messages are simple MIME.) */
function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  return new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(unfolded)?.[1]?.trim() ?? '';
}

function decodeBody(body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      const hex = soft.slice(i + 1, i + 3);
      if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(...Buffer.from(soft[i] as string, 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

/** The text/plain part of a (possibly multipart) message, decoded. */
function plainText(raw: string): string {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(header(raw, 'content-type'))?.[1];
  const parts = boundary ? raw.split(`--${boundary}`) : [raw];
  for (const part of parts) {
    const trimmed = part.replace(/^\r?\n/, '');
    if (!/^text\/plain/i.test(header(trimmed, 'content-type'))) continue;
    const split = trimmed.search(/\r?\n\r?\n/);
    const body = trimmed.slice(split).replace(/^\r?\n\r?\n/, '');
    return decodeBody(body, header(trimmed, 'content-transfer-encoding').toLowerCase());
  }
  throw new Error(`no text/plain part in:\n${raw.slice(0, 500)}`);
}

const normalise = (body: string, email: string): string => body.replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="X"').replaceAll(email, 'EMAIL');

describe('sign-up through SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: TestApp;
  const clock = new FakeClock();

  before(async () => {
    smtp = await startSmtp();
    app = await createTestApp({ smtpUrl: `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true` }, { clock });
  });
  after(async () => {
    await app.dispose();
    await smtp.close();
  });

  async function signUp(browser: Browser, email: string) {
    const csrf = await csrfFrom(browser, '/signup');
    return browser.postForm('/signup', { csrf, email, password: PASSWORD, name: 'Sam Signup' });
  }

  /** Runs the worker and returns what the SMTP server received for `to` during this call. */
  async function deliver(to: string): Promise<SmtpMail[]> {
    const before = smtp.mail.length;
    await app.mailWorker.runOnce();
    return smtp.mail.slice(before).filter((m) => m.to.includes(to));
  }

  test('sign-up through a real SMTP server to a verification link, then login', async () => {
    const email = 'sam@example.com';
    const browser = new Browser(app.server);
    const signedUp = await signUp(browser, email);
    assert.equal(signedUp.statusCode, 200, signedUp.body.slice(0, 300));
    assert.match(signedUp.body, /Check your email/);
    const user = await app.store.users.findByEmail(email);
    assert.ok(user, 'the account exists');
    assert.equal(user.emailVerified, false);
    assert.equal(user.name, 'Sam Signup');

    const received = await deliver(email);
    assert.equal(received.length, 1, 'exactly one mail went out through SMTP');
    assert.match(received[0]!.subject, /Verify your email/);
    const link = linkIn(received[0]!.text, '/email/verify');

    // A GET (what a mail scanner does) renders a confirmation button and changes nothing.
    const page = await browser.get(link);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Verify my email/);
    assert.equal((await app.store.users.findById(user.id))?.emailVerified, false, 'the GET did not verify');

    const confirmed = await browser.postForm(link, { csrf: hiddenCsrf(page.body) });
    assert.equal(confirmed.statusCode, 200, confirmed.body.slice(0, 300));
    assert.match(confirmed.body, /Email verified/);
    assert.equal((await app.store.users.findById(user.id))?.emailVerified, true);

    const login = await loginAt(browser, email, PASSWORD);
    assert.equal(login.statusCode, 303, login.body.slice(0, 300));
    assert.equal(location(login), '/account');
    const account = await browser.get('/account');
    assert.equal(account.statusCode, 200);
    assert.ok(account.body.includes(email), 'the account page shows the email');
    assert.match(account.body, /verified/);
  });

  test('an unverified user with the right password gets a 403 and a new verification email, at most once per 15 minutes', async () => {
    const email = 'unverified@example.com';
    const browser = new Browser(app.server);
    assert.equal((await signUp(browser, email)).statusCode, 200);
    assert.equal((await deliver(email)).length, 1, 'the sign-up mail');

    const first = await loginAt(browser, email, PASSWORD);
    assert.equal(first.statusCode, 403);
    assert.match(first.body, /email address is not verified/);
    assert.equal(browser.jar.get('portcullis_session'), undefined, 'no session for an unverified account');
    const resent = await deliver(email);
    assert.equal(resent.length, 1, 'a new verification email');
    linkIn(resent[0]!.text, '/email/verify');

    clock.advance(60_000);
    const second = await loginAt(browser, email, PASSWORD);
    assert.equal(second.statusCode, 403);
    assert.equal((await deliver(email)).length, 0, 'no second mail within 15 minutes');

    clock.advance(15 * 60_000);
    assert.equal((await loginAt(browser, email, PASSWORD)).statusCode, 403);
    assert.equal((await deliver(email)).length, 1, 'a new mail once the window has passed');

    const wrong = await loginAt(browser, email, 'not the password at all');
    assert.equal(wrong.statusCode, 401, 'a wrong password says nothing about verification');
    assert.doesNotMatch(wrong.body, /not verified/);
  });

  test('signing up with a registered email answers like a new sign-up and mails the owner instead', async () => {
    // Threat: account enumeration through the sign-up form.
    const taken = 'owner@example.com';
    const fresh = 'newbie@example.com'; // same length as `taken`
    const owner = await seedUser(app, taken, 'the owner password 1');
    const usersBefore = await app.store.users.count();
    const browser = new Browser(app.server);

    const existing = await signUp(browser, taken);
    const created = await signUp(browser, fresh);
    assert.equal(existing.statusCode, created.statusCode);
    assert.equal(existing.statusCode, 200);
    assert.equal(normalise(existing.body, taken), normalise(created.body, fresh), 'identical pages apart from the echoed address');
    assert.deepEqual(Object.keys(existing.headers).sort(), Object.keys(created.headers).sort());

    assert.equal(await app.store.users.count(), usersBefore + 1, 'only the new address created an account');
    const stillOwner = await app.store.users.findByEmail(taken);
    assert.equal(stillOwner?.id, owner.id);
    assert.equal(stillOwner?.name, null, 'the existing account was not touched');
    assert.ok(await app.hasher.verify(stillOwner!.passwordHash!, 'the owner password 1'), 'the existing password is unchanged');

    const toOwner = await deliver(taken);
    assert.equal(toOwner.length, 1);
    assert.match(toOwner[0]!.subject, /already have a Portcullis account/);
    assert.doesNotMatch(toOwner[0]!.text, /\/email\/verify\//, 'the owner gets no verification link');
    const outbox = (await app.store.outbox.list({ limit: 100 })).filter((m) => m.to === taken);
    assert.deepEqual(outbox.map((m) => m.template), ['signup_existing_account']);
  });
});

describe('sign-up rate limit', () => {
  let app: TestApp;
  // Start at the beginning of a minute so the four attempts share one fixed window.
  const clock = new FakeClock(Math.floor(Date.now() / 60_000) * 60_000 + 1_000);

  before(async () => {
    app = await createTestApp({ signupPerIpPerMinute: 3 }, { clock });
  });
  after(async () => {
    await app.dispose();
  });

  test('sign-ups are limited per IP: the 4th in a minute gets 429, another IP is still allowed', async () => {
    // Threat: mass account creation (and mail bombing through verification emails) from one address.
    const attacker = browserFrom(app, { ip: '198.51.100.7' });
    for (let i = 1; i <= 3; i++) {
      const csrf = await csrfFrom(attacker, '/signup');
      const ok = await attacker.postForm('/signup', { csrf, email: `bulk${i}@example.com`, password: PASSWORD });
      assert.equal(ok.statusCode, 200, `sign-up ${i}: ${ok.body.slice(0, 200)}`);
    }
    const csrf = await csrfFrom(attacker, '/signup');
    const blocked = await attacker.postForm('/signup', { csrf, email: 'bulk4@example.com', password: PASSWORD }, { accept: 'text/html' });
    assert.equal(blocked.statusCode, 429);
    assert.match(blocked.body, /Too many sign-ups from your network/);
    assert.equal(blocked.headers['retry-after'], '60');
    assert.equal(await app.store.users.findByEmail('bulk4@example.com'), null, 'no account past the limit');

    const neighbour = browserFrom(app, { ip: '203.0.113.20' });
    const csrf2 = await csrfFrom(neighbour, '/signup');
    const allowed = await neighbour.postForm('/signup', { csrf: csrf2, email: 'other@example.com', password: PASSWORD });
    assert.equal(allowed.statusCode, 200, 'another IP has its own budget');

    clock.advance(60_000);
    const later = await attacker.postForm('/signup', { csrf: await csrfFrom(attacker, '/signup'), email: 'bulk5@example.com', password: PASSWORD });
    assert.equal(later.statusCode, 200, 'the limit resets after a minute');
  });
});
