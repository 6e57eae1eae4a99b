// The typed API between the UI and the Rust core. Every `invoke` and `listen`
// of the app lives here and nowhere else.
//
// Every call rejects with an `IpcError` and nothing else: whatever the backend
// (or its absence) throws is normalised by `toIpcError`, so the screens can
// always show `error.message` in plain words.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Conflict } from '../bindings/Conflict';
import type { Customer } from '../bindings/Customer';
import type { CustomerCheck } from '../bindings/CustomerCheck';
import type { CustomerId } from '../bindings/CustomerId';
import type { CustomerChange } from '../bindings/CustomerChange';
import type { CustomersChanged } from '../bindings/CustomersChanged';
import type { FieldError } from '../bindings/FieldError';
import type { NewCustomer } from '../bindings/NewCustomer';
import type { Field } from '../bindings/Field';
import type { StatusSnapshot } from '../bindings/StatusSnapshot';
import type { ConnectionState } from '../bindings/ConnectionState';
import type { OutboxMessage } from '../bindings/OutboxMessage';
import type { OutboxState } from '../bindings/OutboxState';
import type { JsonValue } from '../bindings/serde_json/JsonValue';
import type { FieldKind } from '../bindings/FieldKind';
import type { FieldOption } from '../bindings/FieldOption';
import type { FormField } from '../bindings/FormField';
import type { FormMetadata } from '../bindings/FormMetadata';
import type { Lookup } from '../bindings/Lookup';
import type { RemoteLookup } from '../bindings/RemoteLookup';
import type { WorkingSet } from '../bindings/WorkingSet';

import type { AdminStatus } from '../bindings/AdminStatus';
import type { AuthMethod } from '../bindings/AuthMethod';
import type { Connectivity } from '../bindings/Connectivity';
import type { EndpointConfig } from '../bindings/EndpointConfig';
import type { EndpointKind } from '../bindings/EndpointKind';
import type { EndpointSettings } from '../bindings/EndpointSettings';
import type { EndpointStatus } from '../bindings/EndpointStatus';
import type { EndpointView } from '../bindings/EndpointView';
import type { SecretsInput } from '../bindings/SecretsInput';
import type { TestOutcome } from '../bindings/TestOutcome';
import type { TestResult } from '../bindings/TestResult';
import type { AppSettings } from '../bindings/AppSettings';
import type { AppSettingsInput } from '../bindings/AppSettingsInput';
import type { RegionSource } from '../bindings/RegionSource';
import type { CrmField } from '../bindings/CrmField';
import type { FieldList } from '../bindings/FieldList';
import type { MapCheck } from '../bindings/MapCheck';
import type { MapProblem } from '../bindings/MapProblem';
import type { MapView } from '../bindings/MapView';

export type { Conflict, ConnectionState, Customer, CustomerChange, CustomerCheck, CustomerId, CustomersChanged, FieldError, JsonValue, NewCustomer, OutboxMessage, OutboxState, StatusSnapshot };
export type { FieldKind, FieldOption, FormField, FormMetadata, Lookup, RemoteLookup, WorkingSet };
export type { AdminStatus, AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings, EndpointStatus, EndpointView, SecretsInput, TestOutcome, TestResult };
export type { AppSettings, AppSettingsInput, RegionSource };
export type { CrmField, FieldList, MapCheck, MapProblem, MapView };

// The rejection value of every command, generated from the Rust `IpcError`.
import type { IpcError } from '../bindings/IpcError';
import type { ErrorCode as IpcErrorCode } from '../bindings/ErrorCode';
export type { IpcError, IpcErrorCode };

/** A conflict's two ways out: send ours ("Use mine") or keep the CRM's value. */
export type ConflictChoice = 'mine' | 'crm';

/**
 * What `edit_customer` takes: the fields that change (a value, or `null` to
 * clear it) and the CRM form's extra fields likewise; the others stay.
 */
export type CustomerEdit = { [F in Field]?: string | null } & { attributes?: Record<string, string | null> };

// Every generated code, spelled out so a new one in Rust fails the type check here.
const CODE_LIST: Record<IpcErrorCode, true> = {
  validation: true,
  not_found: true,
  refused: true,
  forbidden: true,
  invalid_input: true,
  storage: true,
  disk_full: true,
  not_outpost_database: true,
  newer_database: true,
  keyring_locked: true,
  crm: true,
  internal: true,
};
const CODES: ReadonlySet<string> = new Set(Object.keys(CODE_LIST));

function isFieldError(v: unknown): v is FieldError {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Record<string, unknown>).field === 'string' &&
    typeof (v as Record<string, unknown>).message === 'string'
  );
}

