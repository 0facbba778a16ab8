// Console users: search and create, a user's detail, and the actions on it. Destructive actions (disable, delete,
// reset 2FA, end sessions, remove a passkey) have a confirmation page: its GET spells out the consequences and its
// button POSTs to the same URL with confirm=yes; a POST without it changes nothing and goes to that page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UserSummary } from '../../admin/admin-service.js';
import { isPortcullisError, PortcullisError } from '../../domain/errors.js';
import type { Role } from '../../domain/types.js';
import { normaliseEmail } from '../../store/sql/sql-users.js';
import { formField, UID_PATTERN } from '../form.js';
import { sendHtml } from '../link-pages.js';
import { describeDevice } from '../describe-device.js';
import { confirmPage, type ConfirmView } from '../views/admin-layout.js';
import { userDetailPage, usersPage } from '../views/admin-user-pages.js';
import { bodyField, doneUrl, noticeFrom, queryParam, type ConsoleContext, type ConsoleKit } from './admin-common.js';
import type { ConsoleDeps } from './admin-console.js';

const PAGE_SIZE = 25;

const notFound = () => new PortcullisError('not_found', { message: 'No user with this id.' });

function userId(request: FastifyRequest): string {
  const id = (request.params as { id?: string }).id ?? '';
  if (!UID_PATTERN.test(id)) throw notFound();
  return id;
}

interface Confirmable {
  /** Path under /admin/users/:id (e.g. "/delete"). */
  path: string;
  /** The confirmation page, for a user the principal can see. */
  describe(request: FastifyRequest, ctx: ConsoleContext, user: UserSummary): Promise<Omit<ConfirmView, 'csrfToken' | 'action' | 'cancelHref'> & { hidden?: Record<string, string> }>;
  /** Does it; returns where to go next. */
  run(request: FastifyRequest, ctx: ConsoleContext, user: UserSummary): Promise<string>;
}

