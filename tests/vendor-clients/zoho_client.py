"""Zoho's official Python SDK (zohocrmsdk8-0, pinned in requirements.txt)
against the CRM emulator's Zoho CRM v8 API.

The SDK is the strictest of the vendor clients: it refreshes its own access
token at the accounts URL, fetches the current user, the org and the
module's field metadata before the first record call, learns each field's
type from `GET /settings/fields` and refuses a response member of the wrong
JSON type (SDKException). It is initialised as a data centre of its own
(Environment(BASE, BASE + '/oauth/v2/token', BASE)), with a FileStore token
store and a resource path in a temporary directory.

Covered: create, upsert on the key field (insert, then update), get, a list
page with fields, search found and not found (204), update, a
mandatory-field error, and an access token expiring (short-lived, and
expired through the control API) that the SDK refreshes on its own. Driven by
crates/crm-emulator/tests/vendor_zoho.rs; by hand:

    python zoho_client.py --crm URL --control URL --client-id ID \
        --client-secret SECRET --refresh-token RT [-v]

Each test starts from POST /reset on the control port. Exit 0 when all pass.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.request
from importlib import metadata

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
from zohocrmsdk.src.com.zoho.api.logger import Logger
from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.record import (APIException, ActionWrapper, BodyWrapper, GetRecordsParam,
                                                    Record, RecordOperations, ResponseWrapper, SearchRecordsParam,
                                                    SuccessResponse)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

ARGS = None
TIMEOUT = 10  # seconds, control calls
KEY = "Outpost_Key"
MODULE = "Contacts"
TMP = None


# ------------------------------------------------------------------ helpers

def need(ok, message):
    """Like assert, but not switched off by python -O."""
    if not ok:
        raise AssertionError(message)


def control(path, body=None, method="POST"):
    """A call to the emulator's control port; returns its JSON."""
    data = None if method == "GET" else json.dumps(body if body is not None else {}).encode()
    req = urllib.request.Request(ARGS.control + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        return json.loads(r.read() or b"{}")


def init_sdk(token_file="tokens.txt"):
    """Initialises the SDK against the emulator as its data centre, with a
    token store of its own (a fresh file: the SDK mints on its first call)."""
    base = ARGS.crm
    env = DataCenter.Environment(base, base + "/oauth/v2/token", base)
    token = OAuthToken(client_id=ARGS.client_id, client_secret=ARGS.client_secret,
                       refresh_token=ARGS.refresh_token)
    store = FileStore(os.path.join(TMP, token_file))
    config = SDKConfig(auto_refresh_fields=False, pick_list_validation=False, update_api_domain=False,
                       connect_timeout=10, read_timeout=10)
    logger = Logger.get_instance(Logger.Levels.INFO, os.path.join(TMP, "sdk.log"))
    Initializer.initialize(environment=env, token=token, store=store, sdk_config=config,
                           resource_path=TMP, logger=logger)


def record(**fields):
    r = Record()
    for k, v in fields.items():
        r.add_key_value(k, v)
    return r


def write(op, records, check_fields=None):
    """Runs a write; returns (status, [SuccessResponse | APIException])."""
    body = BodyWrapper()
    body.set_data(records)
    if check_fields is not None:
        body.set_duplicate_check_fields(check_fields)
    ops = RecordOperations(MODULE)
    if op == "create":
        resp = ops.create_records(body, HeaderMap())
    elif op == "upsert":
        resp = ops.upsert_records(body, HeaderMap())
    else:
        resp = ops.update_records(body, HeaderMap())
    need(resp is not None, f"{op}: no response")
    obj = resp.get_object()
    need(isinstance(obj, ActionWrapper), f"{op}: {type(obj).__name__} {vars(obj)}")
    return resp.get_status_code(), obj.get_data()


def ok_one(status, results, want_status, message):
    need(status == want_status, f"status {status}, wanted {want_status}")
    need(len(results) == 1, f"{len(results)} results")
    r = results[0]
    need(isinstance(r, SuccessResponse), f"not a success: {type(r).__name__}")
    need(r.get_code().get_value() == "SUCCESS", f"code {r.get_code().get_value()}")
    need(r.get_message().get_value() == message, f"message {r.get_message().get_value()}")
    return r


def get_record(rid):
    resp = RecordOperations(MODULE).get_record(int(rid), ParameterMap(), HeaderMap())
    if resp.get_status_code() == 204:
        return None
    obj = resp.get_object()
    need(isinstance(obj, ResponseWrapper), f"get: {type(obj).__name__}")
    return obj.get_data()[0]


def create(**fields):
    status, results = write("create", [record(**fields)])
    r = ok_one(status, results, 201, "record added")
    return r.get_details()["id"]


# -------------------------------------------------------------------- tests

class ZohoSdk(unittest.TestCase):
    def setUp(self):
        control("/reset")

    def test_create_get_update(self):
        rid = create(Last_Name="Lovelace", First_Name="Ada", Email="ada@example.com", **{KEY: "k-1"})
        got = get_record(rid)
        need(got is not None, "created record not found")
        need(str(got.get_id()) == str(rid), f"id {got.get_id()}")
        need(got.get_key_value("Last_Name") == "Lovelace", "Last_Name")
        need(got.get_key_value(KEY) == "k-1", KEY)
        need(got.get_key_value("Modified_Time") is not None, "Modified_Time")
        up = record(Phone="555-0100")
        up.set_id(int(rid))
        status, results = write("update", [up])
        ok_one(status, results, 200, "record updated")
        need(get_record(rid).get_key_value("Phone") == "555-0100", "update not stored")
        need(get_record("4876876000000999999") is None, "unknown id answers 204")

    def test_upsert_on_key(self):
        status, results = write("upsert", [record(Last_Name="Up", **{KEY: "u-1"})], [KEY])
        first = ok_one(status, results, 200, "record added")
        need(first.get_action().get_value() == "insert", "first upsert inserts")
        status, results = write("upsert", [record(Last_Name="Up again", **{KEY: "u-1"})], [KEY])
        second = ok_one(status, results, 200, "record updated")
        need(second.get_action().get_value() == "update", "second upsert updates")
        need(second.get_duplicate_field() == KEY, f"duplicate_field {second.get_duplicate_field()}")
        need(first.get_details()["id"] == second.get_details()["id"], "same record")

    def test_list_page_with_fields(self):
        for n in range(3):
            create(Last_Name=f"L{n}", **{KEY: f"l-{n}"})
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Last_Name,Outpost_Key,Modified_Time")
        params.add(GetRecordsParam.per_page, 2)
        params.add(GetRecordsParam.sort_by, "Modified_Time")
        params.add(GetRecordsParam.sort_order, "asc")
        resp = RecordOperations(MODULE).get_records(params, HeaderMap())
        need(resp.get_status_code() == 200, f"status {resp.get_status_code()}")
        obj = resp.get_object()
        need(isinstance(obj, ResponseWrapper), type(obj).__name__)
        need(len(obj.get_data()) == 2, "two records on the page")
        info = obj.get_info()
        need(info.get_more_records() is True, "more records")
        token = info.get_next_page_token()
        need(token, "next_page_token")
        params = ParameterMap()
        params.add(GetRecordsParam.fields, "Last_Name")
        params.add(GetRecordsParam.page_token, token)
        resp = RecordOperations(MODULE).get_records(params, HeaderMap())
        need(len(resp.get_object().get_data()) == 1, "the rest by page_token")

    def test_search_found_and_not_found(self):
        rid = create(Last_Name="Searched", Email="found@example.com")
        params = ParameterMap()
        params.add(SearchRecordsParam.criteria, "(Email:equals:found@example.com)")
        resp = RecordOperations(MODULE).search_records(params, HeaderMap())
        need(resp.get_status_code() == 200, f"status {resp.get_status_code()}")
        data = resp.get_object().get_data()
        need([str(r.get_id()) for r in data] == [str(rid)], "found the record")
        params = ParameterMap()
        params.add(SearchRecordsParam.email, "nobody@example.com")
        resp = RecordOperations(MODULE).search_records(params, HeaderMap())
        need(resp.get_status_code() == 204, f"status {resp.get_status_code()}")

    def test_mandatory_field_error(self):
        status, results = write("create", [record(First_Name="No last name")])
        need(status == 400, f"status {status}")
        e = results[0]
        need(isinstance(e, APIException), type(e).__name__)
        need(e.get_code().get_value() == "MANDATORY_NOT_FOUND", e.get_code().get_value())
        need(e.get_details()["api_name"] == "Last_Name", str(e.get_details()))

    def test_expired_token_is_refreshed(self):
        # The SDK refreshes by its own clock (the token's expires_in, less 5 s);
        # a 401 INVALID_TOKEN does not make it refresh. So the emulator mints
        # 7-second tokens, the SDK starts over with an empty token store, and
        # once its token is within 5 s of expiry (and expired on the server
        # too) the next call must go through after one refresh.
        control("/zoho/settings", {"token_lifetime_s": 7})
        init_sdk("tokens-short.txt")
        create(Last_Name="Before")
        minted = control("/zoho/settings", method="GET")["tokens_minted"]
        time.sleep(2.5)
        control("/tokens/expire")
        rid = create(Last_Name="After")
        need(get_record(rid) is not None, "call after the refresh")
        after = control("/zoho/settings", method="GET")["tokens_minted"]
        need(after == minted + 1, f"minted {after - minted} tokens for one expiry")
        init_sdk("tokens-after-expiry.txt")

def main():
    global ARGS, TMP
    p = argparse.ArgumentParser()
    p.add_argument("--crm", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--refresh-token", required=True)
    p.add_argument("-v", action="store_true")
    ARGS = p.parse_args()
    print(f"zohocrmsdk8-0 {metadata.version('zohocrmsdk8-0')}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        TMP = tmp
        init_sdk()
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(ZohoSdk)
        result = unittest.TextTestRunner(verbosity=2 if ARGS.v else 1).run(suite)
        if not result.wasSuccessful():
            log = os.path.join(tmp, "sdk.log")
            if os.path.exists(log):
                with open(log) as f:
                    print(f.read()[-4000:], file=sys.stderr)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
