// Every email template renders matching text and HTML with its link, escapes hostile data, and carries the branding.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate } from './render.js';
import type { MailBranding, TemplateData, TemplateName } from './template-types.js';

const BRANDING: MailBranding = { productName: 'Acme ID', logoUrl: 'https://cdn.example.com/logo.png', supportContact: 'help@acme.example', publicUrl: 'https://id.acme.example' };
const PLAIN: MailBranding = { productName: 'Portcullis', logoUrl: null, supportContact: null, publicUrl: 'http://localhost:3000' };
const LINK = 'https://id.acme.example/links/abc123.secretpart?x=1&y=2';
const RESET = 'https://id.acme.example/reset?from=mail&z=3';

/** One sample per template; the `satisfies` makes adding a template without a sample a type error. */
const SAMPLES = {
  verify_email: { link: LINK, expiresInText: '24 hours' },
  signup_existing_account: { loginUrl: LINK, resetUrl: RESET },
  reset_password: { link: LINK, expiresInText: '1 hour', ip: '203.0.113.9' },
  password_changed: { at: '2024-05-01 10:00 UTC', ip: '203.0.113.9', resetUrl: LINK },
  email_change_verify: { link: LINK, newEmail: 'new@acme.example', expiresInText: '24 hours' },
  email_changed: { oldEmail: 'old@acme.example', newEmail: 'new@acme.example', at: '2024-05-01 10:00 UTC', resetUrl: LINK },
  account_blocked: { ip: '203.0.113.9', location: 'Berlin, Germany', at: '2024-05-01 10:00 UTC', attempts: 10, unblockLink: LINK, expiresInText: '5 days', resetUrl: RESET },
  login_link: { link: LINK, expiresInText: '15 minutes' },
  password_breached: { resetLink: LINK, expiresInText: '1 hour', ip: '203.0.113.9' },
  password_breached_digest: { day: '2024-05-01', logins: [{ email: 'victim@acme.example', at: '10:00 UTC', ip: '203.0.113.9' }], consoleUrl: LINK },
  password_breached_admin: { userEmail: 'victim@acme.example', at: '2024-05-01 10:00 UTC', ip: '203.0.113.9', consoleUrl: LINK },
  ip_throttled_alert: { ip: '203.0.113.9', location: 'Berlin, Germany', at: '2024-05-01 10:00 UTC', capacity: 100, identifier: 'victim@acme.example', releaseCommand: 'portcullis ip release 203.0.113.9', consoleUrl: LINK },
  passkey_added: { passkeyName: 'iCloud Keychain', at: '2024-05-01 10:00 UTC', ip: '203.0.113.9', accountUrl: LINK, resetUrl: RESET },
  passkey_removed: { passkeyName: 'Chrome on Linux', at: '2024-05-01 10:00 UTC', ip: '203.0.113.9', accountUrl: LINK, resetUrl: RESET },
  mfa_enabled: { at: '2024-05-01 10:00 UTC', ip: '203.0.113.9', accountUrl: LINK, resetUrl: RESET },
  recovery_code_used: { at: '2024-05-01 10:00 UTC', ip: '203.0.113.9', remaining: 9, accountUrl: LINK, resetUrl: RESET },
  mfa_reset: { at: '2024-05-01 10:00 UTC', accountUrl: LINK, resetUrl: RESET },
  risk_alert_admin: {
    userEmail: 'alice@acme.example',
    ip: '203.0.113.9',
    location: 'Sydney, Australia',
    device: 'Chrome on Windows',
    at: '2024-05-01 10:00 UTC',
    reasons: ['Impossible travel: London, United Kingdom → Sydney, Australia, 16,994 km in 10 min', 'New device: Chrome on Windows'],
    action: 'blocked',
    consoleUrl: LINK,
  },
  login_code: { code: '042917', expiresInText: '10 minutes', ip: '203.0.113.9', location: 'Sydney, Australia', resetUrl: LINK },
  new_sign_in: { at: '2024-05-01 10:00 UTC', ip: '203.0.113.9', location: 'London, United Kingdom', device: 'Firefox on macOS', accountUrl: RESET, resetUrl: LINK },
} satisfies { [K in TemplateName]: TemplateData[K] };

