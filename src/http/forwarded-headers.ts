// Pins what oidc-provider sees as host and protocol to the public URL, and drops X-Forwarded-* from untrusted peers,
// so neither a direct client nor a spoofed header can make discovery or redirects point elsewhere.
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { TrustProxySetting } from './client-ip.js';

export function forwardedHeaderGuard(publicUrl: string, trustProxy: TrustProxySetting): (req: IncomingMessage) => void {
  const url = new URL(publicUrl);
  const trust = trustProxy === false ? () => false : proxyAddr.compile(trustProxy);
  return (req) => {
    const peer = req.socket.remoteAddress ?? '';
    if (!trust(peer, 0)) delete req.headers['x-forwarded-for'];
    req.headers['x-forwarded-host'] = url.host;
    req.headers['x-forwarded-proto'] = url.protocol.replace(':', '');
    req.headers.host = url.host;
  };
}
