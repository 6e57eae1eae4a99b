// dynamics-web-api (the most used Node client of the Dataverse Web API,
// pinned in package-lock.json) against the CRM emulator's Dataverse Web API.
//
// The client builds the URLs, headers, $batch bodies and paging itself and
// parses the answers (the new id from OData-EntityId, multipart batch
// responses, nextLink). The checks call it the way an integration would
// and assert what it hands back. When the two disagree the emulator is the
// suspect.
//
// Driven by crates/crm-emulator/tests/vendor_dynamics.rs; by hand:
//
//   node tests/vendor-clients/dynamics_web_api_client.mjs --crm URL --control URL \
//     [--client-id ID] [--client-secret S] [--only NAME]
//
// Each check uses its own outpost_key values (the emulator is not reset).
// Exit 0 when every check passes, 1 otherwise (each failure is printed).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { DynamicsWebApi } from 'dynamics-web-api';

const TIMEOUT_MS = 10_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ETAG = /^W\/"\d+"$/;

const { values: ARGS } = parseArgs({
  options: {
    crm: { type: 'string' },
    control: { type: 'string' },
    'client-id': { type: 'string', default: 'outpost-client-id' },
    'client-secret': { type: 'string', default: 'outpost-client-secret' },
    only: { type: 'string' },
  },
});
for (const name of ['crm', 'control']) {
  if (!ARGS[name] || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/?$/.test(ARGS[name])) {
    console.error(`--${name} ${ARGS[name] ?? ''}: a loopback URL (http://127.0.0.1:PORT) is required`);
    process.exit(2);
  }
  ARGS[name] = ARGS[name].replace(/\/$/, '');
}
const BASE = ARGS.crm;

