import { createTestApp } from '../helpers/app.js';
import { Browser, seedPublicClient, startLogin, pkcePair, REDIRECT_URI } from '../helpers/oidc-flow.js';
const app = await createTestApp({ argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 } });
try {
  const f = await seedPublicClient(app);
  const b = new Browser(app.server);
  const s = await startLogin(b, { client_id: f.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' });
  const res: Record<string, number[]> = {a:[], z:[]};
  for (let i=0;i<12;i++) for (const e of [f.email, 'zelda@example.com']) { const t=performance.now(); await b.postForm(s.action, {csrf:s.csrf, email:e, password:'xx'}); res[e[0]!]!.push(Math.round(performance.now()-t)); }
  console.log(res);
  const u = await app.store.users.findByEmail(f.email); console.log(u?.passwordHash);
  let t=performance.now(); await app.hasher.verify(u!.passwordHash!, 'xx'); console.log('verify', performance.now()-t);
  t=performance.now(); await app.hasher.dummyVerify('xx'); console.log('dummy', performance.now()-t);
} finally { await app.dispose(); }
