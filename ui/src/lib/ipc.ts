// The typed API between the UI and the Rust core. Every `invoke` and `listen`
// of the app lives here and nowhere else.
//
// Every call rejects with an `IpcError` and nothing else: whatever the backend
// (or its absence) throws is normalised by `toIpcError`, so the screens can
// always show `error.message` in plain words.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Customer } from '../bindings/Customer';
import type { CustomerId } from '../bindings/CustomerId';
import type { FieldError } from '../bindings/FieldError';
import type { NewCustomer } from '../bindings/NewCustomer';
import type { StatusSnapshot } from '../bindings/StatusSnapshot';
import type { ConnectionState } from '../bindings/ConnectionState';
import type { OutboxMessage } from '../bindings/OutboxMessage';
import type { OutboxState } from '../bindings/OutboxState';
import type { JsonValue } from '../bindings/serde_json/JsonValue';

export type { ConnectionState, Customer, CustomerId, FieldError, JsonValue, NewCustomer, OutboxMessage, OutboxState, StatusSnapshot };

// The rejection value of every command, generated from the Rust `IpcError`.
import type { IpcError } from '../bindings/IpcError';
import type { ErrorCode as IpcErrorCode } from '../bindings/ErrorCode';
export type { IpcError, IpcErrorCode };

// Every generated code, spelled out so a new one in Rust fails the type check here.
const CODE_LIST: Record<IpcErrorCode, true> = {
  validation: true,
  not_found: true,
  refused: true,
  forbidden: true,
  invalid_input: true,
  storage: true,
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
  /** Ranked type-ahead; an empty query gives the most recent customers. */
  searchCustomers(query: string, limit: number = SEARCH_LIMIT): Promise<Customer[]> {
    return call<Customer[]>('search_customers', { query, limit });
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
  /** Removes a customer the CRM refused from this computer. */
  discardCustomer(id: CustomerId): Promise<void> {
    return call<void>('discard_customer', { id });
  },
};

export type CustomersChanged = { id: CustomerId };

export const events = {
  STATUS_CHANGED: 'status-changed',
  CUSTOMERS_CHANGED: 'customers-changed',
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
