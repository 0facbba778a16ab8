// Reads raw MIME messages received by the test SMTP server: headers and the decoded text/plain part (these messages are simple MIME).
export function headerOf(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  return new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(unfolded)?.[1]?.trim() ?? '';
}

function decodeBody(body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      const hex = soft.slice(i + 1, i + 3);
      if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(...Buffer.from(soft[i] as string, 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

/** The text/plain part of a (possibly multipart) message, decoded. */
export function plainTextOf(raw: string): string {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headerOf(raw, 'content-type'))?.[1];
  const parts = boundary ? raw.split(`--${boundary}`) : [raw];
  for (const part of parts) {
    const trimmed = part.replace(/^\r?\n/, '');
    if (!/^text\/plain/i.test(headerOf(trimmed, 'content-type'))) continue;
    const split = trimmed.search(/\r?\n\r?\n/);
    return decodeBody(trimmed.slice(split).replace(/^\r?\n\r?\n/, ''), headerOf(trimmed, 'content-transfer-encoding').toLowerCase());
  }
  throw new Error(`no text/plain part in:\n${raw.slice(0, 500)}`);
}