/** POST to the emulator's control port. */
async function control(path, body = {}) {
  const r = await fetch(ARGS.control + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await r.text();
  assert.ok(r.ok, `control ${path}: HTTP ${r.status} ${text}`);
  return JSON.parse(text || 'null');
}

let tokenCalls = 0;
/** Client credentials at the Entra-style endpoint, as an integration signs in. */
async function entraToken() {
  tokenCalls += 1;
  const r = await fetch(`${BASE}/outpost-tenant/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: ARGS['client-id'],
      client_secret: ARGS['client-secret'],
      scope: `${BASE}/.default`,
    }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = await r.json();
  assert.equal(r.status, 200, `token: ${JSON.stringify(body)}`);
  assert.equal(body.token_type, 'Bearer');
  assert.ok(body.expires_in > 0 && body.ext_expires_in > 0, JSON.stringify(body));
  return body.access_token;
}

const api = new DynamicsWebApi({
  serverUrl: BASE,
  dataApi: { version: '9.2' },
  onTokenRefresh: entraToken,
  timeout: TIMEOUT_MS,
});

/** The error the client throws, with its HTTP status. */
async function rejects(promise, status, what) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.status, status, `${what}: ${JSON.stringify(e)}`);
    return e;
  }
  assert.fail(`${what}: expected HTTP ${status}, the call succeeded`);
}

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

check('whoami', async () => {
  const who = await api.callFunction('WhoAmI');
  assert.match(who.UserId, GUID, JSON.stringify(who));
  assert.match(who.BusinessUnitId, GUID);
  assert.match(who.OrganizationId, GUID);
  assert.ok(tokenCalls >= 1, 'the token came from the Entra-style endpoint');
});

check('create_and_retrieve', async () => {
  const id = await api.create({
    collection: 'contacts',
    data: { firstname: 'Ann', lastname: 'Lee', emailaddress1: 'ann@example.com', outpost_key: 'dwa-1',
      preferredcontactmethodcode: 2 },
  });
  assert.match(String(id), GUID, `create returns the id from OData-EntityId: ${id}`);
  const rec = await api.retrieve({ collection: 'contacts', key: id, select: ['firstname', 'lastname', 'outpost_key'] });
  assert.equal(rec.contactid, id);
  assert.equal(rec.firstname, 'Ann');
  assert.equal(rec.outpost_key, 'dwa-1');
  assert.match(rec['@odata.etag'], ETAG);
  const byKey = await api.retrieve({ collection: 'contacts', key: "outpost_key='dwa-1'" });
  assert.equal(byKey.contactid, id);
  assert.equal(byKey.preferredcontactmethodcode, 2);
  const rep = await api.create({ collection: 'contacts', data: { lastname: 'Rep' }, returnRepresentation: true });
  assert.equal(rep.lastname, 'Rep');
  assert.match(rep.contactid, GUID);
  const e = await rejects(api.create({ collection: 'contacts', data: { lastname: 'x', nosuch: 1 } }), 400, 'unknown property');
  assert.match(e.message, /Could not find a property named 'nosuch'/);
});

check('upsert_by_alternate_key', async () => {
  const created = await api.upsert({ collection: 'contacts', key: "outpost_key='dwa-up'", data: { lastname: 'First' } });
  assert.match(String(created), GUID, `upsert returns the id: ${created}`);
  const again = await api.upsert({ collection: 'contacts', key: "outpost_key='dwa-up'", data: { lastname: 'Second' } });
  assert.equal(again, created, 'the same row on repeat');
  const rec = await api.retrieve({ collection: 'contacts', key: "outpost_key='dwa-up'", select: ['lastname'] });
  assert.equal(rec.lastname, 'Second');
  const quoted = await api.upsert({ collection: 'contacts', key: "outpost_key='O''Brien 1'", data: { lastname: "O'Brien" } });
  const q = await api.retrieve({ collection: 'contacts', key: quoted, select: ['outpost_key'] });
  assert.equal(q.outpost_key, "O'Brien 1");
});

check('preconditions', async () => {
  const id = await api.upsert({ collection: 'contacts', key: "outpost_key='dwa-pre'", data: { lastname: 'Pre' } });
  // Create-only on an existing row: 412, the row unchanged.
  const r = await api
    .upsert({ collection: 'contacts', key: "outpost_key='dwa-pre'", data: { lastname: 'Changed' }, ifnonematch: '*' })
    .then((v) => ({ v }), (e) => ({ e }));
  if (r.e) assert.equal(r.e.status, 412, JSON.stringify(r.e));
  else assert.ok(r.v == null, `ifnonematch on an existing row hands back nothing: ${JSON.stringify(r.v)}`);
  let rec = await api.retrieve({ collection: 'contacts', key: id, select: ['lastname'] });
  assert.equal(rec.lastname, 'Pre');
  const staleTag = rec['@odata.etag'];
  // Update-only (the client's default If-Match: *) of a missing row: 404
  // (the client turns only 412 into `false`).
  const missing = await rejects(
    api.update({ collection: 'contacts', key: "outpost_key='dwa-none'", data: { lastname: 'X' } }), 404, 'update of a missing row');
  assert.match(missing.message, /does not exist/);
  const ok = await api.update({ collection: 'contacts', key: id, data: { lastname: 'Now' }, ifmatch: staleTag });
  assert.equal(ok, true, 'update with the current etag');
  const stale = await api.update({ collection: 'contacts', key: id, data: { lastname: 'Late' }, ifmatch: staleTag });
  assert.equal(stale, false, 'update with a stale etag');
  rec = await api.retrieve({ collection: 'contacts', key: id, select: ['lastname'] });
  assert.equal(rec.lastname, 'Now');
  // A conditional retrieve of the current version: 304, no record.
  const same = await api.retrieve({ collection: 'contacts', key: id, ifnonematch: rec['@odata.etag'] });
  assert.ok(same == null || same === '' || typeof same !== 'object' || same.contactid === undefined,
    `304 hands back no record: ${JSON.stringify(same)}`);
});

check('retrieve_multiple_paging', async () => {
  for (let n = 0; n < 5; n += 1) {
    await api.upsert({ collection: 'contacts', key: `outpost_key='dwa-page-${n}'`, data: { lastname: `Page ${n}`, company: 'Paging Ltd' } });
  }
  const req = {
    collection: 'contacts',
    select: ['lastname', 'modifiedon'],
    filter: "contains(company,'Paging') and startswith(lastname,'Page')",
    orderBy: ['modifiedon asc', 'contactid asc'],
    maxPageSize: 2,
  };
  let page = await api.retrieveMultiple(req);
  const seen = [...page.value];
  let pages = 1;
  while (page.oDataNextLink) {
    assert.match(page.oDataNextLink, /\$skiptoken=/);
    page = await api.retrieveMultiple(req, page.oDataNextLink);
    seen.push(...page.value);
    pages += 1;
  }
  assert.equal(pages, 3);
  assert.equal(seen.length, 5);
  assert.equal(new Set(seen.map((r) => r.contactid)).size, 5, 'no row twice');
  const all = await api.retrieveAll(req);
  assert.equal(all.value.length, 5);
  const e = await rejects(api.retrieveMultiple({ collection: 'contacts', filter: "endswith(lastname,'x')" }), 400, 'strict filter');
  assert.match(e.message, /syntax error/);
});

check('change_tracking', async () => {
  const first = await api.retrieveMultiple({ collection: 'contacts', select: ['lastname'], trackChanges: true });
  assert.ok(first.oDataDeltaLink, `a delta link: ${JSON.stringify(Object.keys(first))}`);
  await api.upsert({ collection: 'contacts', key: "outpost_key='dwa-delta'", data: { lastname: 'Delta' } });
  const delta = await api.retrieveMultiple({ collection: 'contacts' }, first.oDataDeltaLink);
  assert.ok(delta.value.some((r) => r.lastname === 'Delta'), JSON.stringify(delta.value));
});

check('execute_batch', async () => {
  api.startBatch();
  api.upsert({ collection: 'contacts', key: "outpost_key='dwa-b1'", data: { lastname: 'B1' }, inChangeSet: false });
  api.upsert({ collection: 'contacts', key: "outpost_key='dwa-b2'", data: { lastname: 'B2', nosuch: 'x' }, inChangeSet: false });
  api.upsert({ collection: 'contacts', key: "outpost_key='dwa-b3'", data: { lastname: 'B3' }, inChangeSet: false });
  const results = await api.executeBatch({ continueOnError: true });
  assert.equal(results.length, 3, JSON.stringify(results));
  assert.match(String(results[0]), GUID, `first: ${JSON.stringify(results[0])}`);
  assert.match(String(results[2]), GUID, `third: ${JSON.stringify(results[2])}`);
  const err = results[1];
  assert.ok(err instanceof Error || err?.status === 400 || err?.error, `second is an error: ${JSON.stringify(err)}`);
  // A change set: both or neither.
  api.startBatch();
  api.create({ collection: 'contacts', data: { lastname: 'CS1', outpost_key: 'dwa-cs1' } });
  api.create({ collection: 'contacts', data: { firstname: 'no lastname', outpost_key: 'dwa-cs2' } });
  const failed = await api.executeBatch().then((v) => ({ v }), (e) => ({ e }));
  const errOf = failed.e ?? (Array.isArray(failed.v) ? failed.v.find((x) => x instanceof Error || x?.status) : null);
  assert.ok(errOf, `the change set failed: ${JSON.stringify(failed)}`);
  const left = await api.retrieveMultiple({ collection: 'contacts', select: ['outpost_key'], filter: "outpost_key eq 'dwa-cs1'" });
  assert.equal(left.value.length, 0, 'the change set rolled back');
  api.startBatch();
  api.create({ collection: 'contacts', data: { lastname: 'CS3', outpost_key: 'dwa-cs3' } });
  api.retrieveMultiple({ collection: 'contacts', select: ['lastname'], filter: "outpost_key eq 'dwa-b1'" });
  const mixed = await api.executeBatch();
  assert.match(String(mixed[0]), GUID, JSON.stringify(mixed));
  assert.equal(mixed[1].value[0].lastname, 'B1', JSON.stringify(mixed[1]));
});

check('picklist_metadata', async () => {
  const r = await api.retrieveAttributes({
    entityKey: "LogicalName='contact'",
    castType: 'Microsoft.Dynamics.CRM.PicklistAttributeMetadata',
    select: ['LogicalName'],
    expand: [{ property: 'OptionSet' }],
  });
  const p = r.value.find((a) => a.LogicalName === 'preferredcontactmethodcode');
  assert.ok(p, JSON.stringify(r.value));
  const labels = p.OptionSet.Options.map((o) => [o.Value, o.Label.UserLocalizedLabel.Label]);
  assert.deepEqual(labels.slice(0, 3), [[1, 'Any'], [2, 'Email'], [3, 'Phone']]);
  const attrs = await api.retrieveAttributes({
    entityKey: "LogicalName='contact'",
    select: ['LogicalName', 'RequiredLevel', 'AttributeType', 'MaxLength'],
  });
  const last = attrs.value.find((a) => a.LogicalName === 'lastname');
  assert.equal(last.RequiredLevel.Value, 'SystemRequired');
  assert.equal(last.MaxLength, 50);
});

check('token_expiry_renews', async () => {
  const before = tokenCalls;
  await control('/tokens/expire');
  const who = await api.callFunction('WhoAmI').then((v) => ({ v }), (e) => ({ e }));
  // The client asks onTokenRefresh before every request, so an expired
  // token is replaced before it is sent.
  assert.ok(who.v, `WhoAmI after expiry: ${JSON.stringify(who.e)}`);
  assert.ok(tokenCalls > before);
});

// The package's exports hide its package.json from require().
const version = JSON.parse(readFileSync(new URL('./node_modules/dynamics-web-api/package.json', import.meta.url))).version;
console.log(`dynamics-web-api ${version} against ${BASE}`);
let failed = 0;
let ran = 0;
for (const { name, fn } of checks) {
  if (ARGS.only && ARGS.only !== name) continue;
  ran += 1;
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n     ')}`);
  }
}
console.log(`dynamics-web-api: ${ran - failed} of ${ran} checks ok`);
process.exit(failed || ran === 0 ? 1 : 0);
