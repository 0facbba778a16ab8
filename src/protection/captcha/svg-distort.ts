// Bakes distortion into svg-captcha's path coordinates (per-glyph rotation and scale, then a wave over everything).
//
// svg-captcha draws each glyph as an untransformed font outline, so matching paths against the font
// reads the answer without any OCR. Moving the coordinates themselves (rather than adding a
// `transform` attribute or a filter, which a script can simply ignore) removes that shortcut.

type Point = [number, number];
type Warp = (point: Point) => Point;

const TOKEN = /[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/g;

/** A one-letter path command (the tokens are commands or numbers). */
const isCommand = (token: string): boolean => token.length === 1 && ((token >= 'A' && token <= 'Z') || (token >= 'a' && token <= 'z'));

interface ParsedPath {
  tokens: string[];
  points: Point[];
}

function pathPoints(d: string): ParsedPath | null {
  const tokens = d.match(TOKEN) ?? [];
  const points: Point[] = [];
  let pending: number[] = [];
  for (const token of tokens) {
    if (isCommand(token)) {
      // Only absolute moves, lines and curves carry plain coordinate pairs; anything else stays unwarped.
      if (!/^[MLQCZ]$/.test(token) || pending.length % 2 !== 0) return null;
      continue;
    }
    pending.push(Number(token));
    if (pending.length === 2) {
      points.push([pending[0] as number, pending[1] as number]);
      pending = [];
    }
  }
  return pending.length === 0 ? { tokens, points } : null;
}

function warpPath(d: string, warp: Warp, parsed: ParsedPath | null = pathPoints(d)): string {
  if (!parsed) return d;
  let index = 0;
  let half: number | null = null;
  const out: string[] = [];
  for (const token of parsed.tokens) {
    if (isCommand(token)) {
      out.push(token);
      continue;
    }
    if (half === null) {
      const [x, y] = warp(parsed.points[index++] as Point);
      out.push(`${x.toFixed(2)} ${y.toFixed(2)}`);
      half = 1;
    } else {
      half = null;
    }
  }
  return out.join(' ').replace(/([A-Z]) /g, '$1');
}

function centroid(points: Point[]): Point {
  const sum = points.reduce<Point>((acc, [x, y]) => [acc[0] + x, acc[1] + y], [0, 0]);
  return [sum[0] / Math.max(1, points.length), sum[1] / Math.max(1, points.length)];
}

/** `unit()` returns a number in [0, 1). */
export function distortCaptchaSvg(svg: string, unit: () => number): string {
  const between = (min: number, max: number): number => min + unit() * (max - min);
  const amplitude = between(2.5, 4.5);
  const wavelength = between(70, 110);
  const phase = between(0, 2 * Math.PI);
  const shear = between(1.5, 3);
  const wave: Warp = ([x, y]) => [
    x + shear * Math.sin((2 * Math.PI * y) / 40 + phase),
    y + amplitude * Math.sin((2 * Math.PI * x) / wavelength + phase),
  ];

  const glyphs = svg.replace(/<path fill="(#[0-9a-fA-F]{3,6})" d="([^"]+)"\/>/g, (_match, fill: string, d: string) => {
    const parsed = pathPoints(d);
    if (!parsed) return `<path fill="${fill}" d="${d}"/>`;
    const [cx, cy] = centroid(parsed.points);
    const angle = between(-0.35, 0.35);
    const scale = between(0.85, 1.1);
    const lift = between(-4, 4);
    const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
    const glyph: Warp = ([x, y]) => {
      const [dx, dy] = [(x - cx) * scale, (y - cy) * scale];
      return wave([cx + dx * cos - dy * sin, cy + lift + dx * sin + dy * cos]);
    };
    return `<path fill="${fill}" d="${warpPath(d, glyph, parsed)}"/>`;
  });
  return glyphs.replace(/<path d="([^"]+)" stroke="/g, (_match, d: string) => `<path d="${warpPath(d, wave)}" stroke="`);
}
