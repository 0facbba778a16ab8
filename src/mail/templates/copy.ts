// What each email says: what happened, what to do next, and what to do if it was not you.
import type { EmailContent } from './email-content.js';
import type { MailBranding, TemplateData, TemplateName } from './template-types.js';

type Copy = { [K in TemplateName]: (data: TemplateData[K], branding: MailBranding) => EmailContent };

const fromIp = (ip: string | null): string => (ip ? ` from the IP address ${ip}` : '');

function whoToAsk(branding: MailBranding): string {
  return branding.supportContact ? `contact ${branding.supportContact}` : 'contact your administrator';
}

export const COPY: Copy = {
  verify_email: (d, b) => ({
    subject: 'Verify your email address',
    heading: 'Verify your email address',
    intro: [[`Confirm that this address belongs to you to finish setting up your ${b.productName} account.`]],
    action: { label: 'Verify email address', url: d.link },
    expiresInText: d.expiresInText,
    outro: [[`If you did not sign up for ${b.productName}, you can ignore this email; the address stays unconfirmed.`]],
  }),

  signup_existing_account: (d, b) => ({
    subject: `You already have a ${b.productName} account`,
    heading: 'You already have an account',
    intro: [[`Someone, hopefully you, tried to sign up for ${b.productName} with this email address. You already have an account, so no new one was created.`]],
    action: { label: 'Sign in', url: d.loginUrl },
    outro: [
      ['Forgot your password? Set a new one here: ', { url: d.resetUrl }],
      ['If you did not try to sign up, you can ignore this email; your account has not changed.'],
    ],
  }),

  reset_password: (d, b) => ({
    subject: `Reset your ${b.productName} password`,
    heading: 'Reset your password',
    intro: [[`Someone, hopefully you, asked to reset the password of your ${b.productName} account${fromIp(d.ip)}.`]],
    action: { label: 'Choose a new password', url: d.link },
    expiresInText: d.expiresInText,
    outro: [['If you did not ask for this, you can ignore this email; your password stays the same.']],
  }),

  password_changed: (d, b) => ({
    subject: `Your ${b.productName} password was changed`,
    heading: 'Your password was changed',
    intro: [
      [`The password of your ${b.productName} account was changed on ${d.at}${fromIp(d.ip)}.`],
      ['If this was you, there is nothing else to do.'],
      ['If this was not you, someone else may know your password: reset it now.'],
    ],
    action: { label: 'Reset your password', url: d.resetUrl },
    outro: [[`If you cannot get back into your account, ${whoToAsk(b)}.`]],
  }),

  email_change_verify: (d, b) => ({
    subject: 'Confirm your new email address',
    heading: 'Confirm your new email address',
    intro: [[`Someone, hopefully you, asked to change the email address of a ${b.productName} account to ${d.newEmail}. Confirm it to finish the change.`]],
    action: { label: 'Confirm this address', url: d.link },
    expiresInText: d.expiresInText,
    outro: [["If you did not ask for this, you can ignore this email; the account's email address will not change."]],
  }),

  email_changed: (d, b) => ({
    subject: `Your ${b.productName} email address was changed`,
    heading: 'Your email address was changed',
    intro: [
      [`The email address of your ${b.productName} account was changed from ${d.oldEmail} to ${d.newEmail} on ${d.at}. Emails now go to the new address.`],
      ['If this was you, there is nothing else to do.'],
      ['If this was not you, someone else may know your password: reset it now.'],
    ],
    action: { label: 'Reset your password', url: d.resetUrl },
    outro: [[`If you cannot get back into your account, ${whoToAsk(b)}.`]],
  }),

  account_blocked: (d, b) => ({
    subject: `Sign-in to your ${b.productName} account was blocked`,
    heading: 'We blocked sign-ins from one network',
    intro: [
      [`There were ${d.attempts} failed attempts to sign in to your ${b.productName} account from the IP address ${d.ip} (${d.location}). The last one was at ${d.at}.`],
      ['To protect you, sign-in from that address is blocked. Sign-in from your other devices and networks still works.'],
      ['If these attempts were yours, unblock the address and sign in again:'],
    ],
    action: { label: 'Unblock', url: d.unblockLink },
    expiresInText: d.expiresInText,
    outro: [
      ['If this was not you, someone may be guessing your password. Choose a new, unique one: ', { url: d.resetUrl }],
      [`If you need help, ${whoToAsk(b)}.`],
    ],
  }),

  login_link: (d, b) => ({
    subject: `Your one-time ${b.productName} sign-in link`,
    heading: 'Sign in with this link',
    intro: [[`Your account was unblocked. If you cannot sign in with your password, use this one-time link to sign in to ${b.productName}.`]],
    action: { label: 'Sign in', url: d.link },
    expiresInText: d.expiresInText,
    outro: [['The link works once. If you did not unblock your account, ignore this email and reset your password.']],
  }),

  ip_throttled_alert: (d, b) => ({
    subject: `${b.productName}: IP ${d.ip} throttled after many failed sign-ins`,
    heading: 'An IP address was throttled',
    intro: [
      [`At ${d.at} the IP address ${d.ip} (${d.location}) used up its allowance of ${d.capacity} failed sign-ins and is now refused until it cools down.`],
      [d.identifier ? `The last attempt was for ${d.identifier}.` : 'The accounts tried are listed in the security events.'],
      [`If this address is legitimate (an office or VPN), release it with: ${d.releaseCommand}, or add it to the allowlist.`],
    ],
    action: { label: `Open ${b.productName}`, url: d.consoleUrl },
    outro: [['You get at most one such email per IP address per hour.']],
  }),

  password_breached: (d, b) => ({
    subject: `Action needed: choose a new ${b.productName} password`,
    heading: 'Your password appeared in a data breach',
    intro: [
      [`Someone${fromIp(d.ip)} just signed in to your ${b.productName} account with the correct password, and that password appears in a public list of breached passwords. Attackers try such passwords first.`],
      ['To protect you, sign-in with this password is paused until you choose a new one. Use a password you have never used anywhere else.'],
    ],
    action: { label: 'Choose a new password', url: d.resetLink },
    expiresInText: d.expiresInText,
    outro: [[`If the sign-in was not you, choosing a new password now also locks the other person out. If you need help, ${whoToAsk(b)}.`]],
  }),

  password_breached_admin: (d, b) => ({
    subject: `${b.productName}: a user signed in with a breached password`,
    heading: 'A breached password was used',
    intro: [
      [`${d.userEmail} signed in at ${d.at}${fromIp(d.ip)} with a password that appears in a public breach list.`],
      ['The sign-in was blocked and the user was emailed a link to choose a new password. No action is needed unless you want to follow up.'],
    ],
    action: { label: `Open ${b.productName}`, url: d.consoleUrl },
    outro: [['You receive this because you are an administrator of their organization.']],
  }),
};
