"""simple-salesforce (pinned in requirements.txt) against the CRM emulator's
Salesforce REST API.

simple-salesforce is written against the real service and builds every URL
itself, with the quirks of its own: `query/?q=` and `limits/` with a trailing
slash, `query_more` on the path of `nextRecordsUrl`, `upsert` returning the
bare HTTP status, errors read from `body[0]['errorCode']`. It hard-codes
`https://`, so the session gets an adapter that sends those requests to the
emulator's plain-http loopback URL instead.

Driven by crates/crm-emulator/tests/vendor_salesforce.rs; by hand:

    python simple_salesforce_client.py --crm URL --control URL [--token T] [-v]

The emulator is not reset between tests (the Rust test asserts its request
counters afterwards): each test uses its own Outpost_Key__c values.
Exit 0 when all pass.
"""

import argparse
import datetime
import json
import re
import sys
import unittest
import urllib.request
from importlib import metadata

import requests
from requests.adapters import HTTPAdapter

from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (SalesforceError, SalesforceExpiredSession, SalesforceMalformedRequest,
                                          SalesforceRefusedRequest, SalesforceResourceNotFound)

ARGS = None
TIMEOUT = 10  # seconds, every request
VERSION = "60.0"
DATA = f"/services/data/v{VERSION}"
KEY = "Outpost_Key__c"
ID_CONTACT = re.compile(r"^003[0-9A-Za-z]{15}$")
SF_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


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


class PlainHttpLoopback(HTTPAdapter):
    """simple-salesforce only speaks https://; the emulator listens on
    http://127.0.0.1. Rewrites the scheme (and sets a timeout, which the
    client never passes)."""

    def send(self, request, **kwargs):
        if request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://"):]
        if not kwargs.get("timeout"):
            kwargs["timeout"] = TIMEOUT
        return super().send(request, **kwargs)


def client(token=None):
    """The client as an integration holding a session id (an OAuth access
    token) makes it."""
    s = requests.Session()
    https_base = "https://" + ARGS.crm[len("http://"):]
    s.mount(https_base, PlainHttpLoopback(max_retries=0))
    return Salesforce(instance_url=https_base, session_id=token or ARGS.token, version=VERSION, session=s)


def contact(key, **extra):
    return {"LastName": f"Last {key}", "FirstName": "First", "Email": f"{key}@example.com", KEY: key, **extra}


def body_of(response):
    """A requests.Response's JSON (upsert with raw_response=True)."""
    need(response.headers.get("content-type", "").startswith("application/json"),
         f"content-type {response.headers.get('content-type')!r}")
    return response.json()


