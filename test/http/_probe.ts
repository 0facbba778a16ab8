import { createTestApp } from '../helpers/app.js';
import { seedPublicClient, authorizeWithLogin, exchangeCode, userinfo, tokenRequest } from '../helpers/oidc-flow.js';
const app = await createTestApp();
try {
  const f = await seedPublicClient(app);
  const r = await authorizeWithLogin(app, f);
  const t = await exchangeCode(app.server, { code: r.code, verifier: r.verifier, clientId: f.clientId });
  console.log(t.status, t.body);
  const rr = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token!, client_id: f.clientId });
  console.log(rr.status, rr.body);
  const rr2 = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token!, client_id: f.clientId });
  console.log(rr2.status, rr2.body);
  const rr3 = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: rr.body.refresh_token!, client_id: f.clientId });
  console.log(rr3.status, rr3.body);
  const rev = await app.server.inject({method:'POST', url:'/oidc/token/revocation', headers:{'content-type':'application/x-www-form-urlencoded'}, payload: new URLSearchParams({token: t.body.access_token!, client_id: f.clientId}).toString()});
  console.log(rev.statusCode, rev.body);
  console.log((await userinfo(app.server, t.body.access_token!)).status);
  const d = await app.server.inject('/oidc/.well-known/openid-configuration'); console.log(d.statusCode, JSON.parse(d.body).issuer, JSON.parse(d.body).jwks_uri, JSON.parse(d.body).revocation_endpoint);
} finally { await app.dispose(); }
