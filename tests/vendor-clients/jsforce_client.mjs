// jsforce (Salesforce's most used Node client, pinned in package-lock.json)
// against the CRM emulator's Salesforce REST API.
//
// jsforce is written against the real service: it builds the URLs, the SOQL
// (its query builder), the composite bodies and the OAuth refresh itself. The
// checks below call it the way an integration would and assert what the
// client hands back, plus the raw shapes Salesforce documents (ids, dates,
// record attributes, error codes), since jsforce passes most bodies through
// unchecked. When the two disagree the emulator is the suspect.
//
// Driven by crates/crm-emulator/tests/vendor_salesforce.rs; by hand:
//
//   node tests/vendor-clients/jsforce_client.mjs --crm URL --control URL \
//     [--token T] [--client-id ID] [--client-secret S] [--refresh-token R] [--only NAME]
//
// The emulator is not reset between checks (the Rust test asserts its request
// counters afterwards): each check uses its own Outpost_Key__c values.
// Exit 0 when every check passes, 1 otherwise (each failure is printed).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import jsforce from 'jsforce';

const VERSION = '60.0';
const TIMEOUT_MS = 10_000; // every control request
const KEY = 'Outpost_Key__c';
const ID_CONTACT = /^003[0-9A-Za-z]{15}$/;
const ID_LEAD = /^00Q[0-9A-Za-z]{15}$/;
// Salesforce's datetime format in REST bodies: 2024-01-02T03:04:05.000+0000.
const SF_DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;
// Every Contact field the emulator emulates (crm-apis.md, the emulator's contract).
const CONTACT_FIELDS = ['Id', 'Salutation', 'FirstName', 'LastName', 'Email', 'Phone', 'MobilePhone',
  'MailingStreet', 'MailingCity', 'MailingPostalCode', 'MailingState', 'MailingCountry', 'Description',
  'LeadSource', 'OwnerId', 'AccountId', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp', 'IsDeleted', KEY];

const { values: ARGS } = parseArgs({
  options: {
    crm: { type: 'string' },
    control: { type: 'string' },
    token: { type: 'string', default: 'outpost-test-token' },
    'client-id': { type: 'string', default: 'outpost-client-id' },
    'client-secret': { type: 'string', default: 'outpost-client-secret' },
    'refresh-token': { type: 'string', default: 'outpost-refresh-token' },
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
const DATA = `/services/data/v${VERSION}`;

// ------------------------------------------------------------------ helpers

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

/** A connection the way an OAuth integration makes one. */
function connect({ accessToken = ARGS.token, refreshToken = ARGS['refresh-token'], oauth = true } = {}) {
  return new jsforce.Connection({
    instanceUrl: BASE,
    accessToken,
    version: VERSION,
    ...(oauth
      ? {
          refreshToken,
          oauth2: {
            clientId: ARGS['client-id'],
            clientSecret: ARGS['client-secret'],
            loginUrl: BASE,
            redirectUri: 'http://localhost/cb',
          },
        }
      : {}),
  });
}

/** jsforce hands back an unparsed string when the content type is not JSON. */
function object(value, what) {
  assert.ok(value !== null && typeof value === 'object',
    `${what}: expected a JSON object (is the content type application/json?), got ${JSON.stringify(value)}`);
  return value;
}

/** A SaveResult / UpsertResult as Salesforce documents it. */
function saved(result, what, { idPattern = ID_CONTACT, created } = {}) {
  object(result, what);
  assert.equal(result.success, true, `${what}: success ${JSON.stringify(result)}`);
  assert.deepEqual(result.errors, [], `${what}: errors ${JSON.stringify(result)}`);
  assert.match(String(result.id), idPattern, `${what}: id ${JSON.stringify(result)}`);
  if (created !== undefined) {
    assert.equal(result.created, created, `${what}: created ${JSON.stringify(result)}`);
  }
  return result;
}

/** The record shape of a retrieve or query. */
function record(rec, what, type = 'Contact') {
  object(rec, what);
  object(rec.attributes, `${what}.attributes`);
  assert.equal(rec.attributes.type, type, `${what}.attributes.type`);
  if (rec.Id !== undefined) {
    assert.equal(rec.attributes.url, `${DATA}/sobjects/${type}/${rec.Id}`, `${what}.attributes.url`);
  }
  for (const f of ['CreatedDate', 'LastModifiedDate', 'SystemModstamp']) {
    if (rec[f] !== undefined && rec[f] !== null) {
      assert.match(rec[f], SF_DATETIME, `${what}.${f} is not Salesforce's datetime format`);
    }
  }
  return rec;
}

/** Expects `promise` to reject with a jsforce API error of `errorCode`. */
async function refused(promise, errorCode, what) {
  let err;
  try {
    const got = await promise;
    assert.fail(`${what}: expected ${errorCode}, got success ${JSON.stringify(got)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.equal(err.errorCode, errorCode, `${what}: ${err.name}: ${err.message} ${JSON.stringify(err.data)}`);
  return err;
}

function contact(key, extra = {}) {
  return { LastName: `Last ${key}`, FirstName: 'First', Email: `${key}@example.com`, [KEY]: key, ...extra };
}

// ------------------------------------------------------------------ checks

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

check('create_and_retrieve', async () => {
  const conn = connect();
  const res = saved(await conn.sobject('Contact').create(contact('js-create-1', { Phone: '+44 20 7946 0000' })),
    'create');
  const got = record(await conn.sobject('Contact').retrieve(res.id), 'retrieve');
  assert.equal(got.Id, res.id);
  assert.equal(got.LastName, 'Last js-create-1');
  assert.equal(got.Email, 'js-create-1@example.com');
  assert.equal(got.Phone, '+44 20 7946 0000');
  assert.equal(got[KEY], 'js-create-1');
  assert.equal(got.IsDeleted, false);
  assert.match(got.CreatedDate ?? '', SF_DATETIME, 'retrieve: CreatedDate');
  for (const f of CONTACT_FIELDS) {
    assert.ok(f in got, `retrieve: field ${f} is missing (unset fields are null in Salesforce)`);
  }
  // Only some fields.
  const some = record(await conn.sobject('Contact').retrieve(res.id, { fields: ['LastName', KEY] }), 'retrieve fields');
  assert.equal(some.LastName, 'Last js-create-1');
  // A Lead as well.
  const lead = saved(await conn.sobject('Lead').create({ LastName: 'Lead', Company: 'Acme' }), 'create Lead',
    { idPattern: ID_LEAD });
  record(await conn.sobject('Lead').retrieve(lead.id), 'retrieve Lead', 'Lead');
});

check('create_refusals', async () => {
  const conn = connect();
  const missing = await refused(conn.sobject('Contact').create({ FirstName: 'No last name', [KEY]: 'js-refuse-1' }),
    'REQUIRED_FIELD_MISSING', 'create without LastName');
  assert.deepEqual(missing.data.fields, ['LastName'], `fields ${JSON.stringify(missing.data)}`);
  assert.match(missing.message, /Required fields are missing: \[LastName\]/);

  saved(await conn.sobject('Contact').create(contact('js-refuse-2')), 'create');
  await refused(conn.sobject('Contact').create(contact('js-refuse-2')), 'DUPLICATE_VALUE',
    'create with a taken Outpost_Key__c');

  await refused(conn.sobject('Contact').create({ LastName: 'x', No_Such_Field__c: 1 }), 'INVALID_FIELD',
    'create with an unknown field');

  await refused(conn.sobject('Contact').retrieve('003000000000000AAA'), 'NOT_FOUND', 'retrieve a missing id');
});

check('upsert_single_by_key', async () => {
  const conn = connect();
  const first = saved(await conn.sobject('Contact').upsert(contact('js-up-1'), KEY), 'upsert new', { created: true });
  // Salesforce (v46+) answers an update with 200 {id, success, errors, created: false};
  // jsforce maps an older 204 to {success: true, errors: []}. Either is accepted here.
  const again = await conn.sobject('Contact').upsert(contact('js-up-1', { Phone: '555-0100' }), KEY);
  object(again, 'upsert existing');
  assert.equal(again.success, true, `upsert existing: ${JSON.stringify(again)}`);
  if ('id' in again) {
    assert.equal(again.id, first.id, 'upsert existing: same id');
    assert.equal(again.created, false, `upsert existing: created ${JSON.stringify(again)}`);
  }
  const got = record(await conn.sobject('Contact').retrieve(first.id), 'retrieve');
  assert.equal(got.Phone, '555-0100');
  assert.equal(got[KEY], 'js-up-1');
});

check('upsert_collection_by_key', async () => {
  const conn = connect();
  const keys = ['js-multi-1', 'js-multi-2', 'js-multi-3', 'js-multi-4', 'js-multi-5'];
  const first = await conn.sobject('Contact').upsert(keys.map((k) => contact(k)), KEY, { allOrNone: false });
  assert.ok(Array.isArray(first), `collection upsert: expected an array, got ${JSON.stringify(first)}`);
  assert.equal(first.length, keys.length);
  first.forEach((r, i) => saved(r, `collection upsert [${i}]`, { created: true }));
  assert.equal(new Set(first.map((r) => r.id)).size, keys.length, 'distinct ids');

  // Two existing (in the order sent) and one new.
  const second = await conn.sobject('Contact').upsert(
    [contact('js-multi-2', { Phone: '2' }), contact('js-multi-6'), contact('js-multi-1', { Phone: '1' })], KEY);
  assert.ok(Array.isArray(second) && second.length === 3, JSON.stringify(second));
  saved(second[0], 'existing [0]', { created: false });
  saved(second[1], 'new [1]', { created: true });
  saved(second[2], 'existing [2]', { created: false });
  assert.equal(second[0].id, first[1].id);
  assert.equal(second[2].id, first[0].id);
  assert.equal((await conn.sobject('Contact').retrieve(first[1].id)).Phone, '2');

  // allOrNone false: the bad record fails alone, with a collection error (statusCode, not errorCode).
  const mixed = await conn.sobject('Contact').upsert(
    [contact('js-multi-7'), { [KEY]: 'js-multi-8', FirstName: 'no last name' }, contact('js-multi-9')], KEY,
    { allOrNone: false });
  assert.ok(Array.isArray(mixed) && mixed.length === 3, JSON.stringify(mixed));
  saved(mixed[0], 'mixed [0]', { created: true });
  saved(mixed[2], 'mixed [2]', { created: true });
  assert.equal(mixed[1].success, false, JSON.stringify(mixed[1]));
  assert.equal(mixed[1].errors?.[0]?.statusCode, 'REQUIRED_FIELD_MISSING', JSON.stringify(mixed[1]));
  assert.deepEqual(mixed[1].errors[0].fields, ['LastName'], JSON.stringify(mixed[1]));
  assert.equal(typeof mixed[1].errors[0].message, 'string');

  // allOrNone true: nothing is written; the others are rolled back.
  const none = await conn.sobject('Contact').upsert(
    [contact('js-multi-10'), { [KEY]: 'js-multi-11', FirstName: 'no last name' }], KEY, { allOrNone: true });
  assert.ok(Array.isArray(none) && none.length === 2, JSON.stringify(none));
  assert.ok(none.every((r) => r.success === false), `allOrNone: every entry fails ${JSON.stringify(none)}`);
  assert.equal(none[1].errors?.[0]?.statusCode, 'REQUIRED_FIELD_MISSING', JSON.stringify(none));
  assert.equal(none[0].errors?.[0]?.statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK', JSON.stringify(none));
  const left = await conn.query(`SELECT Id FROM Contact WHERE ${KEY} = 'js-multi-10'`);
  assert.equal(left.totalSize, 0, 'allOrNone: the good record was not written');

  // More than 200 in one call is refused (jsforce splits only with allowRecursive).
  const many = Array.from({ length: 201 }, (_, i) => contact(`js-multi-big-${i}`));
  await refused(conn.sobject('Contact').upsert(many, KEY), 'EXCEEDED_ID_LIMIT', 'collection of 201');
});

check('collection_create_and_retrieve', async () => {
  const conn = connect();
  // create([...]) -> POST composite/sobjects {allOrNone, records: [{attributes: {type}, ...}]}
  const made = await conn.sobject('Contact').create(
    [contact('js-coll-1'), { FirstName: 'no last name', [KEY]: 'js-coll-2' }, contact('js-coll-3')],
    { allOrNone: false });
  assert.ok(Array.isArray(made) && made.length === 3, JSON.stringify(made));
  saved(made[0], 'collection create [0]');
  saved(made[2], 'collection create [2]');
  assert.equal(made[1].success, false, JSON.stringify(made[1]));
  assert.equal(made[1].errors?.[0]?.statusCode, 'REQUIRED_FIELD_MISSING', JSON.stringify(made[1]));
  // retrieve([...]) -> POST composite/sobjects/Contact {ids, fields} (Salesforce takes GET
  // with ?ids=&fields= and POST with the same in the body; jsforce always POSTs).
  const got = await conn.sobject('Contact').retrieve([made[0].id, made[2].id], { fields: ['LastName', KEY] });
  assert.ok(Array.isArray(got) && got.length === 2, JSON.stringify(got));
  assert.deepEqual(got.map((r) => r[KEY]), ['js-coll-1', 'js-coll-3']);
  got.forEach((r, i) => record(r, `retrieve many [${i}]`));
});

check('query_paging', async () => {
  const conn = connect();
  // 250 records: jsforce sends 200 + 50 (allowRecursive), two collection upserts.
  const keys = Array.from({ length: 250 }, (_, i) => `js-page-${String(i).padStart(3, '0')}`);
  const res = await conn.sobject('Contact').upsert(keys.map((k) => contact(k, { LastName: 'Paging' })), KEY,
    { allowRecursive: true });
  assert.equal(res.length, 250);
  res.forEach((r, i) => saved(r, `seed [${i}]`, { created: true }));

  const soql = `SELECT Id, LastName, ${KEY} FROM Contact WHERE LastName = 'Paging' ORDER BY ${KEY}`;
  const headers = { 'Sforce-Query-Options': 'batchSize=200' };
  const page1 = await conn.query(soql, { headers });
  object(page1, 'query');
  assert.equal(page1.totalSize, 250, 'totalSize');
  assert.equal(page1.done, false, 'done');
  assert.equal(page1.records.length, 200, 'first batch');
  // jsforce keeps the last segment of the body's nextRecordsUrl (the locator) and
  // hands back its own URL for it: instance URL + /services/data/v60.0/query/<locator>.
  // (simple_salesforce_client.py checks the raw path.)
  assert.ok((page1.nextRecordsUrl ?? '').startsWith(`${BASE}${DATA}/query/`),
    `nextRecordsUrl under ${BASE}${DATA}/query/: ${page1.nextRecordsUrl}`);
  page1.records.forEach((r, i) => record(r, `records[${i}]`));
  const page2 = await conn.queryMore(page1.nextRecordsUrl, { headers });
  assert.equal(page2.done, true, 'second batch: done');
  assert.equal(page2.records.length, 50, 'second batch');
  assert.equal(page2.nextRecordsUrl, undefined, 'no nextRecordsUrl on the last batch');
  const seen = [...page1.records, ...page2.records].map((r) => r[KEY]);
  assert.deepEqual(seen, keys, 'every record once, in ORDER BY order');

  // autoFetch follows nextRecordsUrl itself.
  let fetches = 0;
  const q = conn.query(soql, { headers, autoFetch: true, maxFetch: 1000 });
  q.on('fetch', () => { fetches += 1; });
  const all = await q;
  assert.equal(all.records.length, 250, 'autoFetch: all records');
  assert.equal(fetches, 2, 'autoFetch: two batches');

  // Without the header one batch (up to 2,000) holds all of them.
  const one = await conn.query(soql);
  assert.equal(one.done, true);
  assert.equal(one.records.length, 250);

  // A cursor that has expired (Salesforce keeps them about 15 minutes).
  const stale = await conn.query(soql, { headers });
  await control('/salesforce/query-locators/expire');
  await refused(conn.queryMore(stale.nextRecordsUrl, { headers }), 'INVALID_QUERY_LOCATOR', 'an expired locator');
});

check('query_builder_soql', async () => {
  const conn = connect();
  saved(await conn.sobject('Contact').upsert(contact('js-find-1', { LastName: 'Finder', Email: 'f1@example.com' }),
    KEY), 'seed 1');
  saved(await conn.sobject('Contact').upsert(contact('js-find-2', { LastName: 'Finder', Email: 'f2@example.com' }),
    KEY), 'seed 2');
  // SELECT Id, Outpost_Key__c FROM Contact WHERE LastName = 'Finder' ORDER BY Outpost_Key__c DESC LIMIT 5
  const desc = await conn.sobject('Contact').find({ LastName: 'Finder' }, ['Id', KEY]).sort({ [KEY]: -1 }).limit(5);
  assert.deepEqual(desc.map((r) => r[KEY]), ['js-find-2', 'js-find-1']);
  // SELECT Id, Email FROM Contact WHERE Outpost_Key__c IN ('js-find-1', 'nope') AND Email LIKE 'f%'
  //   AND SystemModstamp > 2000-01-01T00:00:00Z ORDER BY SystemModstamp DESC, Id ASC
  const since = jsforce.SfDate.toDateTimeLiteral(new Date('2000-01-01T00:00:00Z'));
  const found = await conn.sobject('Contact')
    .find({ [KEY]: { $in: ['js-find-1', 'nope'] }, Email: { $like: 'f%' }, SystemModstamp: { $gt: since } },
      ['Id', 'Email'])
    .sort('-SystemModstamp Id');
  assert.deepEqual(found.map((r) => r.Email), ['f1@example.com']);
  // SELECT <every field, from describe> FROM Contact WHERE Outpost_Key__c = 'js-find-2'
  const star = await conn.sobject('Contact').find({ [KEY]: 'js-find-2' }, '*');
  assert.equal(star.length, 1);
  for (const f of CONTACT_FIELDS) assert.ok(f in star[0], `SELECT *-expanded: ${f} missing`);
  // A quote in a value: the builder escapes it as \' (it leaves a backslash alone, so
  // a value with one makes invalid SOQL, which Salesforce refuses too).
  saved(await conn.sobject('Contact').create(contact('js-find-3', { LastName: "O'Brien" })), 'seed 3');
  const quoted = await conn.sobject('Contact').find({ LastName: "O'Brien" }, ['Id', KEY]);
  assert.deepEqual(quoted.map((r) => r[KEY]), ['js-find-3']);
  // Invalid SOQL is MALFORMED_QUERY.
  await refused(conn.query('SELEKT Id FROM Contact'), 'MALFORMED_QUERY', 'invalid SOQL');
});

check('update_delete_and_query_all', async () => {
  const conn = connect();
  const { id } = saved(await conn.sobject('Contact').create(contact('js-del-1', { LastName: 'Deleted' })), 'create');
  const upd = await conn.sobject('Contact').update({ Id: id, MailingCity: 'Leeds' });
  assert.equal(upd.success, true, JSON.stringify(upd));
  assert.equal(upd.id, id);
  assert.equal((await conn.sobject('Contact').retrieve(id)).MailingCity, 'Leeds');
  const del = await conn.sobject('Contact').destroy(id);
  assert.equal(del.success, true, JSON.stringify(del));
  const gone = await refused(conn.sobject('Contact').retrieve(id).catch((e) => {
    // Salesforce answers ENTITY_IS_DELETED for a record in the recycle bin, NOT_FOUND otherwise.
    if (e.errorCode === 'ENTITY_IS_DELETED') e.errorCode = 'NOT_FOUND';
    throw e;
  }), 'NOT_FOUND', 'retrieve a deleted record');
  assert.ok(gone);
  const soql = `SELECT Id, IsDeleted FROM Contact WHERE ${KEY} = 'js-del-1'`;
  assert.equal((await conn.query(soql)).totalSize, 0, 'query leaves deleted records out');
  const all = await conn.query(soql, { scanAll: true }); // GET queryAll?q=
  assert.equal(all.totalSize, 1, 'queryAll includes deleted records');
  assert.equal(all.records[0].IsDeleted, true);
});

check('update_if_unmodified_since', async () => {
  // Outpost's edits send If-Unmodified-Since (an HTTP date): 412 when the record changed later.
  const conn = connect();
  const { id } = saved(await conn.sobject('Contact').create(contact('js-ius-1')), 'create');
  let err;
  try {
    await conn.sobject('Contact').update({ Id: id, Phone: 'stale' },
      { headers: { 'If-Unmodified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT' } });
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'an update older than the record is refused');
  assert.equal((await conn.sobject('Contact').retrieve(id)).Phone, null, 'nothing written');
  const later = new Date(Date.now() + 3600e3).toUTCString();
  const ok = await conn.sobject('Contact').update({ Id: id, Phone: 'fresh' }, { headers: { 'If-Unmodified-Since': later } });
  assert.equal(ok.success, true, JSON.stringify(ok));
  assert.equal((await conn.sobject('Contact').retrieve(id)).Phone, 'fresh');
});

check('describe', async () => {
  const conn = connect();
  const d = object(await conn.sobject('Contact').describe(), 'describe');
  assert.equal(d.name, 'Contact');
  assert.equal(d.keyPrefix, '003');
  assert.equal(d.createable, true);
  assert.equal(d.updateable, true);
  assert.ok(Array.isArray(d.fields), 'fields');
  const byName = Object.fromEntries(d.fields.map((f) => [f.name, f]));
  for (const f of CONTACT_FIELDS) assert.ok(byName[f], `describe: field ${f} is missing`);
  for (const f of d.fields) {
    assert.equal(typeof f.label, 'string', `${f.name}.label`);
    assert.equal(typeof f.type, 'string', `${f.name}.type`);
    for (const b of ['nillable', 'createable', 'updateable', 'custom', 'externalId', 'unique']) {
      assert.equal(typeof f[b], 'boolean', `${f.name}.${b}`);
    }
    assert.equal(typeof f.length, 'number', `${f.name}.length`);
    assert.ok(Array.isArray(f.picklistValues), `${f.name}.picklistValues`);
  }
  assert.equal(byName.LastName.nillable, false, 'LastName is required');
  assert.equal(byName.LastName.createable, true);
  assert.equal(byName.LastName.type, 'string');
  assert.equal(byName.Id.type, 'id');
  assert.equal(byName.Email.type, 'email');
  assert.equal(byName.IsDeleted.type, 'boolean');
  assert.equal(byName.CreatedDate.type, 'datetime');
  assert.equal(byName.CreatedDate.createable, false);
  assert.equal(byName[KEY].externalId, true, 'Outpost_Key__c is an external id');
  assert.equal(byName[KEY].unique, true, 'Outpost_Key__c is unique');
  assert.equal(byName[KEY].custom, true, 'Outpost_Key__c is custom');
  assert.equal(byName.LeadSource.type, 'picklist');
  assert.ok(byName.LeadSource.picklistValues.length > 0, 'LeadSource has options');
  for (const v of byName.LeadSource.picklistValues) {
    assert.equal(typeof v.value, 'string');
    assert.equal(typeof v.active, 'boolean');
  }
  // The other object the contract emulates.
  const lead = object(await conn.sobject('Lead').describe(), 'describe Lead');
  assert.equal(lead.keyPrefix, '00Q');
});

check('limits_and_usage_header', async () => {
  const conn = connect();
  const l = object(await conn.limits(), 'limits');
  assert.equal(typeof l.DailyApiRequests?.Max, 'number', JSON.stringify(l.DailyApiRequests));
  assert.equal(typeof l.DailyApiRequests?.Remaining, 'number');
  // Sforce-Limit-Info: api-usage=used/total on every REST answer; jsforce reads it.
  await conn.query(`SELECT Id FROM Contact LIMIT 1`);
  assert.equal(typeof conn.limitInfo.apiUsage?.used, 'number',
    `no Sforce-Limit-Info header: limitInfo ${JSON.stringify(conn.limitInfo)}`);
  assert.equal(conn.limitInfo.apiUsage.limit, l.DailyApiRequests.Max);
});

check('duplicate_rule_and_allow_save', async () => {
  const conn = connect();
  saved(await conn.sobject('Contact').create(contact('js-duprule-1', { Email: 'twin@example.com' })), 'create');
  await control('/salesforce/duplicate-rule', { on: true });
  try {
    await refused(conn.sobject('Contact').create(contact('js-duprule-2', { Email: 'twin@example.com' })),
      'DUPLICATES_DETECTED', 'a duplicate under an active rule');
    saved(await conn.sobject('Contact').create(contact('js-duprule-2', { Email: 'twin@example.com' }),
      { headers: { 'Sforce-Duplicate-Rule-Header': 'allowSave=true' } }), 'create with allowSave=true');
  } finally {
    await control('/salesforce/duplicate-rule', { on: false });
  }
});

check('request_limit_exceeded', async () => {
  const conn = connect();
  await control('/rate-limit', { salesforce: '5/1440m' });
  try {
    let err;
    for (let i = 0; i < 10 && !err; i += 1) {
      try {
        await conn.query('SELECT Id FROM Contact LIMIT 1');
      } catch (e) {
        err = e;
      }
    }
    assert.ok(err, 'no refusal within 10 calls over a budget of 5');
    assert.equal(err.errorCode, 'REQUEST_LIMIT_EXCEEDED', `${err.name}: ${err.message}`);
    assert.equal(conn.limitInfo.apiUsage?.limit, 5, `limitInfo ${JSON.stringify(conn.limitInfo)}`);
  } finally {
    await control('/rate-limit', { salesforce: '100000/1440m' }); // the default budget
  }
  await conn.query('SELECT Id FROM Contact LIMIT 1');
});

check('refresh_after_expiry', async () => {
  // An OAuth access token that works, then expires (control /tokens/expire): the next
  // call gets 401 INVALID_SESSION_ID, jsforce posts grant_type=refresh_token to
  // /services/oauth2/token, fires 'refresh' and replays the call.
  const { access_token: first } = await control('/tokens/issue');
  const conn = connect({ accessToken: first });
  const refreshes = [];
  conn.on('refresh', (token, res) => refreshes.push({ token, res }));
  saved(await conn.sobject('Contact').create(contact('js-refresh-1')), 'create with a fresh token');
  assert.equal(refreshes.length, 0, 'no refresh while the token is valid');

  const expired = await control('/tokens/expire', { token: first });
  assert.ok(expired, 'control /tokens/expire');
  const got = record(await conn.sobject('Contact').retrieve((await conn.query(
    `SELECT Id FROM Contact WHERE ${KEY} = 'js-refresh-1'`)).records[0].Id), 'retrieve after refresh');
  assert.equal(got[KEY], 'js-refresh-1');
  assert.equal(refreshes.length, 1, 'exactly one refresh');
  const { token, res } = refreshes[0];
  assert.notEqual(token, first, 'a new access token');
  assert.equal(conn.accessToken, token);
  assert.equal(res.token_type, 'Bearer');
  assert.equal(res.instance_url.replace(/\/$/, ''), BASE, 'instance_url is the emulator');
  assert.equal(conn.instanceUrl.replace(/\/$/, ''), BASE);
  assert.match(String(res.issued_at), /^\d{13}$/, 'issued_at in milliseconds');
  assert.equal(typeof res.signature, 'string');
  assert.match(res.id, /\/id\/00D[0-9A-Za-z]{15}\/005[0-9A-Za-z]{15}$/, 'id is the identity URL');
  assert.equal(conn.userInfo?.organizationId?.slice(0, 3), '00D', 'jsforce parsed the identity URL');

  // The expired token alone, without OAuth settings: a plain 401.
  await refused(connect({ accessToken: first, oauth: false }).query('SELECT Id FROM Contact LIMIT 1'),
    'INVALID_SESSION_ID', 'expired token without refresh');
});

check('refused_refresh', async () => {
  const { access_token: first } = await control('/tokens/issue');
  await control('/tokens/expire', { token: first });
  const conn = connect({ accessToken: first, refreshToken: 'not-the-refresh-token' });
  let err;
  try {
    await conn.query('SELECT Id FROM Contact LIMIT 1');
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'a refused refresh fails the call');
  // jsforce wraps the token endpoint's {error, error_description} (it keeps the description only).
  assert.match(err.message, /^Unable to refresh session due to: \S/, `${err.name}: ${err.message}`);
  await refused(connect({ accessToken: 'not-a-token', oauth: false }).query('SELECT Id FROM Contact LIMIT 1'),
    'INVALID_SESSION_ID', 'unknown token');
});

check('refresh_with_rotation', async () => {
  // Last: it spends the configured refresh token. With rotation on, the token answer
  // carries a new refresh_token and the old one is spent.
  // jsforce does not keep it by itself: an integration takes it from the 'refresh' event.
  await control('/salesforce/rotation', { on: true });
  try {
    const { access_token: first } = await control('/tokens/issue');
    const conn = connect({ accessToken: first });
    const rotated = [];
    conn.on('refresh', (_token, res) => {
      assert.equal(typeof res.refresh_token, 'string', `a rotated refresh_token: ${JSON.stringify(res)}`);
      rotated.push(res.refresh_token);
      conn.refreshToken = res.refresh_token;
    });
    for (let round = 1; round <= 2; round += 1) {
      await control('/tokens/expire', { token: conn.accessToken });
      const r = await conn.query('SELECT Id FROM Contact LIMIT 1');
      assert.equal(r.done, true);
      assert.equal(rotated.length, round, `refresh ${round}`);
    }
    assert.notEqual(rotated[0], rotated[1], 'each refresh rotates');
    assert.notEqual(rotated[0], ARGS['refresh-token']);
  } finally {
    await control('/salesforce/rotation', { on: false });
  }
});

// ------------------------------------------------------------------ main

const jsforceVersion = createRequire(import.meta.url)('jsforce/package.json').version;
console.log(`jsforce ${jsforceVersion} against ${BASE}`);
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
console.log(`jsforce: ${ran - failed} of ${ran} checks ok`);
process.exit(failed || ran === 0 ? 1 : 0);
