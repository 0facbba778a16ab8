// Passwords (and their SHA-1s, which are as good as the password against a breach list) never reach logs, events,
// the outbox, delivered mail or a command line, whichever breached-password path they take.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, hiddenCsrf } from '../helpers/oidc-flow.js';
import { csrfFrom, Inbox, loginAt, postAccountForm, signIn } from '../helpers/account-browser.js';
import { createUser } from '../../src/admin/users.js';
import { runCli } from '../../src/cli/run-cli.js';

const PREFIX = 'pwned-';
const P = {
  breachedLogin: `${PREFIX}login secret Qx7`,
  wrongLogin: 'a wrong guess secret Zv4',
  common: 'password123',
  signupPrefixed: `${PREFIX}signup secret Mn2`,
  signupGood: 'a good signup secret Hk8',
  current: 'the current secret Lw5',
  changePrefixed: `${PREFIX}change secret Tb9`,
  changeGood: 'a good change secret Rd3',
  resetPrefixed: `${PREFIX}reset secret Yc6`,
  resetGood: 'a good reset secret Pf1',
};

/** Every form a password could take in a careless log line: plain, URL-encoded, and its SHA-1 in hex. */
function forms(password: string): string[] {
  const digest = createHash('sha1').update(password, 'utf8').digest('hex');
  return [password, encodeURIComponent(password), new URLSearchParams({ p: password }).toString().slice(2), digest, digest.toUpperCase()];
}

describe('passwords never reach logs, events or argv', () => {
  let app: TestApp;

  before(async () => {
    app = await createTestApp({ breach: { testPrefix: PREFIX } });
  });
  after(async () => {
    await app.dispose();
  });

  test('the breached-password flows leave no password in logs, events, the outbox or delivered mail', async () => {
    // Threat: a log, event export or mail archive becomes a list of users' (breached or new) passwords.
    const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
    const inbox = new Inbox(app);

    // Login: blocked as breached, and a wrong password.
    await createUser(deps, { email: 'leaky@example.com', password: P.breachedLogin });
    assert.equal((await loginAt(new Browser(app.server), 'leaky@example.com', P.breachedLogin)).statusCode, 403);
    assert.equal((await loginAt(new Browser(app.server), 'leaky@example.com', P.wrongLogin)).statusCode, 401);

    // Sign-up: refused twice, then accepted.
    for (const password of [P.common, P.signupPrefixed]) {
      const b = new Browser(app.server);
      assert.equal((await b.postForm('/signup', { csrf: await csrfFrom(b, '/signup'), email: 'new@example.com', password })).statusCode, 400);
    }
    const s = new Browser(app.server);
    assert.equal((await s.postForm('/signup', { csrf: await csrfFrom(s, '/signup'), email: 'new@example.com', password: P.signupGood })).statusCode, 200);

    // Change: refused, then accepted.
    await createUser(deps, { email: 'changer@example.com', password: P.current });
    const c = new Browser(app.server);
    await signIn(c, 'changer@example.com', P.current);
    assert.equal((await postAccountForm(c, '/account/password', { current: P.current, password: P.changePrefixed })).statusCode, 400);
    assert.equal((await postAccountForm(c, '/account/password', { current: P.current, password: P.changeGood })).statusCode, 303);

    // Reset through the link the breached login emailed: refused, then accepted.
    const link = await inbox.newLink('leaky@example.com', '/password/reset');
    const r = new Browser(app.server);
    assert.equal((await r.postForm(link, { csrf: hiddenCsrf((await r.get(link)).body), password: P.resetPrefixed })).statusCode, 400);
    assert.equal((await r.postForm(link, { csrf: hiddenCsrf((await r.get(link)).body), password: P.resetGood })).statusCode, 200);
    await app.mailWorker.runOnce();

    const logs = app.logs.join('\n');
    const events = JSON.stringify(await app.store.events.list({ limit: 500 }));
    const outbox = JSON.stringify(await app.store.outbox.list({ limit: 500 }));
    const mail = JSON.stringify(await app.store.devMailbox.list(500));
    // The haystacks are real: the flows above did log, record and mail.
    assert.ok(logs.length > 1000, 'requests were logged');
    for (const code of ['pwd_leak', 'login_failed_password', 'signup', 'password_changed', 'password_reset']) assert.ok(events.includes(`"${code}"`), `event ${code}`);
    assert.match(mail, /\/password\/reset\//);
    for (const [name, password] of Object.entries(P)) {
      for (const form of forms(password)) {
        assert.ok(!logs.includes(form), `${name} (${form}) in the logs`);
        assert.ok(!events.includes(form), `${name} (${form}) in an event`);
        assert.ok(!outbox.includes(form), `${name} (${form}) in the outbox`);
        assert.ok(!mail.includes(form), `${name} (${form}) in delivered mail`);
      }
    }
  });
});

describe('portcullis breach check and argv', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pc-breach-argv-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(args: string[], input?: string) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on('data', (chunk) => out.push(String(chunk)));
    stderr.on('data', (chunk) => err.push(String(chunk)));
    const code = await runCli(args, { stdout, stderr, stdin: Readable.from(input === undefined ? [] : [input]), env: { PORTCULLIS_DATA_DIR: dir } });
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  test('a positional password is refused without being echoed; stdin is the only way in', async () => {
    // Threat: a password on the command line is visible to every local user through ps and kept in shell history.
    for (const args of [['breach', 'check', P.common], ['breach', 'check', '--json', P.common], ['breach', 'check', P.common, 'extra']]) {
      const refused = await cli(args);
      assert.equal(refused.code, 2, args.join(' '));
      assert.match(refused.stderr, /refusing a password on the command line/);
      assert.ok(!refused.stderr.includes(P.common) && !refused.stdout.includes(P.common), 'not echoed');
    }
    const viaStdin = await cli(['breach', 'check'], `${P.common}\n`);
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    assert.match(viaStdin.stdout, /^breached/);
    assert.ok(!viaStdin.stdout.includes(P.common), 'the answer does not repeat the password');
  });
});