const NAMES = Object.keys(SAMPLES) as TemplateName[];
const render = (name: TemplateName, data: unknown, branding = BRANDING) => renderTemplate(name, data as never, branding);
const ESCAPED_LINK = LINK.replace(/&/g, '&amp;');

describe('renderTemplate', () => {
  for (const name of NAMES) {
    it(`${name}: text and HTML both carry the action link, a subject and the branding`, () => {
      const mail = render(name, SAMPLES[name]);
      assert.ok(mail.subject.length > 5 && !/[\r\n]/.test(mail.subject), 'a one-line subject');
      assert.ok(mail.text.includes(LINK), 'the text body has the link');
      assert.ok(mail.html.includes(`href="${ESCAPED_LINK}"`), 'the HTML has a clickable link');
      assert.ok(mail.html.includes(`>${ESCAPED_LINK}</a>`), 'the HTML also shows the link as text');
      assert.match(mail.html, /^<!doctype html>/);
      assert.match(mail.html, /<html lang="en">/);
      assert.doesNotMatch(mail.html, /<table|<script/i, 'simple, table-free, script-free markup');
      assert.ok(mail.html.includes('<img src="https://cdn.example.com/logo.png"'), 'the logo is shown');
      for (const body of [mail.text, mail.html]) {
        assert.ok(body.includes('Acme ID'), 'product name');
        assert.ok(body.includes('help@acme.example'), 'support contact');
        assert.ok(body.includes('https://id.acme.example'), 'public URL');
      }
      assert.ok(mail.html.includes('href="mailto:help@acme.example"'));
    });
  }

  it('states the expiry for links that expire', () => {
    for (const name of ['verify_email', 'reset_password', 'email_change_verify'] as const) {
      const mail = render(name, SAMPLES[name]);
      const expiry = (SAMPLES[name] as { expiresInText: string }).expiresInText;
      assert.ok(mail.text.includes(`expires in ${expiry}`), name);
      assert.ok(mail.html.includes(`expires in ${expiry}`), name);
    }
  });

  it('says what to do when the mail was not expected', () => {
    assert.match(render('reset_password', SAMPLES.reset_password).text, /If you did not ask for this, you can ignore this email/);
    assert.match(render('verify_email', SAMPLES.verify_email).text, /you can ignore this email/);
    const changed = render('password_changed', SAMPLES.password_changed).text;
    assert.match(changed, /If this was not you, someone else may know your password: reset it now./);
    assert.ok(changed.includes(LINK));
    assert.ok(render('signup_existing_account', SAMPLES.signup_existing_account).text.includes(RESET), 'the reset link is offered');
    assert.ok(render('reset_password', SAMPLES.reset_password).text.includes('203.0.113.9'), 'the requesting IP is shown');
    assert.doesNotMatch(render('reset_password', { ...SAMPLES.reset_password, ip: null }).text, /IP address/);
  });

  it('risk_alert_admin: names the user, where the attempt came from, every reason, and that only this attempt was stopped', () => {
    const blocked = render('risk_alert_admin', SAMPLES.risk_alert_admin);
    assert.match(blocked.subject, /Suspicious login attempt blocked for alice@acme\.example/);
    for (const body of [blocked.text, blocked.html]) {
      for (const part of ['alice@acme.example', '203.0.113.9', 'Sydney, Australia', 'Chrome on Windows', '2024-05-01 10:00 UTC', 'not locked out', 'reset their password', 'revoke their sessions']) {
        assert.ok(body.includes(part), part);
      }
    }
    for (const reason of SAMPLES.risk_alert_admin.reasons) {
      assert.ok(blocked.text.includes(`• ${reason}`), 'each reason is its own list item');
      assert.ok(blocked.html.includes(`• ${reason}`));
    }
    const stepUp = render('risk_alert_admin', { ...SAMPLES.risk_alert_admin, action: 'step_up' });
    assert.match(stepUp.subject, /Suspicious login attempt for alice@acme\.example needed a second factor/);
    assert.match(stepUp.text, /second factor/);
    assert.doesNotMatch(stepUp.text, /was blocked/);
    const noReasons = render('risk_alert_admin', { ...SAMPLES.risk_alert_admin, reasons: [] });
    assert.doesNotMatch(noReasons.text, /because:|•/, 'no dangling list when there are no reasons');
  });

  it('login_code: shows the code, its lifetime and where the sign-in came from', () => {
    const mail = render('login_code', SAMPLES.login_code);
    assert.ok(mail.subject.includes('042917'));
    for (const part of ['042917', '10 minutes', '203.0.113.9', 'Sydney, Australia']) assert.ok(mail.text.includes(part), part);
  });

  it('new_sign_in: says where the sign-in came from and what to do if it was not the user', () => {
    const mail = render('new_sign_in', SAMPLES.new_sign_in);
    assert.equal(mail.subject, 'New sign-in to your Acme ID account');
    for (const part of ['2024-05-01 10:00 UTC', '203.0.113.9', 'London, United Kingdom', 'Firefox on macOS', 'If this was you, there is nothing else to do.']) {
      assert.ok(mail.text.includes(part), part);
      assert.ok(mail.html.includes(part), part);
    }
    assert.ok(mail.text.includes(RESET), 'the account page is linked to review devices and sessions');
    assert.match(mail.text, /change it now/);
  });

  it('escapes hostile data in every HTML interpolation', () => {
    const hostile = '<script>alert(1)</script>"onmouseover="x@evil.example';
    const branding = { ...BRANDING, productName: '<b>Evil</b> & Co', supportContact: '<img src=x onerror=alert(1)>' };
    const mails = [
      render('email_change_verify', { ...SAMPLES.email_change_verify, newEmail: hostile, expiresInText: '<i>soon</i>' }, branding),
      render('email_changed', { ...SAMPLES.email_changed, oldEmail: hostile, newEmail: hostile, at: '<u>now</u>' }, branding),
      render('password_changed', { ...SAMPLES.password_changed, ip: '<svg onload=alert(1)>' }, branding),
      render('risk_alert_admin', { ...SAMPLES.risk_alert_admin, userEmail: hostile, device: '<u>now</u>', reasons: ['<svg onload=alert(1)>'] }, branding),
      render('new_sign_in', { ...SAMPLES.new_sign_in, location: '<i>soon</i>', device: '<u>now</u>' }, branding),
      render('verify_email', { link: 'https://id.acme.example/l?a="><script>alert(1)</script>', expiresInText: '1 hour' }, branding),
    ];
    for (const mail of mails) {
      assert.doesNotMatch(mail.html, /<script|<svg|<img src=x|<b>Evil|<i>soon|<u>now|"onmouseover=/, 'no markup gets through');
      assert.ok(mail.html.includes('&lt;b&gt;Evil&lt;/b&gt; &amp; Co'), 'the product name is escaped, not dropped');
    }
    assert.ok(mails[0]?.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;x@evil.example'));
    assert.ok(mails[0]?.text.includes(hostile), 'plain text keeps the data verbatim (it is not markup)');
  });

  it('refuses links that are not absolute http(s) URLs', () => {
    assert.throws(() => render('verify_email', { link: 'javascript:alert(1)', expiresInText: '1 hour' }), /http\(s\)/);
    assert.throws(() => render('signup_existing_account', { loginUrl: LINK, resetUrl: '/relative' }), /http\(s\)/);
  });

  it('leaves out the logo and support line when they are not configured', () => {
    const mail = render('verify_email', SAMPLES.verify_email, PLAIN);
    assert.doesNotMatch(mail.html, /<img/);
    assert.doesNotMatch(mail.html, /Need help/);
    assert.doesNotMatch(mail.text, /Need help/);
    assert.ok(mail.html.includes('Portcullis'));
  });
});
