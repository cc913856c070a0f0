/**
 * Genesis side panel (catalog grouped by kind, challenges, agent requests) and the allocation
 * status-bar item. Data comes from the server extension genesis_lab.widgets.server
 * (<base>/genesis/...); the agent requests from the MCP human gate (<base>/genesis/agent/...).
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { URLExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';

export interface ICatalogRecord {
  id: string;
  kind: string;
  domain: string;
  title: string;
  marking: string;
  keywords: string;
  challenge: string;
  code: string;
}

export interface IAgentRequest {
  id: string;
  tool: string;
  digest: string;
  core_hours: number;
  batch: number;
  reason: string;
  created: string;
}

/** The groups of the panel, in the order they are shown. */
export const GROUPS: { kind: string; heading: string }[] = [
  { kind: 'dataset', heading: 'Datasets' },
  { kind: 'model', heading: 'Models' },
  { kind: 'simulator', heading: 'Simulators' },
  { kind: 'challenge', heading: 'Challenges' }
];

const MAX_SHOWN = 200;
const AGENT_POLL_MS = 15000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

async function requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'genesis', path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  let data: any = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new HttpError(response.status, (data && data.message) || response.statusText);
  }
  return data as T;
}

/** Lowercased search text of each record, computed once so a keystroke only scans strings. */
export function indexRecords(records: ICatalogRecord[]): string[] {
  return records.map(r =>
    `${r.id} ${r.title} ${r.keywords} ${r.domain} ${r.kind} ${r.marking}`.toLowerCase()
  );
}

/** Indices of records whose text contains every word of the query. */
export function filterRecords(index: string[], query: string): number[] {
  const words = query.toLowerCase().split(/\s+/).filter(w => w.length > 0);
  const out: number[] = [];
  for (let i = 0; i < index.length; i++) {
    const text = index[i];
    let ok = true;
    for (const w of words) {
      if (text.indexOf(w) < 0) {
        ok = false;
        break;
      }
    }
    if (ok) {
      out.push(i);
    }
  }
  return out;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text) {
    node.textContent = text;
  }
  return node;
}

function button(label: string, cls: string, hint: string, action: () => void): HTMLButtonElement {
  const b = element('button', `jp-GenesisPanel-${cls} jp-mod-styled`, label);
  b.type = 'button';
  b.title = hint;
  b.addEventListener('click', event => {
    event.stopPropagation();
    action();
  });
  return b;
}

/** Pending agent requests of the MCP human gate; hidden when the gate is not installed (404). */
class AgentRequests {
  readonly node: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly note: HTMLElement;

  constructor() {
    this.node = element('section', 'jp-GenesisPanel-agents');
    this.node.hidden = true;
    const head = element('div', 'jp-GenesisPanel-groupHead');
    head.append(
      element('h3', 'jp-GenesisPanel-heading', 'Agent requests'),
      button('Stop agents', 'stop', 'Revoke agent tokens and cancel their work and jobs', () =>
        void this.stop()
      )
    );
    this.list = element('ul', 'jp-GenesisPanel-list');
    this.note = element('div', 'jp-GenesisPanel-agentNote');
    this.node.append(head, this.note, this.list);
  }

  async refresh(): Promise<void> {
    let pending: IAgentRequest[];
    try {
      pending = await requestAPI<IAgentRequest[]>('agent/pending');
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) {
        this.node.hidden = true;
      } else {
        this.node.hidden = false;
        this.note.textContent = `Could not list agent requests: ${(err as Error).message}`;
      }
      return;
    }
    this.node.hidden = false;
    this.list.replaceChildren(...pending.map(r => this.item(r)));
    if (pending.length === 0 && !this.note.dataset.sticky) {
      this.note.textContent = 'No agent request waits for a decision.';
    }
  }

  private item(r: IAgentRequest): HTMLLIElement {
    const li = element('li', 'jp-GenesisPanel-item jp-GenesisPanel-agentRequest');
    li.dataset.id = r.id;
    const text = element('div', 'jp-GenesisPanel-text');
    const title = element('div', 'jp-GenesisPanel-title', r.tool);
    title.title = `request ${r.id}, digest ${r.digest}, created ${r.created}`;
    const meta = element(
      'div',
      'jp-GenesisPanel-meta',
      `${r.core_hours} core-h · batch ${r.batch}${r.reason ? ` · ${r.reason}` : ''}`
    );
    text.append(title, meta);
    const actions = element('div', 'jp-GenesisPanel-actions');
    actions.append(
      button('Approve', 'approve', `Approve ${r.tool} (${r.id})`, () => void this.decide(r, 'approve')),
      button('Reject', 'reject', `Reject ${r.tool} (${r.id})`, () => void this.decide(r, 'reject'))
    );
    li.append(text, actions);
    return li;
  }

  private async decide(r: IAgentRequest, decision: 'approve' | 'reject'): Promise<void> {
    try {
      const reply = await requestAPI<{ id: string; decision: string }>(
        `agent/pending/${encodeURIComponent(r.id)}/${decision}`,
        { method: 'POST' }
      );
      this.note.textContent = `${r.tool} (${reply.id}): ${reply.decision}`;
    } catch (err) {
      this.note.textContent = `Could not ${decision} ${r.id}: ${(err as Error).message}`;
    }
    await this.refresh();
  }

  private async stop(): Promise<void> {
    try {
      const s = await requestAPI<{
        tokens_revoked: number;
        work_cancelled: number;
        jobs_cancelled: number;
        seconds: number;
      }>('agent/stop', { method: 'POST' });
      this.note.textContent =
        `Agents stopped: ${s.tokens_revoked} tokens revoked, ${s.work_cancelled} requests ` +
        `cancelled, ${s.jobs_cancelled} jobs cancelled in ${s.seconds.toFixed(1)} s.`;
      this.note.dataset.sticky = '1';
    } catch (err) {
      this.note.textContent = `Could not stop the agents: ${(err as Error).message}`;
    }
    await this.refresh();
  }
}

