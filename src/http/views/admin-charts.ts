// Inline SVG charts for the admin console: no script and no inline style (the CSP allows neither), colours from the
// stylesheet. Each chart is one image with a title and a text description; the pages add the numbers as a table.
import { html, type SafeHtml } from './html.js';

export interface Bucket {
  start: number;
  count: number;
}

export interface ChartOptions {
  /** Unique on the page; used for the title and description ids. */
  id: string;
  title: string;
  /** One sentence read by screen readers with the title (totals, peak). */
  description: string;
  buckets: readonly Bucket[];
  kind: 'bar' | 'line';
  /** Label under every `tickEvery`-th bucket (counted from the last one, so "now" is always labelled). */
  tickEvery: number;
  tickLabel(start: number): string;
  /** The tooltip of one bucket: "14:00 UTC". */
  pointLabel(start: number): string;
  /** CSS class naming the series colour (e.g. "series-logins"). */
  seriesClass: string;
}

const WIDTH = 420;
const HEIGHT = 170;
const PAD = { left: 34, right: 20, top: 12, bottom: 26 };

/** 1, 2, 5, 10, 20, 50 …: a round axis top at or above `max` (at least 1). */
export function niceMax(max: number): number {
  if (max <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

const fixed = (n: number): string => (Math.round(n * 10) / 10).toString();

export function chartSvg(o: ChartOptions): SafeHtml {
  const n = Math.max(o.buckets.length, 1);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const top = niceMax(Math.max(0, ...o.buckets.map((b) => b.count)));
  const slot = plotW / n;
  const y = (count: number): number => PAD.top + plotH - (count / top) * plotH;
  const xCenter = (i: number): number => PAD.left + slot * i + slot / 2;
  const baseline = PAD.top + plotH;
  // Whole numbers only: a half-way line is drawn only when it is one.
  const gridValues = Number.isInteger(top / 2) ? [0, top / 2, top] : [0, top];
  const plural = (c: number): string => `${c} event${c === 1 ? '' : 's'}`;

  const grid = gridValues.map(
    (v) => html`<line class="chart-grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${fixed(y(v))}" y2="${fixed(y(v))}"></line><text class="chart-label" x="${PAD.left - 6}" y="${fixed(y(v) + 4)}" text-anchor="end">${v}</text>`,
  );
  const ticks = o.buckets.map((b, i) =>
    (o.buckets.length - 1 - i) % o.tickEvery === 0
      ? html`<text class="chart-label" x="${fixed(xCenter(i))}" y="${HEIGHT - 8}" text-anchor="middle">${o.tickLabel(b.start)}</text>`
      : '',
  );
  let marks: SafeHtml;
  if (o.kind === 'bar') {
    const barW = Math.max(slot * 0.72, 1);
    marks = html`${o.buckets.map(
      (b, i) =>
        html`<rect class="chart-bar" x="${fixed(xCenter(i) - barW / 2)}" y="${fixed(y(b.count))}" width="${fixed(barW)}" height="${fixed(baseline - y(b.count))}"><title>${o.pointLabel(b.start)}: ${plural(b.count)}</title></rect>`,
    )}`;
  } else {
    const points = o.buckets.map((b, i) => `${fixed(xCenter(i))},${fixed(y(b.count))}`).join(' ');
    marks = html`<polyline class="chart-line" points="${points}"></polyline>${o.buckets.map(
      (b, i) => html`<circle class="chart-point" cx="${fixed(xCenter(i))}" cy="${fixed(y(b.count))}" r="3"><title>${o.pointLabel(b.start)}: ${plural(b.count)}</title></circle>`,
    )}`;
  }
  return html`<svg class="chart ${o.seriesClass}" viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="xMidYMid meet" role="img" aria-labelledby="${o.id}-title ${o.id}-desc" focusable="false">
<title id="${o.id}-title">${o.title}</title>
<desc id="${o.id}-desc">${o.description}</desc>
${grid}
<line class="chart-axis" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${baseline}" y2="${baseline}"></line>
${marks}
${ticks}
</svg>`;
}