/** Turns anything a rejected call can produce into an `IpcError`. */
export function toIpcError(raw: unknown): IpcError {
  if (typeof raw === 'object' && raw !== null && !(raw instanceof Error)) {
    const r = raw as Record<string, unknown>;
    const code = typeof r.code === 'string' && CODES.has(r.code) ? (r.code as IpcErrorCode) : 'internal';
    const fields = Array.isArray(r.fields) ? r.fields.filter(isFieldError) : [];
    const message =
      typeof r.message === 'string' && r.message.trim() !== ''
        ? r.message
        : fields.length > 0
          ? 'Some fields need attention.'
          : 'Something went wrong in the app.';
    return { code, message, fields };
  }
  if (typeof raw === 'string' && raw.trim() !== '') {
    return { code: 'internal', message: raw, fields: [] };
  }
  if (raw instanceof Error) {
    // Outside the Tauri window (a plain browser) the internals are missing.
    const missing = typeof window !== 'undefined' && !('__TAURI_INTERNALS__' in window);
    return {
      code: 'internal',
      message: missing ? 'The app’s local database is not reachable (not running inside Outpost).' : raw.message,
      fields: [],
    };
  }
  return { code: 'internal', message: 'Something went wrong in the app.', fields: [] };
}

export function isIpcError(v: unknown): v is IpcError {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Record<string, unknown>).code === 'string' &&
    typeof (v as Record<string, unknown>).message === 'string' &&
    Array.isArray((v as Record<string, unknown>).fields)
  );
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

/** How many rows a type-ahead search asks for. */
export const SEARCH_LIMIT = 50;

export const api = {
  /** Stores a customer locally; never waits on the network. */
  createCustomer(input: NewCustomer): Promise<Customer> {
    return call<Customer>('create_customer', { input });
  },
  /** What `createCustomer` would say about `input` (its field errors, or the normalised values); stores nothing. */
  checkCustomer(input: NewCustomer): Promise<CustomerCheck> {
    return call<CustomerCheck>('check_customer', { input });
  },
  /** Ranked type-ahead; an empty query gives the most recent customers. */
  searchCustomers(query: string, limit: number = SEARCH_LIMIT): Promise<Customer[]> {
    return call<Customer[]>('search_customers', { query, limit });
  },
  /**
   * Local results merged with the primary CRM's when it answers within its
   * deadline (up to 1.5 s); `remote` says what became of the CRM side.
   */
  lookupCustomers(query: string, limit: number = SEARCH_LIMIT): Promise<Lookup> {
    return call<Lookup>('lookup_customers', { query, limit });
  },
  /** Customers with this email or phone number, here or in the CRM. */
  findDuplicates(email: string | undefined, phone: string | undefined): Promise<Customer[]> {
    const args: Record<string, unknown> = {};
    if (email !== undefined) args.email = email;
    if (phone !== undefined) args.phone = phone;
    return call<Customer[]>('find_duplicates', args);
  },
  /** The creation form: the CRM's cached metadata, or the built-in form with a note. */
  getFormMetadata(): Promise<FormMetadata> {
    return call<FormMetadata>('get_form_metadata');
  },
  /** How many customers are on this device and when the working set was last brought up to date. */
  getWorkingSet(): Promise<WorkingSet> {
    return call<WorkingSet>('get_working_set');
  },
  /** Starts a working-set pull now (or as soon as the CRM is online). */
  pullNow(): Promise<void> {
    return call<void>('pull_now');
  },
  /** Rejects with code `not_found` for an unknown id. */
  getCustomer(id: CustomerId): Promise<Customer> {
    return call<Customer>('get_customer', { id });
  },
  getStatus(): Promise<StatusSnapshot> {
    return call<StatusSnapshot>('get_status');
  },
  /** "Sync now" / "Retry now": probe the CRM at once and send what is due. */
  syncNow(): Promise<void> {
    return call<void>('sync_now');
  },
  /** Outbox messages in delivery order (at most 500), optionally of one state only. */
  listOutbox(stateFilter?: OutboxState): Promise<OutboxMessage[]> {
    return call<OutboxMessage[]>('list_outbox', stateFilter === undefined ? {} : { stateFilter });
  },
  /** Requeues a customer's needs-attention messages and syncs; resolves to how many were requeued. */
  retryCustomer(id: CustomerId): Promise<number> {
    return call<number>('retry_customer', { id });
  },
  /** Corrects a customer the CRM has not accepted yet (does not resend). */
  updateCustomer(id: CustomerId, input: NewCustomer): Promise<Customer> {
    return call<Customer>('update_customer', { id, input });
  },
  /**
   * Edits any customer (created here or pulled): only what changes, `null`
   * clears a field. Stored at once and queued for the CRM.
   */
  editCustomer(id: CustomerId, changes: CustomerEdit): Promise<Customer> {
    return call<Customer>('edit_customer', { id, changes });
  },
  /**
   * Fields whose edit met a different value in the CRM, oldest first: all of
   * them, or one customer's (`not_found` for an unknown customer).
   */
  listConflicts(id?: CustomerId): Promise<Conflict[]> {
    return call<Conflict[]>('list_conflicts', id === undefined ? {} : { id });
  },
  /**
   * Settles one conflicting field: `mine` sends ours with the CRM's value as
   * its base, `crm` keeps the CRM's and drops ours. Resolves to the customer
   * as stored now.
   */
  resolveConflict(id: CustomerId, field: string, choice: ConflictChoice): Promise<Customer> {
    return call<Customer>('resolve_conflict', { id, field, use: choice });
  },
  /** Removes a customer the CRM refused (or deleted) from this computer. */
  discardCustomer(id: CustomerId): Promise<void> {
    return call<void>('discard_customer', { id });
  },
  /**
   * "Create again as new" for a customer deleted in the CRM: a new customer
   * (new key, same fields with the unsent change) queued as a creation; the
   * old one is removed. Resolves to the new customer.
   */
  recreateCustomer(id: CustomerId): Promise<Customer> {
    return call<Customer>('recreate_customer', { id });
  },

  // --- admin settings: every endpoint command rejects with `forbidden` while locked ---
  adminStatus(): Promise<AdminStatus> {
    return call<AdminStatus>('admin_status');
  },
  /** First run: `current` absent. Changing it needs the current one. Unlocks on success. */
  adminSetPassphrase(passphrase: string, current?: string): Promise<AdminStatus> {
    return call<AdminStatus>('admin_set_passphrase', current === undefined ? { passphrase } : { current, passphrase });
  },
  /** Wrong or rate-limited: `forbidden`, with the core's words as the message. */
  adminUnlock(passphrase: string): Promise<AdminStatus> {
    return call<AdminStatus>('admin_unlock', { passphrase });
  },
  adminLock(): Promise<AdminStatus> {
    return call<AdminStatus>('admin_lock');
  },
  /** Primary first (lowest priority). Secrets come back only as "set" flags. */
  listEndpoints(): Promise<EndpointView[]> {
    return call<EndpointView[]>('list_endpoints');
  },
  /** Probes with the values as entered (empty secrets: the stored ones); saves nothing. */
  testEndpoint(config: EndpointConfig, secrets?: SecretsInput): Promise<TestResult> {
    return call<TestResult>('test_endpoint', secrets === undefined ? { config } : { config, secrets });
  },
  /**
   * The CRM's fields for the endpoint as entered (choices for its field map)
   * and what of the map does not fit them; `unchecked` says why not when
   * the CRM could not be asked.
   */
  endpointCrmFields(config: EndpointConfig, secrets?: SecretsInput): Promise<MapCheck> {
    return call<MapCheck>('endpoint_crm_fields', secrets === undefined ? { config } : { config, secrets });
  },
  /**
   * Empty or absent secrets keep the stored ones; `previousName` when renaming.
   * A field map that does not fit the CRM is refused with field errors on `map`.
   */
  saveEndpoint(config: EndpointConfig, secrets?: SecretsInput, previousName?: string): Promise<EndpointConfig> {
    const args: Record<string, unknown> = { config };
    if (secrets !== undefined) args.secrets = secrets;
    if (previousName !== undefined) args.previousName = previousName;
    return call<EndpointConfig>('save_endpoint', args);
  },
  /** Also deletes the endpoint's secrets from the keyring. */
  removeEndpoint(name: string): Promise<void> {
    return call<void>('remove_endpoint', { name });
  },

  // --- this device's settings (the default region for phone numbers) ---
  /** Readable while locked. */
  getAppSettings(): Promise<AppSettings> {
    return call<AppSettings>('get_app_settings');
  },
  /** Needs the unlocked settings; `default_region: null` follows the system's locale. */
  setAppSettings(settings: AppSettingsInput): Promise<AppSettings> {
    return call<AppSettings>('set_app_settings', { settings });
  },
};

