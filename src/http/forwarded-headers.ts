// Pins what oidc-provider sees as host and protocol to the public URL, and drops X-Forwarded-* from untrusted peers,
// so neither a direct client nor a spoofed header can make discovery or redirects point elsewhere.
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { TrustProxySetting } from './client-ip.js';

/** Returns the client's address through the trusted-proxy walk (the same as Fastify's request.ip). */
export function forwardedHeaderGuard(publicUrl: string, trustProxy: TrustProxySetting): (req: IncomingMessage) => string {
  const url = new URL(publicUrl);
  const trust = trustProxy === false ? () => false : proxyAddr.compile(trustProxy);
  return (req) => {
    const peer = req.socket.remoteAddress ?? '';
    let client = peer;
    if (!trust(peer, 0)) delete req.headers['x-forwarded-for'];
    // Behind a trusted proxy, the provider (Koa, proxy mode) would take the leftmost address, which the client
    // writes: it gets the one address the trusted-proxy walk arrives at instead.
    else if (req.headers['x-forwarded-for'] !== undefined) req.headers['x-forwarded-for'] = client = proxyAddr(req, trust);
    req.headers['x-forwarded-host'] = url.host;
    req.headers['x-forwarded-proto'] = url.protocol.replace(':', '');
    req.headers.host = url.host;
    return client;
  };
}
