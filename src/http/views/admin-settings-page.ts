// The admin console's attack-protection settings: one form per section, reset to the deployment's values, history.
import type { SettingsRecord } from '../../store/store.js';
import { html, type SafeHtml } from './html.js';
import { alert } from './layout.js';
import { actorLink, consoleLayout, csrfInput, when, type ActorNames, type ConsoleFrame } from './admin-layout.js';

/** Option docs use `backticks` for code; they become <code> (escaped like everything else). */
export function docText(text: string): SafeHtml {
  return html`${text.split('`').map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : part))}`;
}

export type SettingKind = 'int' | 'duration' | 'bool' | 'enum' | 'text' | 'json';

export interface SettingFieldView {
  /** The form field name ("threshold", "actions.block"). */
  name: string;
  /** The dotted option path ("bruteForce.threshold"). */
  path: string;
  kind: SettingKind;
  /** For text inputs and selects: the value to show; for checkboxes: whether checked. */
  value: string | boolean;
  options?: readonly string[];
  min?: number;
  max?: number;
  help: string;
  /** Changed at runtime (so it differs from the deployment's configuration). */
  overridden: boolean;
}

export interface SettingsSectionView {
  key: string;
  title: string;
  fields: SettingFieldView[];
  error: string | null;
}

export interface SettingsView {
  csrfToken: string;
  notice: string | null;
  overlay: SettingsRecord | null;
  sections: SettingsSectionView[];
  history: SettingsRecord[];
  actors: ActorNames;
}

function settingInput(section: string, f: SettingFieldView): SafeHtml {
  const id = `s-${section}-${f.name.replace(/\./g, '-')}`;
  const help = html`<p class="hint" id="${id}-help">${docText(f.help)}${f.kind === 'duration' ? ' Write it like 90s, 30m, 24h or 7d.' : ''}</p>`;
  const badge = f.overridden ? html` <span class="badge">changed at runtime</span>` : '';
  const label = html`<code>${f.path}</code>${badge}`;
  switch (f.kind) {
    case 'bool':
      return html`<div class="setting setting-bool"><input type="checkbox" id="${id}" name="${f.name}" value="true"${f.value === true ? html` checked` : ''} aria-describedby="${id}-help"> <label for="${id}" class="inline-label">${label}</label>${help}</div>`;
    case 'enum':
      return html`<div class="setting"><label for="${id}">${label}</label><select id="${id}" name="${f.name}" aria-describedby="${id}-help" class="short">${(f.options ?? []).map(
        (o) => html`<option value="${o}"${o === f.value ? html` selected` : ''}>${o}</option>`,
      )}</select>${help}</div>`;
    case 'int':
      return html`<div class="setting"><label for="${id}">${label}</label><input id="${id}" name="${f.name}" type="number" inputmode="numeric" step="1"${f.min !== undefined ? html` min="${f.min}"` : ''}${f.max !== undefined ? html` max="${f.max}"` : ''} value="${String(f.value)}" aria-describedby="${id}-help" class="short">${help}</div>`;
    case 'duration':
      return html`<div class="setting"><label for="${id}">${label}</label><input id="${id}" name="${f.name}" type="text" value="${String(f.value)}" maxlength="20" spellcheck="false" aria-describedby="${id}-help" class="short">${help}</div>`;
    case 'json':
      return html`<div class="setting"><label for="${id}">${label}</label><textarea id="${id}" name="${f.name}" rows="10" spellcheck="false" aria-describedby="${id}-help">${String(f.value)}</textarea>${help}</div>`;
    default:
      return html`<div class="setting"><label for="${id}">${label}</label><input id="${id}" name="${f.name}" type="text" value="${String(f.value)}" maxlength="320" aria-describedby="${id}-help">${help}</div>`;
  }
}

export function settingsPage(frame: ConsoleFrame, v: SettingsView): string {
  const o = v.overlay;
  return consoleLayout(
    frame,
    'Settings',
    html`<h1>Attack-protection settings</h1>
${alert(v.notice, 'info')}
<p class="lead">These settings apply to every node within seconds, without a restart. Values not changed here come from the deployment's configuration.</p>
<p id="settings-revision">${
      o
        ? html`Revision <strong>${o.revision}</strong>, changed ${when(o.updatedAt)} by ${actorLink(o.updatedBy, v.actors)}.`
        : html`Nothing has been changed at runtime: every value comes from the deployment's configuration.`
    }</p>
<nav aria-label="Settings sections" class="toc"><ul>${v.sections.map((s) => html`<li><a href="#section-${s.key}">${s.title}</a></li>`)}<li><a href="#history-h">History</a></li></ul></nav>
${v.sections.map(
  (s) => html`<section aria-labelledby="section-${s.key}" class="console-section settings-section">
<h2 id="section-${s.key}" tabindex="-1">${s.title}</h2>
${s.error ? html`<div class="alert error" role="alert" id="error-${s.key}">${s.error}</div>` : ''}
<form method="post" action="/admin/settings/${s.key}" novalidate${s.error ? html` aria-describedby="error-${s.key}"` : ''}>${csrfInput(v.csrfToken)}
${s.fields.map((f) => settingInput(s.key, f))}
<button type="submit">Save changes<span class="visually-hidden"> to ${s.title}</span></button>
</form>
${
  s.fields.some((f) => f.overridden)
    ? html`<form method="post" action="/admin/settings/${s.key}/reset" class="reset-form">${csrfInput(v.csrfToken)}<button type="submit" class="secondary">Reset to the deployment's values<span class="visually-hidden">: ${s.title}</span></button></form>`
    : ''
}
</section>`,
)}
<section aria-labelledby="history-h" class="console-section">
<h2 id="history-h">History</h2>
${
  v.history.length === 0
    ? html`<p class="muted">No runtime changes yet.</p>`
    : html`<div class="table-scroll"><table class="list" id="settings-history"><caption class="visually-hidden">Past versions of the runtime settings, newest first</caption>
<thead><tr><th scope="col">Revision</th><th scope="col">When</th><th scope="col">By</th><th scope="col">Values changed at runtime</th></tr></thead><tbody>
${v.history.map(
  (h) => html`<tr><th scope="row">${h.revision}</th><td>${when(h.updatedAt)}</td><td>${actorLink(h.updatedBy, v.actors)}</td><td><details><summary>${Object.keys(h.values).length ? Object.keys(h.values).join(', ') : 'none'}</summary><pre>${JSON.stringify(h.values, null, 2)}</pre></details></td></tr>`,
)}
</tbody></table></div>`
}
</section>`,
  );
}