export const events = {
  STATUS_CHANGED: 'status-changed',
  CUSTOMERS_CHANGED: 'customers-changed',
  WORKING_SET_CHANGED: 'working-set-changed',
  FORM_CHANGED: 'form-changed',
} as const;

async function subscribe<T>(event: string, handler: (payload: T) => void): Promise<UnlistenFn> {
  try {
    return await listen<T>(event, (e) => handler(e.payload));
  } catch (e) {
    throw toIpcError(e);
  }
}

export function onStatusChanged(handler: (s: StatusSnapshot) => void): Promise<UnlistenFn> {
  return subscribe<StatusSnapshot>(events.STATUS_CHANGED, handler);
}

export function onCustomersChanged(handler: (p: CustomersChanged) => void): Promise<UnlistenFn> {
  return subscribe<CustomersChanged>(events.CUSTOMERS_CHANGED, handler);
}

/** At most once a second while a pull runs, with the current size and freshness. */
export function onWorkingSetChanged(handler: (w: WorkingSet) => void): Promise<UnlistenFn> {
  return subscribe<WorkingSet>(events.WORKING_SET_CHANGED, handler);
}

/** New CRM form metadata was fetched: forms should read it again. */
export function onFormChanged(handler: () => void): Promise<UnlistenFn> {
  return subscribe<unknown>(events.FORM_CHANGED, () => handler());
}

/** The quiet note shown when the CRM did not add to a lookup (null: nothing to say). */
export function remoteNote(r: RemoteLookup): string | null {
  switch (r.state) {
    case 'offline':
      return 'offline: local results only';
    case 'timed_out':
      return 'the CRM is slow: local results only';
    case 'failed':
      return `CRM search failed (${r.reason}): local results only`;
    default:
      return null;
  }
}
