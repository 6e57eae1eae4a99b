// The lookup screen's state. It lives outside the component so that leaving
// for the detail or create screen and coming back keeps the query, the
// results and the selection.

import { api, remoteNote, type Customer, type CustomerId, type CustomersChanged, type IpcError } from './ipc';

/** The CRM is asked once typing pauses this long (local results show at once). */
const CRM_DEBOUNCE_MS = 250;
/** Shorter queries are answered locally only (as the core does). */
const CRM_MIN_CHARS = 2;
/** Most rows a change reads again one by one; past that the query runs again, once. */
const ROW_REFRESH_MAX = 5;

export class LookupState {
  /** What is in the search box. */
  query = $state('');
  /** The rows shown: the answer to `shownQuery`. */
  results = $state<Customer[]>([]);
  /** The query the shown results answer (null before the first answer). */
  shownQuery = $state<string | null>(null);
  /** Index of the selected row, -1 when there are none. */
  selected = $state(-1);
  error = $state<IpcError | null>(null);
  /** Keys of the shown rows that only the CRM returned. */
  fromCrm = $state<ReadonlySet<CustomerId>>(new Set());
  /** A quiet line when the CRM did not add to the results (offline, slow, failed). */
  note = $state<string | null>(null);

  /** Bumped for every request; only the latest one's answer is used. */
  #seq = 0;
  #crmTimer: ReturnType<typeof setTimeout> | undefined;

  get selectedCustomer(): Customer | undefined {
    return this.results[this.selected];
  }

  /**
   * Asks for the rows matching the current query. Answers to earlier requests
   * that arrive late are dropped. With `keepSelection` (a refresh after a
   * change) the same customer stays selected if it is still listed.
   */
  async search(opts: { keepSelection?: boolean } = {}): Promise<void> {
    const seq = ++this.#seq;
    const query = this.query.trim();
    const keepId = opts.keepSelection ? this.selectedCustomer?.id : undefined;
    clearTimeout(this.#crmTimer);
    try {
      const rows = await api.searchCustomers(query);
      if (seq !== this.#seq) return;
      const sameQuery = this.shownQuery === query;
      this.#show(query, rows, keepId);
      if (!sameQuery) {
        this.fromCrm = new Set();
        this.note = null;
      }
      this.error = null;
    } catch (e) {
      if (seq !== this.#seq) return;
      this.error = e as IpcError;
      return;
    }
    // A refresh after a change re-reads the local store only (what the CRM
    // returned is stored there by now).
    if (query.length >= CRM_MIN_CHARS && !opts.keepSelection) {
      this.#crmTimer = setTimeout(() => void this.#askCrm(seq, query), CRM_DEBOUNCE_MS);
    }
  }

  /** The merged answer replaces the local one if the query is still current. */
  async #askCrm(seq: number, query: string): Promise<void> {
    try {
      const found = await api.lookupCustomers(query);
      if (seq !== this.#seq) return;
      this.#show(query, found.customers, this.selectedCustomer?.id);
      this.fromCrm = new Set(found.from_crm);
      this.note = remoteNote(found.remote);
    } catch {
      // The local answer stands; a lookup never fails because of the CRM.
    }
  }

  /** Shows a just-created customer at the top at once, before any search. */
  showCreated(customer: Customer): void {
    this.#seq++; // an older answer in flight must not replace this
    this.query = '';
    clearTimeout(this.#crmTimer);
    this.note = null;
    const rest = this.shownQuery === '' ? this.results.filter((c) => c.id !== customer.id) : [];
    this.#show('', [customer, ...rest], customer.id);
  }

  /**
   * Brings the list up to date after customers changed in the core (one event
   * per transaction). When only their standing with the CRM moved, the
   * affected rows that are shown are read again; when what the query finds
   * may have changed (new, corrected or removed customers), it runs again.
   */
  async refreshAfter(change: CustomersChanged): Promise<void> {
    const ids = new Set(change.ids);
    const shown = this.results.filter((c) => ids.has(c.id)).map((c) => c.id);
    if (change.change !== 'synced' || shown.length > ROW_REFRESH_MAX) {
      await this.search({ keepSelection: true });
      return;
    }
    await Promise.all(
      shown.map(async (id) => {
        try {
          this.replace(await api.getCustomer(id));
        } catch {
          // Gone meanwhile: the next search leaves it out.
        }
      }),
    );
  }

  /** Puts a fresh copy of one customer in place, if it is listed. */
  replace(customer: Customer): void {
    const i = this.results.findIndex((c) => c.id === customer.id);
    if (i >= 0) this.results[i] = customer;
  }

  move(delta: number): void {
    const n = this.results.length;
    if (n === 0) return;
    const from = this.selected < 0 ? (delta > 0 ? -1 : n) : this.selected;
    this.selected = Math.min(n - 1, Math.max(0, from + delta));
  }

  select(index: number): void {
    if (index >= 0 && index < this.results.length) this.selected = index;
  }

  #show(query: string, rows: Customer[], keepId: CustomerId | undefined): void {
    this.results = rows;
    this.shownQuery = query;
    const kept = keepId === undefined ? -1 : rows.findIndex((c) => c.id === keepId);
    this.selected = kept >= 0 ? kept : rows.length > 0 ? 0 : -1;
  }
}
