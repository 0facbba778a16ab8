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

  passkey_added: (d, b) => ({
    subject: `A passkey was added to your ${b.productName} account`,
    heading: 'A passkey was added',
    intro: [
      [`A passkey named "${d.passkeyName}" was added to your ${b.productName} account on ${d.at}${fromIp(d.ip)}. It can now sign in to your account without a password.`],
      ['If this was you, there is nothing else to do.'],
      ['If this was not you, remove the passkey on your account page now:'],
    ],
    action: { label: 'Review your passkeys', url: d.accountUrl },
    outro: [
      ['Then reset your password, because someone else may know it: ', { url: d.resetUrl }],
      [`If you cannot get back into your account, ${whoToAsk(b)}.`],
    ],
  }),

  passkey_removed: (d, b) => ({
    subject: `A passkey was removed from your ${b.productName} account`,
    heading: 'A passkey was removed',
    intro: [
      [`The passkey named "${d.passkeyName}" was removed from your ${b.productName} account on ${d.at}${fromIp(d.ip)}. It can no longer sign in to your account.`],
      ['If this was you, there is nothing else to do. You can review your remaining passkeys here:'],
    ],
    action: { label: 'Review your passkeys', url: d.accountUrl },
    outro: [
      ['If this was not you, someone else is signed in to your account. Reset your password now: ', { url: d.resetUrl }],
      [`If you cannot get back into your account, ${whoToAsk(b)}.`],
    ],
  }),

  mfa_enabled: (d, b) => ({
    subject: `Two-factor authentication is on for your ${b.productName} account`,
    heading: 'Two-factor authentication is on',
    intro: [
      [`Two-factor authentication was switched on for your ${b.productName} account on ${d.at}${fromIp(d.ip)}. Signing in now also asks for a code from your authenticator app.`],
      ['Keep your recovery codes somewhere safe: each one lets you sign in once if you lose your phone.'],
    ],
    action: { label: 'Review your account', url: d.accountUrl },
    outro: [
      ['If this was not you, someone else may know your password. Reset it now: ', { url: d.resetUrl }],
      [`If you cannot get back into your account, ${whoToAsk(b)}.`],
    ],
  }),

  recovery_code_used: (d, b) => ({
    subject: `A recovery code was used to sign in to your ${b.productName} account`,
    heading: 'A recovery code was used',
    intro: [
      [`Someone signed in to your ${b.productName} account with one of your recovery codes on ${d.at}${fromIp(d.ip)}. That code no longer works.`],
      [d.remaining === 1 ? 'You have 1 unused recovery code left.' : `You have ${d.remaining} unused recovery codes left.`, d.remaining <= 3 ? ' Generate a new set on your account page soon.' : ''],
    ],
    action: { label: 'Review your account', url: d.accountUrl },
    outro: [
      ['If this was not you, someone has your password and a recovery code. Reset your password now: ', { url: d.resetUrl }],
      [`Then ${whoToAsk(b)} to reset your two-factor authentication.`],
    ],
  }),

  mfa_reset: (d, b) => ({
    subject: `Two-factor authentication was reset on your ${b.productName} account`,
    heading: 'Your two-factor authentication was reset',
    intro: [
      [`An administrator reset the two-factor authentication of your ${b.productName} account on ${d.at}. Your authenticator app and your recovery codes no longer work for this account. Your passkeys were kept.`],
      ['Until you set it up again, signing in with your password does not ask for a code. Set it up again now:'],
    ],
    action: { label: 'Set up two-factor authentication', url: d.accountUrl },
    outro: [
      ['If you did not ask for this, reset your password now: ', { url: d.resetUrl }],
      [`Then ${whoToAsk(b)}.`],
    ],
  }),

  risk_alert_admin: (d, b) => {
    const blocked = d.action === 'blocked';
    const why = d.reasons.length > 0 ? ' because:' : '.';
    return {
      subject: blocked ? `${b.productName}: Suspicious login attempt blocked for ${d.userEmail}` : `${b.productName}: Suspicious login attempt for ${d.userEmail} needed a second factor`,
      heading: blocked ? 'A suspicious login attempt was blocked' : 'A suspicious login attempt needed a second factor',
      intro: [
        [`At ${d.at} someone tried to sign in to ${b.productName} as ${d.userEmail} from the IP address ${d.ip} (${d.location}) using ${d.device}.`],
        [blocked ? `The attempt was blocked${why}` : `The attempt could only finish with a second factor${why}`],
        ...d.reasons.map((reason) => [`• ${reason}`]),
        [
          blocked
            ? `${d.userEmail} is not locked out: only this attempt was stopped, and their other sign-ins still work.`
            : `${d.userEmail} is not locked out: only this attempt had to pass a second factor, and their other sign-ins work as usual.`,
        ],
        ['Check with the user that it was them. If it was not, reset their password and revoke their sessions from the console.'],
      ],
      action: { label: `Open ${b.productName}`, url: d.consoleUrl },
      outro: [['You receive this because you are an administrator of their organization.']],
    };
  },

  login_code: (d, b) => ({
    subject: `Your ${b.productName} sign-in code: ${d.code}`,
    heading: 'Confirm it is you',
    intro: [
      [`Someone signed in to your ${b.productName} account with your password from ${d.ip ?? 'an unknown address'} (${d.location}). The sign-in looked different from your usual ones, so it needs this code:`],
      [d.code],
      [`The code is valid for ${d.expiresInText} and works once. Never share it with anyone.`],
      ['If this was not you, someone knows your password: change it now.'],
    ],
    action: { label: 'Change your password', url: d.resetUrl },
    outro: [[`If you need help, ${whoToAsk(b)}.`]],
  }),

  new_sign_in: (d, b) => ({
    subject: `New sign-in to your ${b.productName} account`,
    heading: 'New sign-in from a new device',
    intro: [
      [`Your ${b.productName} account was signed in to on ${d.at} from a device we have not seen before: ${d.device}, from the IP address ${d.ip} (${d.location}).`],
      ['If this was you, there is nothing else to do.'],
      ['If this was not you, someone else may know your password: change it now.'],
    ],
    action: { label: 'Change your password', url: d.resetUrl },
    outro: [
      ['Then review the devices and sessions on your account page: ', { url: d.accountUrl }],
      [`If you cannot get back into your account, ${whoToAsk(b)}.`],
    ],
  }),

  password_breached_digest: (d, b) => ({
    subject: `${b.productName}: ${d.logins.length} sign-in${d.logins.length === 1 ? '' : 's'} with breached passwords on ${d.day}`,
    heading: 'Breached passwords: daily summary',
    intro: [
      [`On ${d.day}, these members of your organization signed in with a password that appears in a public breach list. Each sign-in was handled by the breached-password setting, and the users were asked to choose new passwords:`],
      ...d.logins.map((l) => [`${l.email} at ${l.at}${l.ip ? ` from ${l.ip}` : ''}`]),
    ],
    action: { label: `Open ${b.productName}`, url: d.consoleUrl },
    outro: [['You receive this summary because you are an administrator of the organization.']],
  }),
};
