// Our look for the pages oidc-provider renders itself: errors, logout confirmation, logout success.
import type { ProviderPages } from '../oidc/provider.js';
import { errorPage, logoutConfirmPage, messagePage } from './views/pages.js';

const ERROR_TEXT: Record<string, string> = {
  invalid_request: 'The application sent an invalid sign-in request.',
  invalid_client: 'The application is not registered here.',
  invalid_redirect_uri: 'The application asked to return to an address it has not registered.',
  unauthorized_client: 'The application is not allowed to do this.',
  access_denied: 'Access was denied.',
  invalid_scope: 'The application asked for permissions that do not exist.',
};

export function providerPages(productName: string): ProviderPages {
  return {
    async renderError(ctx, out) {
      const known = ERROR_TEXT[out.error] ?? 'The sign-in request could not be processed.';
      const detail = out.error_description ? ` (${out.error_description})` : '';
      ctx.type = 'html';
      ctx.body = errorPage(productName, ctx.status >= 400 ? ctx.status : 400, `${known}${detail} Go back to the application and try again; if it keeps happening, contact its administrator.`);
    },
    async logoutSource(ctx, form) {
      ctx.type = 'html';
      ctx.body = logoutConfirmPage(productName, form, ctx.host);
    },
    async postLogoutSuccessSource(ctx) {
      ctx.type = 'html';
      ctx.body = messagePage(productName, 'Signed out', 'You have signed out. You can close this window.');
    },
  };
}