export function adminUserRoutes(deps: ConsoleDeps, kit: ConsoleKit) {
  const { admin } = deps;

  async function renderList(request: FastifyRequest, reply: FastifyReply, ctx: ConsoleContext, status = 200, error: string | null = null, form = { email: '', name: '', role: 'member', orgId: '' }) {
    const query = queryParam(request, 'q', 200);
    const offset = Math.max(0, Math.floor(Number(queryParam(request, 'offset', 12)) || 0));
    const found = await admin.listUsers(ctx.principal, { query: query || undefined, limit: PAGE_SIZE, offset });
    const orgNames = new Map<string, string>();
    if (ctx.principal.kind === 'operator') {
      for (const u of found.users) {
        if (u.orgId && !orgNames.has(u.orgId)) {
          const name = await kit.orgName(ctx.principal, u.orgId, u.id);
          if (name) orgNames.set(u.orgId, name);
        }
      }
    }
    return sendHtml(
      reply,
      status,
      usersPage(ctx.frame, {
        csrfToken: ctx.csrfToken,
        notice: error ? null : noticeFrom(request),
        error,
        query,
        users: found.users,
        total: found.total,
        offset: found.offset,
        limit: found.limit,
        orgNames,
        operator: ctx.principal.kind === 'operator',
        orgName: ctx.frame.org?.name ?? null,
        form,
      }),
    );
  }

  async function renderDetail(request: FastifyRequest, reply: FastifyReply, ctx: ConsoleContext, id: string, status = 200, error: string | null = null) {
    const detail = await admin.userDetail(ctx.principal, id);
    kit.rememberOrg(detail.org);
    const email = normaliseEmail(detail.user.email);
    const blocks = (await admin.listBlocks(ctx.principal)).blocks.filter((b) => b.identifier === email);
    return sendHtml(
      reply,
      status,
      userDetailPage(ctx.frame, {
        csrfToken: ctx.csrfToken,
        notice: error ? null : noticeFrom(request),
        error,
        detail,
        blocks,
        self: detail.user.id === ctx.user.id,
        actors: await kit.actorNames(ctx.principal, kit.eventActors(detail.events)),
      }),
    );
  }

  /** A POST on one user: refusals other than "not found" re-render the user's page with the message. */
  function userAction(run: (request: FastifyRequest, ctx: ConsoleContext, id: string) => Promise<string>) {
    return kit.action('users', async (request, reply, ctx) => {
      const id = userId(request);
      try {
        return reply.redirect(await run(request, ctx, id), 303);
      } catch (error) {
        if (isPortcullisError(error) && error.status < 500 && error.code !== 'not_found' && error.code !== 'forbidden') return renderDetail(request, reply, ctx, id, error.status, error.publicMessage);
        throw error;
      }
    });
  }

  function confirmable(app: FastifyInstance, c: Confirmable): void {
    const url = `/admin/users/:id${c.path}`;
    const actionUrl = (id: string) => `/admin/users/${id}${c.path}`;
    app.get(
      url,
      kit.page('users', async (request, reply, ctx) => {
        const user = await admin.getUser(ctx.principal, userId(request));
        const view = await c.describe(request, ctx, user);
        return sendHtml(reply, 200, confirmPage(ctx.frame, { ...view, csrfToken: ctx.csrfToken, action: actionUrl(user.id), cancelHref: `/admin/users/${user.id}` }));
      }),
    );
    app.post(
      url,
      userAction(async (request, ctx, id) => {
        const user = await admin.getUser(ctx.principal, id);
        if (bodyField(request, 'confirm', 10) !== 'yes') {
          // Not confirmed: nothing happens; the confirmation page explains what would.
          const credential = bodyField(request, 'credential', 2048);
          return credential ? `${actionUrl(id)}?credential=${encodeURIComponent(credential)}` : actionUrl(id);
        }
        return c.run(request, ctx, user);
      }),
    );
  }

  return async (app: FastifyInstance): Promise<void> => {
    app.get('/admin/users', kit.page('users', async (request, reply, ctx) => renderList(request, reply, ctx)));

    app.post(
      '/admin/users',
      kit.action('users', async (request, reply, ctx) => {
        const form = {
          email: bodyField(request, 'email', 320).trim(),
          name: bodyField(request, 'name', 100).trim(),
          role: bodyField(request, 'role', 10) === 'admin' ? 'admin' : 'member',
          orgId: ctx.principal.kind === 'operator' ? bodyField(request, 'orgId', 64).trim() : '',
        };
        try {
          const email = formField(request.body, 'email', { max: 320, label: 'Email' }).trim();
          const password = formField(request.body, 'password', { max: 1024, required: false, label: 'Password' });
          const created = await admin.createUser(ctx.principal, { email, name: form.name || null, password: password || null, role: form.role as Role, orgId: form.orgId || null });
          return reply.redirect(doneUrl(`/admin/users/${created.id}`, 'created'), 303);
        } catch (error) {
          if (isPortcullisError(error) && (error.code === 'invalid_input' || error.code === 'conflict')) {
            const message = error.code === 'conflict' ? `A user with the email ${form.email} already exists.` : error.publicMessage;
            return renderList(request, reply, ctx, error.status, message, form);
          }
          throw error;
        }
      }),
    );

    app.get('/admin/users/:id', kit.page('users', async (request, reply, ctx) => renderDetail(request, reply, ctx, userId(request))));

    app.post(
      '/admin/users/:id/unblock',
      userAction(async (_request, ctx, id) => {
        const user = await admin.getUser(ctx.principal, id);
        const cleared = await admin.unblock(ctx.principal, user.email, null);
        return doneUrl(`/admin/users/${id}`, 'unblocked', cleared);
      }),
    );

    app.post(
      '/admin/users/:id/enable',
      userAction(async (_request, ctx, id) => {
        await admin.enableUser(ctx.principal, id);
        return doneUrl(`/admin/users/${id}`, 'enabled');
      }),
    );

    confirmable(app, {
      path: '/disable',
      async describe(_request, _ctx, user) {
        return {
          title: `Disable ${user.email}?`,
          consequences: [
            `Every session of ${user.email} ends now, with the sign-ins to apps made through them.`,
            'Every sign-in attempt is refused until the account is enabled again (recorded as "Failed login: account disabled").',
            'Nothing is deleted: passkeys, two-step verification and the password stay, and you can enable the account at any time.',
          ],
          button: 'Disable account',
          danger: true,
        };
      },
      async run(_request, ctx, user) {
        await admin.disableUser(ctx.principal, user.id);
        return doneUrl(`/admin/users/${user.id}`, 'disabled');
      },
    });

    confirmable(app, {
      path: '/delete',
      async describe(_request, _ctx, user) {
        return {
          title: `Delete ${user.email}?`,
          consequences: [
            `The account of ${user.email} is deleted permanently: this cannot be undone.`,
            'Every session ends now, and the sign-ins to apps made through them.',
            'Their passkeys, two-step verification, remembered devices and pending email links are deleted with it.',
            'Their security events are kept, for the record.',
          ],
          button: 'Delete user permanently',
          danger: true,
        };
      },
      async run(_request, ctx, user) {
        await admin.deleteUser(ctx.principal, user.id);
        return doneUrl('/admin/users', 'deleted');
      },
    });

    confirmable(app, {
      path: '/reset-2fa',
      async describe(_request, _ctx, user) {
        return {
          title: `Reset two-step verification of ${user.email}?`,
          consequences: [
            'Their authenticator app (TOTP) and their unused recovery codes are removed.',
            'Their passkeys are kept and keep working.',
            'Their next password sign-in does not ask for a code; they can set up an authenticator app again from their account page.',
            'If they had two-step verification, they are emailed that it was reset.',
          ],
          button: 'Reset two-step verification',
          danger: true,
        };
      },
      async run(_request, ctx, user) {
        const { removed } = await admin.resetTwoFactor(ctx.principal, user.id);
        return doneUrl(`/admin/users/${user.id}`, 'mfa_reset', removed ? 1 : 0);
      },
    });

    confirmable(app, {
      path: '/sessions/revoke-all',
      async describe(_request, ctx, user) {
        const open = await admin.listSessions(ctx.principal, user.id);
        return {
          title: `End every session of ${user.email}?`,
          consequences: [
            `${open.length} active session${open.length === 1 ? '' : 's'} end${open.length === 1 ? 's' : ''} now; they need to sign in again on every device.`,
            'Their sign-ins to apps (refresh tokens) end too; apps are told at the next session sweep.',
            'Their password, passkeys and two-step verification do not change.',
          ],
          button: 'End all sessions',
          danger: true,
        };
      },
      async run(_request, ctx, user) {
        const count = await admin.revokeSessions(ctx.principal, user.id, null);
        return doneUrl(`/admin/users/${user.id}`, 'sessions_revoked', count);
      },
    });

    app.get(
      '/admin/users/:id/sessions/:sid/revoke',
      kit.page('users', async (request, reply, ctx) => {
        const id = userId(request);
        const sid = (request.params as { sid: string }).sid;
        const session = UID_PATTERN.test(sid) ? (await admin.listSessions(ctx.principal, id)).find((s) => s.id === sid) : undefined;
        if (!session) throw new PortcullisError('not_found', { message: 'No active session with this id for this user.' });
        const user = await admin.getUser(ctx.principal, id);
        return sendHtml(
          reply,
          200,
          confirmPage(ctx.frame, {
            csrfToken: ctx.csrfToken,
            title: `End this session of ${user.email}?`,
            consequences: [
              `The session on ${describeDevice(session.userAgent)} from ${session.ip ?? 'an unknown IP'} (${session.location}) ends now; they need to sign in again there.`,
              "The app sign-ins made through it end too; apps are told at the next session sweep.",
              'Their other sessions keep going.',
            ],
            button: 'End session',
            danger: true,
            action: `/admin/users/${id}/sessions/${sid}/revoke`,
            cancelHref: `/admin/users/${id}`,
          }),
        );
      }),
    );

    app.post(
      '/admin/users/:id/sessions/:sid/revoke',
      userAction(async (request, ctx, id) => {
        const sid = (request.params as { sid: string }).sid;
        if (!UID_PATTERN.test(sid)) throw new PortcullisError('not_found', { message: 'No session with this id for this user.' });
        if (bodyField(request, 'confirm', 10) !== 'yes') {
          await admin.getUser(ctx.principal, id);
          return `/admin/users/${id}/sessions/${sid}/revoke`;
        }
        await admin.revokeSessions(ctx.principal, id, sid);
        return doneUrl(`/admin/users/${id}`, 'session_revoked');
      }),
    );

    confirmable(app, {
      path: '/passkeys/remove',
      async describe(request, ctx, user) {
        const credential = queryParam(request, 'credential', 2048);
        const passkey = (await admin.listPasskeys(ctx.principal, user.id)).find((p) => p.credentialId === credential);
        if (!passkey) throw new PortcullisError('not_found', { message: 'This user has no such passkey.' });
        return {
          title: `Remove the passkey "${passkey.name}" of ${user.email}?`,
          consequences: [
            `${user.email} can no longer sign in with the passkey "${passkey.name}".`,
            'Their other passkeys and their password keep working.',
            'The passkey stays in their passkey provider, where it no longer works for this site; they can delete it there.',
          ],
          button: 'Remove passkey',
          danger: true,
          hidden: { credential: passkey.credentialId },
        };
      },
      async run(request, ctx, user) {
        const credential = bodyField(request, 'credential', 2048);
        const removed = credential ? await admin.deletePasskey(ctx.principal, user.id, credential) : false;
        if (!removed) throw new PortcullisError('invalid_input', { message: 'That passkey was already removed.' });
        return doneUrl(`/admin/users/${user.id}`, 'passkey_removed');
      },
    });
  };
}