class SimpleSalesforceClient(unittest.TestCase):
    def setUp(self):
        self.sf = client()

    def saved(self, result, what):
        self.assertEqual(result["success"], True, f"{what}: {result}")
        self.assertEqual(result["errors"], [], f"{what}: {result}")
        self.assertRegex(result["id"], ID_CONTACT, f"{what}: {result}")
        return result

    def refused(self, exc_class, error_code, fn, *args, **kwargs):
        with self.assertRaises(exc_class) as caught:
            fn(*args, **kwargs)
        content = caught.exception.content
        need(isinstance(content, list) and content and isinstance(content[0], dict),
             f"error body is not an array of errors: {content!r}")
        self.assertEqual(content[0]["errorCode"], error_code, content)
        self.assertIsInstance(content[0]["message"], str)
        return content[0]

    def seed(self, keys, **extra):
        """Upserts by key through the composite collection, 200 at a time."""
        for i in range(0, len(keys), 200):
            body = {"allOrNone": False,
                    "records": [{"attributes": {"type": "Contact"}, **contact(k, **extra)} for k in keys[i:i + 200]]}
            res = self.sf.restful(f"composite/sobjects/Contact/{KEY}", method="PATCH", data=json.dumps(body))
            need(isinstance(res, list) and len(res) == len(body["records"]), f"collection upsert: {res!r}")
            for r in res:
                self.saved(r, "collection upsert")

    def test_create_get_and_get_by_key(self):
        res = self.saved(self.sf.Contact.create(contact("py-create-1", Phone="555-0101")), "create")
        got = self.sf.Contact.get(res["id"])
        self.assertEqual(got["Id"], res["id"])
        self.assertEqual(got["attributes"], {"type": "Contact", "url": f"{DATA}/sobjects/Contact/{res['id']}"})
        self.assertEqual(got["LastName"], "Last py-create-1")
        self.assertEqual(got["Phone"], "555-0101")
        self.assertRegex(got["CreatedDate"], SF_DATETIME)
        self.assertRegex(got["SystemModstamp"], SF_DATETIME)
        by_key = self.sf.Contact.get_by_custom_id(KEY, "py-create-1")
        self.assertEqual(by_key["Id"], res["id"])
        self.refused(SalesforceResourceNotFound, "NOT_FOUND", self.sf.Contact.get_by_custom_id, KEY, "py-none")
        self.refused(SalesforceResourceNotFound, "NOT_FOUND", self.sf.Contact.get, "003000000000000AAA")

    def test_upsert_by_key_creates_then_updates(self):
        # simple-salesforce's docs: upsert returns the status code, 201 for a
        # created record; an update is 204 in their examples (API versions before
        # 46.0) and 200 with a body from 46.0 on. Both are accepted.
        self.assertEqual(self.sf.Contact.upsert(f"{KEY}/py-up-1", {"LastName": "Upserted"}), 201)
        status = self.sf.Contact.upsert(f"{KEY}/py-up-1", {"LastName": "Upserted", "Phone": "1"})
        self.assertIn(status, (200, 204))
        got = self.sf.Contact.get_by_custom_id(KEY, "py-up-1")
        self.assertEqual(got["Phone"], "1")
        # The bodies, as Salesforce documents them (v46+).
        created = self.sf.Contact.upsert(f"{KEY}/py-up-2", {"LastName": "Two"}, raw_response=True)
        self.assertEqual(created.status_code, 201)
        body = body_of(created)
        self.saved(body, "upsert created")
        self.assertIs(body["created"], True)
        updated = self.sf.Contact.upsert(f"{KEY}/py-up-2", {"LastName": "Two", "Phone": "2"}, raw_response=True)
        if updated.status_code == 200:
            body2 = body_of(updated)
            self.saved(body2, "upsert updated")
            self.assertIs(body2["created"], False)
            self.assertEqual(body2["id"], body["id"])
        else:
            self.assertEqual(updated.status_code, 204)
        # A missing required field on a new record.
        err = self.refused(SalesforceMalformedRequest, "REQUIRED_FIELD_MISSING", self.sf.Contact.upsert,
                           f"{KEY}/py-up-3", {"FirstName": "No last name"})
        self.assertEqual(err["fields"], ["LastName"])

    def test_update_and_delete(self):
        res = self.saved(self.sf.Contact.create(contact("py-del-1")), "create")
        self.assertEqual(self.sf.Contact.update(res["id"], {"MailingCity": "York"}), 204)
        self.assertEqual(self.sf.Contact.get(res["id"])["MailingCity"], "York")
        self.assertEqual(self.sf.Contact.delete(res["id"]), 204)
        soql = f"SELECT Id, IsDeleted FROM Contact WHERE {KEY} = 'py-del-1'"
        self.assertEqual(self.sf.query(soql)["totalSize"], 0)
        every = self.sf.query_all(soql, include_deleted=True)  # GET queryAll/?q=
        self.assertEqual(every["totalSize"], 1)
        self.assertIs(every["records"][0]["IsDeleted"], True)

    def test_create_errors(self):
        err = self.refused(SalesforceMalformedRequest, "REQUIRED_FIELD_MISSING", self.sf.Contact.create,
                           {"FirstName": "No last name"})
        self.assertEqual(err["fields"], ["LastName"])
        self.assertIn("Required fields are missing: [LastName]", err["message"])
        self.saved(self.sf.Contact.create(contact("py-dup-1")), "create")
        self.refused(SalesforceMalformedRequest, "DUPLICATE_VALUE", self.sf.Contact.create, contact("py-dup-1"))
        self.refused(SalesforceMalformedRequest, "MALFORMED_QUERY", self.sf.query, "SELEKT Id FROM Contact")
        self.refused(SalesforceMalformedRequest, "INVALID_FIELD", self.sf.query, "SELECT Nope__c FROM Contact")

    def test_query_and_query_all_paging(self):
        keys = [f"py-page-{i:03d}" for i in range(250)]
        self.seed(keys, LastName="PyPaging")
        soql = f"SELECT Id, {KEY} FROM Contact WHERE LastName = 'PyPaging' ORDER BY {KEY}"
        headers = {"Sforce-Query-Options": "batchSize=200"}
        first = self.sf.query(soql, headers=headers)  # GET query/?q=
        self.assertEqual(first["totalSize"], 250)
        self.assertIs(first["done"], False)
        self.assertEqual(len(first["records"]), 200)
        self.assertRegex(first["nextRecordsUrl"], rf"^{re.escape(DATA)}/query/[^/?]+$")
        more = self.sf.query_more(first["nextRecordsUrl"], identifier_is_url=True, headers=headers)
        self.assertIs(more["done"], True)
        self.assertEqual(len(more["records"]), 50)
        self.assertEqual([r[KEY] for r in first["records"] + more["records"]], keys)
        # The locator alone (query/{locator}).
        again = self.sf.query(soql, headers=headers)
        locator = again["nextRecordsUrl"].rsplit("/", 1)[1]
        self.assertEqual(len(self.sf.query_more(locator, headers=headers)["records"]), 50)
        # query_all follows nextRecordsUrl to the end.
        every = self.sf.query_all(soql, headers=headers)
        self.assertEqual([r[KEY] for r in every["records"]], keys)
        self.assertEqual(len(list(self.sf.query_all_iter(soql, headers=headers))), 250)
        # Default batch (2,000): one page.
        one = self.sf.query(soql)
        self.assertIs(one["done"], True)
        self.assertEqual(len(one["records"]), 250)

    def test_format_soql_quoting(self):
        # format_soql escapes quotes and backslashes (\\' and \\\\) and formats datetimes.
        name = "O'Brien \\ Sons"
        self.saved(self.sf.Contact.create(contact("py-quote-1", LastName=name)), "create")
        since = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        for soql in (format_soql("SELECT Id, LastName FROM Contact WHERE LastName = {}", name),
                     format_soql("SELECT Id, LastName FROM Contact WHERE LastName IN {} AND SystemModstamp > {}",
                                 [name, "nobody"], since),
                     format_soql("SELECT Id, LastName FROM Contact WHERE LastName LIKE '{:like}%'", "O'Brien \\")):
            got = self.sf.query(soql)
            self.assertEqual([r["LastName"] for r in got["records"]], [name], soql)

    def test_keyset_paging_by_systemmodstamp_and_id(self):
        # The connector's pull: (SystemModstamp, Id) after a cursor, ORDER BY both, LIMIT n.
        keys = [f"py-keyset-{i:03d}" for i in range(230)]
        self.seed(keys, LastName="PyKeyset")
        cursor = (datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc), "000000000000000AAA")
        seen = []
        for _ in range(10):
            soql = format_soql("SELECT Id, SystemModstamp, " + KEY + " FROM Contact WHERE LastName = 'PyKeyset' "
                               "AND (SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id > {id})) "
                               "ORDER BY SystemModstamp, Id LIMIT 100", stamp=cursor[0], id=cursor[1])
            page = self.sf.query(soql)["records"]
            if not page:
                break
            seen += [r[KEY] for r in page]
            last = page[-1]
            cursor = (datetime.datetime.strptime(last["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z"), last["Id"])
        self.assertEqual(sorted(seen), keys)
        self.assertEqual(len(seen), len(set(seen)))

    def test_update_if_unmodified_since(self):
        res = self.saved(self.sf.Contact.create(contact("py-ius-1")), "create")
        with self.assertRaises(SalesforceError) as caught:
            self.sf.Contact.update(res["id"], {"Phone": "stale"},
                                   headers={"If-Unmodified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})
        self.assertEqual(caught.exception.status, 412)
        self.assertIsNone(self.sf.Contact.get(res["id"])["Phone"])
        later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
        self.assertEqual(self.sf.Contact.update(res["id"], {"Phone": "fresh"}, headers={
            "If-Unmodified-Since": later.strftime("%a, %d %b %Y %H:%M:%S GMT")}), 204)

    def test_describe(self):
        d = self.sf.Contact.describe()
        self.assertEqual(d["name"], "Contact")
        fields = {f["name"]: f for f in d["fields"]}
        self.assertIs(fields["LastName"]["nillable"], False)
        self.assertIs(fields[KEY]["externalId"], True)
        self.assertIs(fields[KEY]["unique"], True)
        self.assertEqual(fields["Email"]["type"], "email")

    def test_parameterized_search(self):
        self.saved(self.sf.Contact.create(contact("py-search-1", LastName="Zebedee")), "create")
        res = self.sf.restful("parameterizedSearch/", params={"q": "Zebedee", "sobject": "Contact",
                                                              "Contact.fields": f"Id,LastName,{KEY}"})
        need(isinstance(res, dict) and isinstance(res.get("searchRecords"), list), f"parameterizedSearch: {res!r}")
        hits = [r for r in res["searchRecords"] if r.get(KEY) == "py-search-1"]
        self.assertEqual(len(hits), 1, res)
        self.assertEqual(hits[0]["attributes"]["type"], "Contact")

    def test_limits_and_api_usage(self):
        limits = self.sf.limits()  # GET limits/
        self.assertIsInstance(limits["DailyApiRequests"]["Max"], int)
        self.assertIsInstance(limits["DailyApiRequests"]["Remaining"], int)
        self.sf.query("SELECT Id FROM Contact LIMIT 1")
        usage = self.sf.api_usage.get("api-usage")
        need(usage is not None, "no Sforce-Limit-Info: api-usage=N/M header on a REST answer")
        self.assertEqual(usage.total, limits["DailyApiRequests"]["Max"])

    def test_duplicate_rule_and_allow_save(self):
        self.saved(self.sf.Contact.create(contact("py-duprule-1", Email="twin@example.com")), "create")
        control("/salesforce/duplicate-rule", {"on": True})
        try:
            self.refused(SalesforceMalformedRequest, "DUPLICATES_DETECTED", self.sf.Contact.create,
                         contact("py-duprule-2", Email="twin@example.com"))
            self.saved(self.sf.Contact.create(contact("py-duprule-2", Email="twin@example.com"),
                                              headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"}),
                       "create with allowSave=true")
        finally:
            control("/salesforce/duplicate-rule", {"on": False})

    def test_request_limit_exceeded(self):
        # Salesforce refuses with 403 REQUEST_LIMIT_EXCEEDED (no 429, no Retry-After).
        control("/rate-limit", {"salesforce": "5/1440m"})
        try:
            caught = None
            for _ in range(10):
                try:
                    self.sf.query("SELECT Id FROM Contact LIMIT 1")
                except SalesforceRefusedRequest as e:
                    caught = e
                    break
            need(caught is not None, "no 403 within 10 calls over a budget of 5")
            self.assertEqual(caught.status, 403)
            self.assertEqual(caught.content[0]["errorCode"], "REQUEST_LIMIT_EXCEEDED", caught.content)
            self.assertEqual(self.sf.api_usage["api-usage"].total, 5)
        finally:
            control("/rate-limit", {"salesforce": "100000/1440m"})  # the default budget
        self.sf.query("SELECT Id FROM Contact LIMIT 1")

    def test_expired_and_unknown_session(self):
        token = control("/tokens/issue")["access_token"]
        sf = client(token)
        sf.query("SELECT Id FROM Contact LIMIT 1")
        control("/tokens/expire", {"token": token})
        # simple-salesforce cannot refresh a session id: it raises with the error body.
        self.refused(SalesforceExpiredSession, "INVALID_SESSION_ID", sf.query, "SELECT Id FROM Contact LIMIT 1")
        self.refused(SalesforceExpiredSession, "INVALID_SESSION_ID", client("not-a-token").Contact.describe)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--crm", required=True, help="the emulator's CRM URL")
    p.add_argument("--control", required=True, help="the emulator's control URL")
    p.add_argument("--token", default="outpost-test-token")
    p.add_argument("-v", "--verbose", action="store_true")
    ARGS, rest = p.parse_known_args()
    for url in (ARGS.crm, ARGS.control):
        if not re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d+/?$", url):
            p.error(f"{url}: only loopback URLs")
    ARGS.crm, ARGS.control = ARGS.crm.rstrip("/"), ARGS.control.rstrip("/")
    print(f"simple-salesforce {metadata.version('simple-salesforce')} against {ARGS.crm}", flush=True)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2 if ARGS.verbose else 1)


if __name__ == "__main__":
    main()
