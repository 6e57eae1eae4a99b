"""HubSpot's official Python client (hubspot-api-client, pinned in
requirements.txt) against the CRM emulator's HubSpot API.

The client is generated from HubSpot's OpenAPI specs; with
client_side_validation=True it refuses a response that lacks a field the spec
requires, and it deserialises only the status codes the spec lists (any other
2xx becomes None). On top of that, every response body is checked against the
client's own models: each member the spec types must have that JSON type
(a string is a string, a datetime an ISO 8601 string, a context a map of
string lists...). Unknown members are allowed, as the real API sends some.
Requested properties without a value stay null: real HubSpot answers that way
although the spec types them as strings.

Every call Outpost's HubSpot connector makes is covered, and every error it
relies on. Driven by crates/crm-emulator/tests/vendor_hubspot.rs; by hand:

    python hubspot_client.py --crm URL --control URL [--token T] [-v]

Each test starts from POST /reset on the control port. Exit 0 when all pass.
"""

import argparse
import json
import re
import sys
import unittest
import urllib.request
from importlib import metadata

from urllib3.util.retry import Retry

from hubspot import HubSpot
import hubspot.crm.contacts as contacts
import hubspot.crm.properties as properties
import hubspot.oauth as oauth

ARGS = None
TIMEOUT = 10  # seconds, every request
KEY = "outpost_key"
# The properties the connector reads (mapping::read_property_list).
READ = ["firstname", "lastname", "company", "email", "phone", "address", "city", "zip", "country", KEY,
        "lastmodifieddate"]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


# ------------------------------------------------------------------ helpers

def need(ok, message):
    """Like assert, but not switched off by python -O."""
    if not ok:
        raise AssertionError(message)