class GenesisPanel extends Widget {
  private records: ICatalogRecord[] = [];
  private index: string[] = [];
  private readonly search: HTMLInputElement;
  private readonly count: HTMLElement;
  private readonly groups: HTMLElement;
  private readonly message: HTMLElement;
  readonly agents = new AgentRequests();

  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly notebooks: INotebookTracker | null
  ) {
    super();
    this.id = 'genesis-panel';
    this.title.caption = 'Genesis catalog, challenges and agent requests';
    this.title.label = 'Genesis';
    this.addClass('jp-GenesisPanel');
    const header = element('h2', 'jp-GenesisPanel-header', 'Genesis');
    this.search = element('input', 'jp-GenesisPanel-search');
    this.search.type = 'search';
    this.search.placeholder = 'Filter catalog…';
    this.search.setAttribute('aria-label', 'Filter the catalog');
    this.count = element('div', 'jp-GenesisPanel-count');
    this.message = element('div', 'jp-GenesisPanel-message');
    this.message.setAttribute('role', 'status');
    this.groups = element('div', 'jp-GenesisPanel-groups');
    this.node.append(header, this.agents.node, this.search, this.count, this.message, this.groups);
    this.search.addEventListener('input', () => this.render());
  }

  async refresh(): Promise<void> {
    void this.agents.refresh();
    try {
      this.records = await requestAPI<ICatalogRecord[]>('catalog');
      this.records.sort((a, b) => a.title.localeCompare(b.title));
      this.index = indexRecords(this.records);
      this.render();
    } catch (err) {
      this.message.textContent = `Could not load the catalog: ${(err as Error).message}`;
    }
  }

  /** Re-draws the groups for the current query; returns the time it took in ms. */
  render(): number {
    const t0 = performance.now();
    const hits = filterRecords(this.index, this.search.value).slice(0, MAX_SHOWN);
    const total = filterRecords(this.index, this.search.value).length;
    const fragment = document.createDocumentFragment();
    for (const group of GROUPS) {
      const rows = hits.map(i => this.records[i]).filter(r => r.kind === group.kind);
      if (rows.length === 0) {
        continue;
      }
      const section = element('section', 'jp-GenesisPanel-group');
      section.dataset.kind = group.kind;
      const head = element('div', 'jp-GenesisPanel-groupHead');
      head.append(
        element('h3', 'jp-GenesisPanel-heading', group.heading),
        element('span', 'jp-GenesisPanel-groupCount', String(rows.length))
      );
      const list = element('ul', 'jp-GenesisPanel-list');
      list.append(...rows.map(r => this.item(r)));
      section.append(head, list);
      fragment.appendChild(section);
    }
    this.groups.replaceChildren(fragment);
    const more = total > MAX_SHOWN ? ` (first ${MAX_SHOWN} shown)` : '';
    this.count.textContent = `${total} of ${this.records.length} entries${more}`;
    const elapsed = performance.now() - t0;
    this.node.dataset.lastFilterMs = elapsed.toFixed(2);
    return elapsed;
  }

  private item(record: ICatalogRecord): HTMLLIElement {
    const li = element('li', `jp-GenesisPanel-item jp-GenesisPanel-${record.kind}`);
    li.dataset.id = record.id;
    const text = element('div', 'jp-GenesisPanel-text');
    const title = element('div', 'jp-GenesisPanel-title', record.title);
    title.title = `${record.id}\n${record.kind} · ${record.domain} · ${record.marking}`;
    const badge = element(
      'span',
      `jp-GenesisPanel-badge jp-GenesisPanel-badge-${record.marking}`,
      record.marking
    );
    badge.title = `Marking: ${record.marking}`;
    const meta = element('div', 'jp-GenesisPanel-meta');
    meta.append(badge, element('span', 'jp-GenesisPanel-domain', record.domain));
    text.append(title, meta);
    const actions = element('div', 'jp-GenesisPanel-actions');
    if (record.kind === 'challenge') {
      actions.append(
        button('Open', 'open', `Copy ${record.challenge} into your folder and open it`, () =>
          void this.openChallenge(record)
        ),
        button('Run', 'run', `Run ${record.challenge} as a pipeline`, () =>
          void this.runChallenge(record)
        )
      );
    } else {
      actions.append(
        button('Insert', 'insert', `Insert into the notebook:\n${record.code}`, () =>
          this.insertCode(record)
        )
      );
    }
    li.append(text, actions);
    return li;
  }

  /** The record's SDK code into the active notebook: the active cell if empty, else a new one. */
  private insertCode(record: ICatalogRecord): void {
    const panel = this.notebooks?.currentWidget ?? null;
    if (!panel) {
      this.message.textContent = `Open a notebook to insert the code for ${record.id}.`;
      return;
    }
    const notebook = panel.content;
    const active = notebook.activeCell;
    const empty =
      active !== null &&
      active.model.type === 'code' &&
      active.model.sharedModel.getSource().trim() === '';
    if (!empty) {
      NotebookActions.insertBelow(notebook);
    }
    const cell = notebook.activeCell;
    if (cell === null) {
      this.message.textContent = `Could not insert the code for ${record.id}: no cell.`;
      return;
    }
    cell.model.sharedModel.setSource(record.code);
    this.app.shell.activateById(panel.id);
    this.message.textContent = `Inserted the code for ${record.id}.`;
  }

  private async openChallenge(record: ICatalogRecord): Promise<void> {
    try {
      const reply = await requestAPI<{ path: string }>(
        `challenges/${record.challenge}/open`,
        { method: 'POST' }
      );
      await this.app.commands.execute('docmanager:open', { path: reply.path });
    } catch (err) {
      this.message.textContent = `Could not open ${record.id}: ${(err as Error).message}`;
    }
  }

  private async runChallenge(record: ICatalogRecord): Promise<void> {
    try {
      await requestAPI(`challenges/${record.challenge}/run`, { method: 'POST' });
      this.message.textContent = `Running ${record.challenge} as a pipeline…`;
    } catch (err) {
      this.message.textContent = `Could not run ${record.id}: ${(err as Error).message}`;
    }
  }
}

