// Email links (verify_email, reset_password, change_email) are scanner-safe, single-use, expiring, bound to one purpose and stored only as a hash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/oidc-flow.js';
import { csrfFrom, FakeClock, Inbox, postAccountForm, seedUser, signIn, tokenOf } from '../helpers/account-browser.js';
import { sha256 } from '../../src/crypto/tokens.js';
import type { LinkPurpose } from '../../src/domain/types.js';

const HOUR = 3_600_000;
const PASSWORD = 'the original password';
const NEW_PASSWORD = 'the replacement password';

interface Issued {
  path: string;
  userId: string;
  /** Form fields the link's POST needs besides csrf. */
  fields: Record<string, string>;
  /** Whether the link's action has happened. */
  applied(): Promise<boolean>;
}

interface LinkKind {
  purpose: LinkPurpose;
  route: string;
  ttlMs: number;
  issue(): Promise<Issued>;
}

describe('email link safety', () => {
  let app: TestApp;
  let inbox: Inbox;
  const clock = new FakeClock();
  let counter = 0;
  const unique = (label: string): string => `${label}${++counter}@example.com`;

  before(async () => {
    app = await createTestApp({}, { clock });
    inbox = new Inbox(app);
  });
  after(async () => {
    await app.dispose();
  });

  const user = async (id: string) => {
    const found = await app.store.users.findById(id);
    assert.ok(found);
    return found;
  };

  const KINDS: LinkKind[] = [
    {
      purpose: 'verify_email',
      route: '/email/verify',
      ttlMs: 24 * HOUR,
      async issue() {
        const email = unique('verify');
        const browser = new Browser(app.server);
        const signedUp = await browser.postForm('/signup', { csrf: await csrfFrom(browser, '/signup'), email, password: PASSWORD });
        assert.equal(signedUp.statusCode, 200);
        const created = await app.store.users.findByEmail(email);
        assert.ok(created);
        return { path: await inbox.newLink(email, '/email/verify'), userId: created.id, fields: {}, applied: async () => (await user(created.id)).emailVerified };
      },
    },
    {
      purpose: 'reset_password',
      route: '/password/reset',
      ttlMs: 1 * HOUR,
      async issue() {
        const email = unique('reset');
        const created = await seedUser(app, email, PASSWORD);
        const browser = new Browser(app.server);
        const requested = await browser.postForm('/password/forgot', { csrf: await csrfFrom(browser, '/password/forgot'), email });
        assert.equal(requested.statusCode, 200);
        return {
          path: await inbox.newLink(email, '/password/reset'),
          userId: created.id,
          fields: { password: NEW_PASSWORD },
          applied: async () => app.hasher.verify((await user(created.id)).passwordHash!, NEW_PASSWORD),
        };
      },
    },
    {
      purpose: 'change_email',
      route: '/email/change',
      ttlMs: 24 * HOUR,
      async issue() {
        const email = unique('old');
        const newEmail = unique('new');
        const created = await seedUser(app, email, PASSWORD);
        const browser = new Browser(app.server);
        await signIn(browser, email, PASSWORD);
        const requested = await postAccountForm(browser, '/account/email', { email: newEmail, current: PASSWORD });
        assert.equal(requested.statusCode, 303, requested.body.slice(0, 300));
        return { path: await inbox.newLink(newEmail, '/email/change'), userId: created.id, fields: {}, applied: async () => (await user(created.id)).email === newEmail };
      },
    },
  ];

  /** Everything a link could change: the user, the link record, sessions and the mail queue. */
  async function snapshot(issued: Issued) {
    const { id } = tokenOf(issued.path);
    return {
      user: await app.store.users.findById(issued.userId),
      link: await app.store.links.findById(id),
      sessions: await app.store.sessions.listActiveForUser(issued.userId),
      outbox: (await app.store.outbox.list({ limit: 1000 })).map((m) => m.id).sort(),
      events: (await app.store.events.list({ userId: issued.userId, limit: 100 })).length,
    };
  }

  /** A browser holding a CSRF token for the 'link' scope, taken from a link page that is valid right now. */
  async function linkBrowser(validPath: string): Promise<{ browser: Browser; csrf: string }> {
    const browser = new Browser(app.server);
    return { browser, csrf: await csrfFrom(browser, validPath) };
  }

  test('a GET on every link kind, twice, changes nothing', async () => {
    // Threat: mail scanners and link previews fetch every URL in a message; a GET that acted would verify, reset or change on their behalf.
    for (const kind of KINDS) {
      const issued = await kind.issue();
      const before = await snapshot(issued);
      for (let i = 0; i < 2; i++) {
        const scanner = new Browser(app.server); // no cookies, like a scanner
        const page = await scanner.get(issued.path);
        assert.equal(page.statusCode, 200, `${kind.purpose} GET ${i + 1}`);
        assert.match(page.body, new RegExp(`<form method="post" action="${kind.route}/`), `${kind.purpose}: the page only offers a button`);
        const head = await app.server.inject({ method: 'HEAD', url: issued.path, headers: { host: 'localhost:3000' } });
        assert.ok(head.statusCode < 500, `${kind.purpose} HEAD`);
      }
      assert.deepEqual(await snapshot(issued), before, `${kind.purpose}: nothing changed`);
      assert.equal(await issued.applied(), false, `${kind.purpose}: the action did not happen`);
      assert.equal(before.link?.usedAt, null, `${kind.purpose}: the link is still unused`);
      const { browser, csrf } = await linkBrowser(issued.path);
      const post = await browser.postForm(issued.path, { csrf, ...issued.fields });
      assert.equal(post.statusCode, 200, `${kind.purpose}: the link still works after the GETs`);
    }
  });

  test('the POST works once', async () => {
    for (const kind of KINDS) {
      const issued = await kind.issue();
      const { browser, csrf } = await linkBrowser(issued.path);
      const post = await browser.postForm(issued.path, { csrf, ...issued.fields });
      assert.equal(post.statusCode, 200, `${kind.purpose}: ${post.body.slice(0, 300)}`);
      assert.equal(await issued.applied(), true, `${kind.purpose}: the action happened`);
      assert.ok((await app.store.links.findById(tokenOf(issued.path).id))?.usedAt, `${kind.purpose}: the link is marked used`);
    }
  });

  test('a second POST gets already used', async () => {
    // Threat: replay of a link taken from a mailbox, proxy log or browser history after its owner used it.
    for (const kind of KINDS) {
      const issued = await kind.issue();
      const { browser, csrf } = await linkBrowser(issued.path);
      assert.equal((await browser.postForm(issued.path, { csrf, ...issued.fields })).statusCode, 200);
      const afterFirst = await snapshot(issued);
      const second = await browser.postForm(issued.path, { csrf, ...(kind.purpose === 'reset_password' ? { password: 'an attacker password' } : issued.fields) });
      assert.equal(second.statusCode, 410, kind.purpose);
      assert.match(second.body, /already used/, `${kind.purpose}: says the link was used`);
      assert.deepEqual(await snapshot(issued), afterFirst, `${kind.purpose}: the replay changed nothing`);
      const get = await browser.get(issued.path);
      assert.equal(get.statusCode, 410, `${kind.purpose}: the GET says so too`);
      assert.match(get.body, /already used/);
    }
  });

  test('an expired link is refused', async () => {
    // Threat: an old link found later in a mailbox or backup still grants the action.
    for (const kind of KINDS) {
      const issued = await kind.issue();
      const { browser, csrf } = await linkBrowser(issued.path);
      clock.advance(kind.ttlMs);
      const before = await snapshot(issued);
      const get = await browser.get(issued.path);
      assert.equal(get.statusCode, 410, `${kind.purpose} GET`);
      assert.match(get.body, /Link expired/);
      assert.match(get.body, /Request a new one/, `${kind.purpose}: says what to do next`);
      const post = await browser.postForm(issued.path, { csrf, ...issued.fields });
      assert.equal(post.statusCode, 410, `${kind.purpose} POST`);
      assert.match(post.body, /Link expired/);
      assert.deepEqual(await snapshot(issued), before, `${kind.purpose}: nothing changed`);
      assert.equal(await issued.applied(), false);
    }
  });

  test('a link is bound to its purpose: a reset token cannot verify an email', async () => {
    // Threat: a token mailed for one action (e.g. a reset link) is replayed on another route to do something else.
    const issued = new Map<LinkPurpose, Issued>();
    for (const kind of KINDS) issued.set(kind.purpose, await kind.issue());
    const { browser, csrf } = await linkBrowser(issued.get('verify_email')!.path);
    for (const kind of KINDS) {
      const own = issued.get(kind.purpose)!;
      const { token } = tokenOf(own.path);
      const before = await snapshot(own);
      for (const other of KINDS.filter((k) => k !== kind)) {
        const wrongPath = `${other.route}/${token}`;
        const label = `${kind.purpose} token on ${other.route}`;
        const get = await browser.get(wrongPath);
        assert.equal(get.statusCode, 410, `${label}: GET`);
        assert.match(get.body, /not valid/, label);
        const post = await browser.postForm(wrongPath, { csrf, password: NEW_PASSWORD });
        assert.equal(post.statusCode, 410, `${label}: POST`);
        assert.match(post.body, /not valid/, label);
      }
      // Right id with a wrong secret: also refused.
      const forged = `${kind.route}/${tokenOf(own.path).id}.${'A'.repeat(43)}`;
      assert.equal((await browser.postForm(forged, { csrf, ...own.fields })).statusCode, 410, `${kind.purpose}: forged secret`);
      assert.deepEqual(await snapshot(own), before, `${kind.purpose}: misuse changed nothing`);
      assert.equal(await own.applied(), false);
    }
    // None of them was consumed by the misuse: each still works where it belongs.
    for (const kind of KINDS) {
      const own = issued.get(kind.purpose)!;
      const post = await browser.postForm(own.path, { csrf, ...own.fields });
      assert.equal(post.statusCode, 200, `${kind.purpose} on its own route`);
      assert.equal(await own.applied(), true);
    }
  });

  test('only a hash of the link is stored', async () => {
    // Threat: a database dump or backup hands out usable links.
    const db = new Database(join(app.config.dataDir, 'portcullis.sqlite'), { readonly: true, fileMustExist: true });
    try {
      for (const kind of KINDS) {
        const issued = await kind.issue();
        const { token, id, secret } = tokenOf(issued.path);
        const link = await app.store.links.findById(id);
        assert.ok(link, kind.purpose);
        assert.equal(link.purpose, kind.purpose);
        assert.equal(link.secretHash, sha256(secret), `${kind.purpose}: the stored value is the secret's SHA-256`);
        assert.notEqual(link.secretHash, secret);
        assert.ok(!JSON.stringify(link).includes(secret), `${kind.purpose}: the secret appears nowhere in the record`);
        const row = db.prepare('SELECT * FROM link_tokens WHERE id = ?').get(id) as Record<string, unknown> | undefined;
        assert.ok(row, `${kind.purpose}: raw row`);
        const raw = JSON.stringify(row);
        assert.ok(!raw.includes(secret) && !raw.includes(token), `${kind.purpose}: the raw row has no secret`);
      }
    } finally {
      db.close();
    }
  });
});