def control(path, body=None):
    """POST to the emulator's control port."""
    data = json.dumps(body if body is not None else {}).encode()
    req = urllib.request.Request(ARGS.control + path, data=data, method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        return json.loads(r.read() or b"null")


def client(token=None):
    """The vendor's client in strict mode; urllib3 retries off, so a 429 or
    a connection error surfaces instead of being retried behind our back."""
    return HubSpot(access_token=token if token is not None else ARGS.token, host=ARGS.crm,
                   client_side_validation=True, retry=Retry(total=0, raise_on_status=False))


def check_shape(value, type_name, models, path="$"):
    """Checks raw JSON against a model of the client (its openapi_types).
    Null is accepted where the client's own required-field check allows it."""
    if value is None or type_name == "object":
        return
    m = re.match(r"list\[(.*)\]$", type_name)
    if m:
        need(isinstance(value, list), f"{path}: expected an array, got {value!r}")
        for i, v in enumerate(value):
            check_shape(v, m.group(1), models, f"{path}[{i}]")
        return
    m = re.match(r"dict\(?\[([^,]*), (.*)\]\)?$", type_name)
    if m:
        need(isinstance(value, dict), f"{path}: expected an object, got {value!r}")
        for k, v in value.items():
            check_shape(v, m.group(2), models, f"{path}.{k}")
        return
    if type_name == "str":
        need(isinstance(value, str), f"{path}: expected a string, got {value!r}")
    elif type_name == "int":
        need(isinstance(value, int) and not isinstance(value, bool), f"{path}: expected an integer, got {value!r}")
    elif type_name == "float":
        need(isinstance(value, (int, float)) and not isinstance(value, bool), f"{path}: expected a number")
    elif type_name == "bool":
        need(isinstance(value, bool), f"{path}: expected a boolean, got {value!r}")
    elif type_name == "datetime":
        need(isinstance(value, str) and ISO.match(value), f"{path}: expected an ISO 8601 datetime, got {value!r}")
    elif type_name == "date":
        need(isinstance(value, str) and DATE.match(value), f"{path}: expected an ISO 8601 date, got {value!r}")
    else:
        klass = getattr(models, type_name)
        need(isinstance(value, dict), f"{path}: expected a {type_name} object, got {value!r}")
        for attr, t in klass.openapi_types.items():
            key = klass.attribute_map[attr]
            if key in value:
                check_shape(value[key], t, models, f"{path}.{key}")


def call(api, method, args, status, model, models, **kwargs):
    """Calls `method` of `api`, expects `status` and a body the client could
    deserialise into `model` (strictly), then checks its raw JSON shape."""
    data, got, headers = getattr(api, method + "_with_http_info")(*args, _request_timeout=TIMEOUT, **kwargs)
    need(got == status, f"{method}: HTTP {got}, expected {status}")
    need(data is not None, f"{method}: the client found no model for HTTP {got}")
    need(type(data).__name__ == model, f"{method}: deserialised as {type(data).__name__}, expected {model}")
    raw = json.loads(api.api_client.last_response.data)
    check_shape(raw, model, models)
    return data, raw, headers


class Raw:
    """A stand-in response for ApiClient.deserialize."""

    def __init__(self, data):
        self.data = data


def fails(fn, status, *args, **kwargs):
    """Runs a client call that must fail with `status`; returns (exception, JSON body)."""
    try:
        fn(*args, _request_timeout=TIMEOUT, **kwargs)
    except Exception as e:  # each API package has its own ApiException class
        got = getattr(e, "status", None)
        if got is None:
            raise
        need(got == status, f"HTTP {got}, expected {status}: {e.body}")
        return e, json.loads(e.body)
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


def error_body(api, body, models):
    """An error body must satisfy the spec's Error model (correlationId,
    message and category required; errors[] of ErrorDetail with message)."""
    api.api_client.deserialize(Raw(json.dumps(body)), "Error")
    check_shape(body, "Error", models)
    need(body.get("status") == "error", f"status is not \"error\": {body}")


def upsert_input(key, **props):
    props.setdefault(KEY, key)
    return contacts.SimplePublicObjectBatchInputUpsert(id_property=KEY, id=key, properties=props)


def upsert_batch(*inputs):
    return contacts.BatchInputSimplePublicObjectBatchInputUpsert(inputs=list(inputs))


# ------------------------------------------------------------------ tests

class HubSpotClient(unittest.TestCase):
    def setUp(self):
        control("/reset")
        self.hs = client()
        self.basic = self.hs.crm.contacts.basic_api
        self.batch = self.hs.crm.contacts.batch_api
        self.search = self.hs.crm.contacts.search_api
        self.props = self.hs.crm.properties.core_api

    def upsert(self, *inputs, status=200, model="BatchResponseSimplePublicUpsertObject"):
        return call(self.batch, "upsert", [upsert_batch(*inputs)], status, model, contacts.models)

    # -- probe and creation form

    def test_probe_lists_one_contact(self):
        self.upsert(upsert_input("k1", email="ada@example.com"), upsert_input("k2", email="bob@example.com"))
        data, _, _ = call(self.basic, "get_page", [], 200,
                          "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging", contacts.models, limit=1)
        self.assertEqual(len(data.results), 1)
        self.assertIsNotNone(data.paging.next.after)
        nxt = self.basic.get_page(limit=1, after=data.paging.next.after, _request_timeout=TIMEOUT)
        self.assertEqual(len(nxt.results), 1)
        self.assertNotEqual(nxt.results[0].id, data.results[0].id)
        self.assertIsNone(nxt.paging)

    def test_archived_contacts_are_listed_with_archived_true(self):
        self.upsert(upsert_input("k1", email="ada@example.com"), upsert_input("k2", email="bob@example.com"))
        live = self.basic.get_page(limit=10, _request_timeout=TIMEOUT).results
        gone = live[0].id
        self.basic.archive(gone, _request_timeout=TIMEOUT)
        data, _, _ = call(self.basic, "get_page", [], 200,
                          "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging", contacts.models,
                          limit=10, archived=True)
        self.assertEqual([o.id for o in data.results], [gone])
        self.assertTrue(data.results[0].archived)
        self.assertIsNotNone(data.results[0].archived_at)
        left = self.basic.get_page(limit=10, _request_timeout=TIMEOUT).results
        self.assertEqual([o.id for o in left], [live[1].id])

    def test_key_property_is_unique(self):
        prop, _, _ = call(self.props, "get_by_name", ["contacts", KEY], 200, "ModelProperty", properties.models)
        self.assertTrue(prop.has_unique_value)
        self.assertEqual(prop.type, "string")
        _, body = fails(self.props.get_by_name, 404, "contacts", "no_such_property")
        error_body(self.props, body, properties.models)
        self.assertEqual(body["category"], "OBJECT_NOT_FOUND")

    def test_missing_key_property_can_be_created(self):
        control("/hubspot/properties/remove", {"object": "contacts", "name": KEY})
        fails(self.props.get_by_name, 404, "contacts", KEY)
        create = properties.PropertyCreate(name=KEY, label="Outpost key", type="string", field_type="text",
                                           group_name="contactinformation", has_unique_value=True)
        prop, _, _ = call(self.props, "create", ["contacts", create], 201, "ModelProperty", properties.models)
        self.assertTrue(prop.has_unique_value)
        _, body = fails(self.props.create, 409, "contacts", create)
        error_body(self.props, body, properties.models)

    def test_properties_list_has_picklists(self):
        data, _, _ = call(self.props, "get_all", ["contacts"], 200, "CollectionResponsePropertyNoPaging",
                          properties.models)
        by_name = {p.name: p for p in data.results}
        for name in ("email", "firstname", "lastname", "country", KEY, "lifecyclestage", "hs_lead_status"):
            self.assertIn(name, by_name)
        stage = by_name["lifecyclestage"]
        self.assertEqual(stage.type, "enumeration")
        self.assertTrue(stage.form_field)
        self.assertIn("customer", [o.value for o in stage.options])
        self.assertTrue(all(o.hidden is False for o in stage.options))
        self.assertTrue(by_name[KEY].has_unique_value)

    # -- delivery: batch upsert by the unique key

    def test_batch_upsert_creates_then_updates(self):
        first, _, _ = self.upsert(
            upsert_input("k1", email="ada@example.com", firstname="Ada", lastname="Lovelace", lifecyclestage="lead"),
            upsert_input("k2", email="bob@example.com", firstname="Bob"))
        self.assertEqual(first.status, "COMPLETE")
        self.assertEqual(sorted(r.new for r in first.results), [True, True])
        for r in first.results:
            self.assertEqual(r.properties["hs_object_id"], r.id)
            self.assertIn(r.properties[KEY], ("k1", "k2"))
        ids = {r.properties[KEY]: r.id for r in first.results}

        # The same keys again (a resend after a lost answer): same contacts.
        again, _, _ = self.upsert(upsert_input("k1", email="ada@example.com", city="London"),
                                  upsert_input("k2", email="bob@example.com"))
        self.assertEqual([r.new for r in again.results], [False, False])
        self.assertEqual({r.properties[KEY]: r.id for r in again.results}, ids)
        self.assertEqual(next(r for r in again.results if r.id == ids["k1"]).properties["city"], "London")

    def test_create_single_contact(self):
        body = contacts.SimplePublicObjectInputForCreate(properties={"email": "ada@example.com", KEY: "k1"})
        created, _, _ = call(self.basic, "create", [body], 201, "SimplePublicObject", contacts.models)
        self.assertEqual(created.properties["email"], "ada@example.com")
        self.assertIs(created.archived, False)

    def test_batch_create(self):
        body = contacts.BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            contacts.SimplePublicObjectBatchInputForCreate(properties={"email": "ada@example.com", KEY: "k1"}),
            contacts.SimplePublicObjectBatchInputForCreate(properties={"email": "bob@example.com", KEY: "k2"}),
        ])
        data, _, _ = call(self.batch, "create", [body], 201, "BatchResponseSimplePublicObject", contacts.models)
        self.assertEqual(len(data.results), 2)
        # Any duplicate: one 409 for the whole batch naming the existing id.
        _, err = fails(self.batch.create, 409, body)
        error_body(self.batch, err, contacts.models)
        self.assertEqual(err["category"], "CONFLICT")
        self.assertRegex(err["message"], r"Existing ID: \d+")

    # -- reading back: by key, batch read, search

    def test_get_by_key_property(self):
        first, _, _ = self.upsert(upsert_input("k1", email="ada@example.com", firstname="Ada"))
        got, raw, _ = call(self.basic, "get_by_id", ["k1"], 200, "SimplePublicObjectWithAssociations",
                           contacts.models, id_property=KEY, properties=READ)
        self.assertEqual(got.id, first.results[0].id)
        self.assertEqual(got.properties[KEY], "k1")
        self.assertEqual(got.properties["firstname"], "Ada")
        self.assertTrue(ISO.match(got.properties["lastmodifieddate"]))
        # Requested but empty: present and null, as real HubSpot answers.
        self.assertIn("zip", raw["properties"])
        self.assertIsNone(raw["properties"]["zip"])
        self.assertIsNone(got.properties["zip"])
        _, body = fails(self.basic.get_by_id, 404, "nobody", id_property=KEY, properties=READ)
        error_body(self.basic, body, contacts.models)
        self.assertEqual(body["category"], "OBJECT_NOT_FOUND")

    def test_batch_read_all_found_and_some_missing(self):
        self.upsert(upsert_input("k1", email="ada@example.com"), upsert_input("k2", email="bob@example.com"))

        def read(*keys):
            return contacts.BatchReadInputSimplePublicObjectId(
                id_property=KEY, inputs=[contacts.SimplePublicObjectId(id=k) for k in keys],
                properties=READ, properties_with_history=[])

        data, _, _ = call(self.batch, "read", [read("k1", "k2")], 200, "BatchResponseSimplePublicObject",
                          contacts.models)
        self.assertEqual(sorted(r.properties[KEY] for r in data.results), ["k1", "k2"])
        # Multi-status: the found ones plus a StandardError for the rest
        # (the spec requires category, context, errors, links, message, status).
        data, raw, _ = call(self.batch, "read", [read("k1", "gone1", "gone2")], 207,
                            "BatchResponseSimplePublicObjectWithErrors", contacts.models)
        self.assertEqual([r.properties[KEY] for r in data.results], ["k1"])
        self.assertEqual(data.num_errors, len(data.errors))
        err = data.errors[0]
        self.assertEqual(err.category, "OBJECT_NOT_FOUND")
        self.assertEqual(sorted(err.context["ids"]), ["gone1", "gone2"])
        self.assertIsInstance(err.errors, list)
        self.assertIsInstance(err.links, dict)

    def test_batch_update_by_id_and_by_key_and_patch_one(self):
        # Outpost's edit path: batch read, then batch update of just the
        # changed properties; a person's edit in HubSpot is a PATCH.
        first, _, _ = self.upsert(upsert_input("k1", email="ada@example.com", firstname="Ada", city="Bonn"),
                                  upsert_input("k2", email="bob@example.com", firstname="Bob"))
        ids = {r.properties[KEY]: r.id for r in first.results}
        update = contacts.BatchInputSimplePublicObjectBatchInput(inputs=[
            contacts.SimplePublicObjectBatchInput(id=ids["k1"], properties={"city": "Köln"}),
            contacts.SimplePublicObjectBatchInput(id="k2", id_property=KEY, properties={"lastname": "Babbage"}),
        ])
        data, _, _ = call(self.batch, "update", [update], 200, "BatchResponseSimplePublicObject", contacts.models)
        self.assertEqual(sorted(r.id for r in data.results), sorted(ids.values()))
        got = {r.id: r for r in data.results}
        self.assertEqual(got[ids["k1"]].properties["city"], "Köln")
        self.assertEqual(got[ids["k2"]].properties["lastname"], "Babbage")
        self.assertTrue(ISO.match(got[ids["k1"]].properties["lastmodifieddate"]))
        one, _, _ = call(self.basic, "update", ["k1", contacts.SimplePublicObjectInput(properties={"city": "Bonn"})],
                         200, "SimplePublicObject", contacts.models, id_property=KEY)
        self.assertEqual(one.properties["city"], "Bonn")
        self.assertEqual(one.properties["firstname"], "Ada", "untouched properties stay")
        # An id HubSpot does not have: the whole batch is refused, nothing changes.
        missing = contacts.BatchInputSimplePublicObjectBatchInput(inputs=[
            contacts.SimplePublicObjectBatchInput(id=ids["k1"], properties={"city": "Nowhere"}),
            contacts.SimplePublicObjectBatchInput(id="999999", properties={"city": "Nowhere"}),
        ])
        _, body = fails(self.batch.update, 404, missing)
        error_body(self.batch, body, contacts.models)
        again, _, _ = call(self.basic, "get_by_id", ["k1"], 200, "SimplePublicObjectWithAssociations",
                           contacts.models, id_property=KEY, properties=READ)
        self.assertEqual(again.properties["city"], "Bonn")

    def test_search_query_and_paging(self):
        inputs = [upsert_input(f"k{i}", email=f"person{i}@example.com", firstname=f"Person{i}", lastname="Walker",
                               country="DE" if i % 2 else "FR") for i in range(7)]
        self.upsert(*inputs)
        # The merged lookup: free text.
        body = contacts.PublicObjectSearchRequest(query="person3", limit=10, properties=READ)
        found, raw, _ = call(self.search, "do_search", [body], 200,
                             "CollectionResponseWithTotalSimplePublicObjectForwardPaging", contacts.models)
        self.assertEqual(found.total, 1)
        self.assertEqual(found.results[0].properties[KEY], "k3")
        self.assertIsNone(found.paging)
        self.assertIsNone(raw["results"][0]["properties"]["zip"])

        # The working set: modified since T, oldest first, paged by `after`
        # (sorts as the connector sends them: objects).
        seen = []
        after = None
        for _ in range(10):  # 7 contacts, 3 per page: 3 pages
            req = contacts.PublicObjectSearchRequest(
                filter_groups=[contacts.FilterGroup(filters=[
                    contacts.Filter(property_name="lastmodifieddate", operator="GTE", value="0")])],
                sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                properties=READ, limit=3, after=after)
            page, _, _ = call(self.search, "do_search", [req], 200,
                              "CollectionResponseWithTotalSimplePublicObjectForwardPaging", contacts.models)
            self.assertEqual(page.total, 7)
            seen += [r.properties[KEY] for r in page.results]
            if page.paging is None:
                break
            after = page.paging.next.after
            self.assertIsInstance(after, str)
        self.assertEqual(sorted(seen), sorted(f"k{i}" for i in range(7)))

        # A region limit, and the id walk (sorts as plain strings, the spec's type).
        req = contacts.PublicObjectSearchRequest(
            filter_groups=[contacts.FilterGroup(filters=[
                contacts.Filter(property_name="country", operator="EQ", value="DE"),
                contacts.Filter(property_name="hs_object_id", operator="GT", value="0")])],
            sorts=["hs_object_id"], properties=READ, limit=200)
        page, _, _ = call(self.search, "do_search", [req], 200,
                          "CollectionResponseWithTotalSimplePublicObjectForwardPaging", contacts.models)
        self.assertEqual(sorted(r.properties[KEY] for r in page.results), ["k1", "k3", "k5"])
        ids = [int(r.id) for r in page.results]
        self.assertEqual(ids, sorted(ids))

    def test_search_refuses_paging_past_ten_thousand(self):
        control("/seed", {"api": "hubspot", "object": "contacts", "count": 10050})
        # The last page below the cap still offers a next page at 10,000...
        req = contacts.PublicObjectSearchRequest(limit=200, after="9800", properties=READ)
        page, _, _ = call(self.search, "do_search", [req], 200,
                          "CollectionResponseWithTotalSimplePublicObjectForwardPaging", contacts.models)
        self.assertEqual(page.total, 10050)
        self.assertEqual(len(page.results), 200)
        self.assertEqual(page.paging.next.after, "10000")
        # ...which HubSpot then refuses: the connector never asks for it.
        req = contacts.PublicObjectSearchRequest(limit=200, after=page.paging.next.after)
        _, body = fails(self.search.do_search, 400, req)
        error_body(self.search, body, contacts.models)
        self.assertEqual(body["category"], "VALIDATION_ERROR")

    # -- refusals the connector turns into "needs attention"

    def test_conflict_on_email(self):
        first, _, _ = self.upsert(upsert_input("k1", email="ada@example.com"))
        _, body = fails(self.batch.upsert, 409, upsert_batch(upsert_input("k2", email="ADA@example.com")))
        error_body(self.batch, body, contacts.models)
        self.assertEqual(body["category"], "CONFLICT")
        self.assertIn(f"Existing ID: {first.results[0].id}", body["message"])

    def test_validation_errors_name_the_property(self):
        cases = [({"lifecyclestage": "not-a-stage"}, "INVALID_OPTION", "lifecyclestage"),
                 ({"hs_lead_status": "new"}, "INVALID_OPTION", "hs_lead_status"),
                 ({"no_such_property": "x"}, "PROPERTY_DOESNT_EXIST", "no_such_property"),
                 ({"email": "not an email"}, "INVALID_EMAIL", "email")]
        for props, code, prop in cases:
            with self.subTest(code=code, prop=prop):
                _, body = fails(self.batch.upsert, 400, upsert_batch(upsert_input("k1", **props)))
                error_body(self.batch, body, contacts.models)
                self.assertEqual(body["category"], "VALIDATION_ERROR")
                self.assertTrue(body["message"].startswith("Property values were not valid"), body["message"])
                self.assertEqual(body["errors"][0]["code"], code)
                self.assertEqual(body["errors"][0]["context"]["propertyName"], [prop])
        # The batch was refused as a whole: nothing was written.
        self.assertEqual(self.basic.get_page(limit=10, _request_timeout=TIMEOUT).results, [])

    def test_batch_of_more_than_one_hundred(self):
        too_many = [upsert_input(f"k{i}") for i in range(101)]
        _, body = fails(self.batch.upsert, 400, upsert_batch(*too_many))
        error_body(self.batch, body, contacts.models)
        self.assertEqual(body["category"], "VALIDATION_ERROR")

    # -- limits and authentication

    def test_rate_limit_answer(self):
        control("/rate-limit", {"hubspot": "2/60s"})
        req = contacts.PublicObjectSearchRequest(limit=1)
        for left in ("1", "0"):
            _, _, headers = call(self.search, "do_search", [req], 200,
                                 "CollectionResponseWithTotalSimplePublicObjectForwardPaging", contacts.models)
            headers = {k.lower(): v for k, v in headers.items()}
            self.assertEqual(headers["x-hubspot-ratelimit-remaining"], left)
            self.assertEqual(headers["x-hubspot-ratelimit-max"], "2")
        e, body = fails(self.search.do_search, 429, req)
        headers = {k.lower(): v for k, v in e.headers.items()}
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        self.assertEqual(headers["x-hubspot-ratelimit-max"], "2")
        self.assertEqual(headers["x-hubspot-ratelimit-remaining"], "0")
        self.assertEqual(headers["x-hubspot-ratelimit-interval-milliseconds"], "60000")
        # The gateway's body (hubspot-api-nodejs#416), not the API's Error model:
        # errorType and policyName instead of category.
        self.assertEqual(body["status"], "error")
        self.assertEqual(body["errorType"], "RATE_LIMIT")
        self.assertEqual(body["policyName"], "TEN_SECONDLY_ROLLING")
        self.assertIsInstance(body["correlationId"], str)
        self.assertIn("limit", body["message"])

    def test_oauth_refresh_expiry_and_retry(self):
        tokens = self.hs.oauth.tokens_api
        grant = dict(grant_type="refresh_token", client_id=ARGS.client_id, client_secret=ARGS.client_secret,
                     refresh_token=ARGS.refresh_token)
        tok, _, _ = call(tokens, "create", [], 200, "TokenResponseIF", oauth.models, **grant)
        self.assertEqual(tok.token_type, "bearer")
        self.assertGreater(tok.expires_in, 120)
        self.assertEqual(tok.refresh_token, ARGS.refresh_token)

        api = client(tok.access_token).crm.contacts.basic_api
        api.get_page(limit=1, _request_timeout=TIMEOUT)
        control("/tokens/expire", {"token": tok.access_token})
        _, body = fails(api.get_page, 401, limit=1)
        error_body(api, body, contacts.models)
        self.assertEqual(body["category"], "EXPIRED_AUTHENTICATION")
        self.assertRegex(body["message"], r"expired \d+ second\(s\) ago")

        # One refresh, one retry.
        fresh = tokens.create(**grant, _request_timeout=TIMEOUT)
        self.assertNotEqual(fresh.access_token, tok.access_token)
        client(fresh.access_token).crm.contacts.basic_api.get_page(limit=1, _request_timeout=TIMEOUT)

        # A refused refresh is a 400 (the connector pauses the queue).
        for bad in (dict(grant, refresh_token="revoked"), dict(grant, client_secret="wrong")):
            _, body = fails(tokens.create, 400, **bad)
            self.assertTrue(body["status"].startswith("BAD_"), body)
            self.assertIsInstance(body["message"], str)
            self.assertIsInstance(body["correlationId"], str)

    def test_invalid_token_and_missing_scopes(self):
        api = client("not-a-token").crm.contacts.basic_api
        _, body = fails(api.get_page, 401, limit=1)
        error_body(api, body, contacts.models)
        self.assertEqual(body["category"], "INVALID_AUTHENTICATION")

        control("/tokens/scopes", {"token": ARGS.token, "scopes": ["crm.objects.contacts.read"]})
        _, body = fails(self.batch.upsert, 403, upsert_batch(upsert_input("k1")))
        error_body(self.batch, body, contacts.models)
        self.assertEqual(body["category"], "MISSING_SCOPES")
        self.assertEqual(body["errors"][0]["context"]["requiredScopes"], ["crm.objects.contacts.write"])
        self.assertIsInstance(body["links"]["scopes"], str)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--crm", required=True, help="the emulator's CRM URL")
    p.add_argument("--control", required=True, help="the emulator's control URL")
    p.add_argument("--token", default="outpost-test-token")
    p.add_argument("--client-id", default="outpost-client-id")
    p.add_argument("--client-secret", default="outpost-client-secret")
    p.add_argument("--refresh-token", default="outpost-refresh-token")
    p.add_argument("-v", "--verbose", action="store_true")
    ARGS, rest = p.parse_known_args()
    for url in (ARGS.crm, ARGS.control):
        if not re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d+/?$", url):
            p.error(f"{url}: only loopback URLs")
    ARGS.crm, ARGS.control = ARGS.crm.rstrip("/"), ARGS.control.rstrip("/")
    print(f"hubspot-api-client {metadata.version('hubspot-api-client')} against {ARGS.crm}", flush=True)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2 if ARGS.verbose else 1)


if __name__ == "__main__":
    main()