interface IStatus {
  allocation: string | null;
  account: string | null;
  used_core_hours: number;
  budget_core_hours: number | null;
}

/** The allocation and its use, drawn as JupyterLab's own text items so it lines up with them. */
class AllocationStatus extends Widget {
  private readonly text: HTMLSpanElement;

  constructor() {
    super();
    this.addClass('jp-GenesisStatus');
    this.text = element('span', 'jp-StatusBar-TextItem jp-GenesisStatus-text', 'Genesis: …');
    this.node.appendChild(this.text);
  }

  async refresh(): Promise<void> {
    try {
      const s = await requestAPI<IStatus>('status');
      const alloc = s.allocation ?? 'local';
      const budget = s.budget_core_hours === null ? '' : ` / ${s.budget_core_hours}`;
      this.text.textContent = `${alloc}: ${s.used_core_hours.toFixed(2)}${budget} core-h`;
      this.node.title = `Allocation ${alloc} (account ${s.account ?? 'none'})`;
    } catch (err) {
      this.text.textContent = 'Genesis: status unavailable';
    }
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@genesis-lab/jupyterlab-genesis:plugin',
  description: 'Genesis side panel and allocation status',
  autoStart: true,
  requires: [ILabShell],
  optional: [IStatusBar, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    statusBar: IStatusBar | null,
    notebooks: INotebookTracker | null
  ) => {
    const panel = new GenesisPanel(app, notebooks);
    shell.add(panel, 'left', { rank: 900 });
    void panel.refresh();
    window.setInterval(() => {
      if (panel.isVisible) {
        void panel.agents.refresh();
      }
    }, AGENT_POLL_MS);
    app.commands.addCommand('genesis:refresh', {
      label: 'Refresh the Genesis catalog',
      execute: () => panel.refresh()
    });
    if (statusBar) {
      const status = new AllocationStatus();
      statusBar.registerStatusItem('@genesis-lab/jupyterlab-genesis:status', {
        item: status,
        align: 'left',
        rank: 10
      });
      void status.refresh();
      window.setInterval(() => void status.refresh(), 60000);
    }
  }
};

export default plugin;
