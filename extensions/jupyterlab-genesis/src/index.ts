/**
 * Genesis side panel (catalog entries and challenges) and the allocation status-bar item.
 * Data comes from the server extension genesis_lab.widgets.server (<base>/genesis/...).
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { URLExt } from '@jupyterlab/coreutils';
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
}

const MAX_SHOWN = 200;

async function requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'genesis', path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const data = await response.json();
  if (!response.ok) {
    throw new Error(data.message || response.statusText);
  }
  return data as T;
}

/** Lowercased search text of each record, computed once so a keystroke only scans strings. */
export function indexRecords(records: ICatalogRecord[]): string[] {
  return records.map(r =>
    `${r.id} ${r.title} ${r.keywords} ${r.domain} ${r.kind}`.toLowerCase()
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

class GenesisPanel extends Widget {
  private records: ICatalogRecord[] = [];
  private index: string[] = [];
  private readonly search: HTMLInputElement;
  private readonly count: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly message: HTMLElement;

  constructor(private readonly app: JupyterFrontEnd) {
    super();
    this.id = 'genesis-panel';
    this.title.caption = 'Genesis catalog and challenges';
    this.title.label = 'Genesis';
    this.addClass('jp-GenesisPanel');
    const header = document.createElement('h2');
    header.textContent = 'Genesis';
    this.search = document.createElement('input');
    this.search.type = 'search';
    this.search.placeholder = 'Filter catalog…';
    this.search.className = 'jp-GenesisPanel-search';
    this.count = document.createElement('div');
    this.count.className = 'jp-GenesisPanel-count';
    this.message = document.createElement('div');
    this.message.className = 'jp-GenesisPanel-message';
    this.list = document.createElement('ul');
    this.list.className = 'jp-GenesisPanel-list';
    this.node.append(header, this.search, this.count, this.message, this.list);
    this.search.addEventListener('input', () => this.render());
  }

  async refresh(): Promise<void> {
    try {
      this.records = await requestAPI<ICatalogRecord[]>('catalog');
      this.index = indexRecords(this.records);
      this.render();
    } catch (err) {
      this.message.textContent = `Could not load the catalog: ${err}`;
    }
  }

  /** Re-draws the list for the current query; returns the time it took in ms. */
  render(): number {
    const t0 = performance.now();
    const hits = filterRecords(this.index, this.search.value);
    const fragment = document.createDocumentFragment();
    for (const i of hits.slice(0, MAX_SHOWN)) {
      fragment.appendChild(this.item(this.records[i]));
    }
    this.list.replaceChildren(fragment);
    const more = hits.length > MAX_SHOWN ? ` (first ${MAX_SHOWN} shown)` : '';
    this.count.textContent = `${hits.length} of ${this.records.length} entries${more}`;
    const elapsed = performance.now() - t0;
    this.node.dataset.lastFilterMs = elapsed.toFixed(2);
    return elapsed;
  }

  private item(record: ICatalogRecord): HTMLLIElement {
    const li = document.createElement('li');
    li.className = `jp-GenesisPanel-item jp-GenesisPanel-${record.kind}`;
    li.dataset.id = record.id;
    const title = document.createElement('span');
    title.className = 'jp-GenesisPanel-title';
    title.textContent = record.title;
    title.title = `${record.id} (${record.kind}, ${record.marking})`;
    li.appendChild(title);
    if (record.kind === 'challenge') {
      li.appendChild(this.button('Open', 'open', () => this.openChallenge(record)));
      li.appendChild(this.button('Run', 'run', () => this.runChallenge(record)));
    }
    return li;
  }

  private button(label: string, cls: string, action: () => void): HTMLButtonElement {
    const b = document.createElement('button');
    b.textContent = label;
    b.className = `jp-GenesisPanel-${cls} jp-mod-styled`;
    b.addEventListener('click', event => {
      event.stopPropagation();
      action();
    });
    return b;
  }

  private async openChallenge(record: ICatalogRecord): Promise<void> {
    try {
      const reply = await requestAPI<{ path: string }>(
        `challenges/${record.challenge}/open`,
        { method: 'POST' }
      );
      await this.app.commands.execute('docmanager:open', { path: reply.path });
    } catch (err) {
      this.message.textContent = `Could not open ${record.id}: ${err}`;
    }
  }

  private async runChallenge(record: ICatalogRecord): Promise<void> {
    try {
      await requestAPI(`challenges/${record.challenge}/run`, { method: 'POST' });
      this.message.textContent = `Running ${record.challenge} as a pipeline…`;
    } catch (err) {
      this.message.textContent = `Could not run ${record.id}: ${err}`;
    }
  }
}

interface IStatus {
  allocation: string | null;
  account: string | null;
  used_core_hours: number;
  budget_core_hours: number | null;
}

class AllocationStatus extends Widget {
  constructor() {
    super();
    this.addClass('jp-GenesisStatus');
    this.node.textContent = 'Genesis: …';
  }

  async refresh(): Promise<void> {
    try {
      const s = await requestAPI<IStatus>('status');
      const alloc = s.allocation ?? 'local';
      const budget = s.budget_core_hours === null ? '' : ` / ${s.budget_core_hours}`;
      this.node.textContent = `${alloc}: ${s.used_core_hours.toFixed(2)}${budget} core-h`;
      this.node.title = `Allocation ${alloc} (account ${s.account ?? 'none'})`;
    } catch (err) {
      this.node.textContent = 'Genesis: status unavailable';
    }
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@genesis-lab/jupyterlab-genesis:plugin',
  description: 'Genesis side panel and allocation status',
  autoStart: true,
  requires: [ILabShell],
  optional: [IStatusBar],
  activate: (app: JupyterFrontEnd, shell: ILabShell, statusBar: IStatusBar | null) => {
    const panel = new GenesisPanel(app);
    shell.add(panel, 'left', { rank: 900 });
    void panel.refresh();
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
