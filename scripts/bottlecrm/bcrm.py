#!/usr/bin/env python3
"""Helper for scripts/bottlecrm-up: API bootstrap, tokens and a self-check.

Runs with the BottleCRM venv's python and the environment from
$OUTPOST_BOTTLECRM_DIR/env.sh (scripts/bottlecrm-up and scripts/bottlecrm/token
arrange both). Standard library only. Progress goes to stderr; the one
machine-readable result goes to stdout as a JSON line.

  bcrm.py bootstrap                 user, org, client_uuid custom field, token (idempotent)
  bcrm.py token-new [--name N] [--scopes a,b]
  bcrm.py token-list
  bcrm.py token-revoke ID_OR_RAW_TOKEN
  bcrm.py org-new [--name N]        a fresh org (custom field, token) for one test run
  bcrm.py selfcheck
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

DIR = os.environ["OUTPOST_BOTTLECRM_DIR"]
URL = os.environ["OUTPOST_BOTTLECRM_URL"]
EMAIL = os.environ.get("OUTPOST_BOTTLECRM_EMAIL", "ci@example.com")
ORG_NAME = os.environ.get("OUTPOST_BOTTLECRM_ORG", "Outpost CI")
SCOPES = ["contacts:read", "contacts:write", "accounts:read", "accounts:write"]
STATE = os.path.join(DIR, "bootstrap.json")
TOKEN_FILE = os.path.join(DIR, "token")


def log(msg):
    print(f"bottlecrm: {msg}", file=sys.stderr, flush=True)


def die(msg, code=1):
    log(f"ERROR: {msg}")
    sys.exit(code)


def http(method, path, token=None, body=None, raw=None):
    """Returns (status, parsed JSON or text). Never raises on HTTP errors."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(URL + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    req.add_header("Connection", "close")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def load_state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save_state(state):
    tmp = STATE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, STATE)


def devlogin(org_id=None):
    """A JWT for the CI user, minted by BottleCRM's own `devlogin` command (DEBUG only,
    so DEBUG=True is set for this one process; the server itself runs DEBUG=False)."""
    cmd = [sys.executable, os.path.join(DIR, "app", "manage.py"), "devlogin", EMAIL]
    cmd += ["--org", org_id] if org_id else ["--create"]
    env = dict(os.environ, DEBUG="True")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    m = re.search(r"access_token:\s*(\S+)", p.stdout)
    if p.returncode != 0 or not m:
        die(f"devlogin failed (exit {p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    return m.group(1)


def expect(status, body, want, what):
    if status not in want:
        die(f"{what}: HTTP {status}: {str(body)[:1000]}")


def token_works(token):
    status, _ = http("GET", "/api/contacts/?limit=1", token=token)
    return status == 200


def org_jwt(state):
    return devlogin(state["org_id"])


def mint_token(jwt, name, scopes):
    status, body = http("POST", "/api/profile/tokens/", token=jwt, body={"name": name, "scopes": scopes})
    expect(status, body, (201,), "POST /api/profile/tokens/")
    return body


def create_key_field(jwt):
    """The filterable Contact.client_uuid custom field Outpost keeps its key in."""
    status, body = http("GET", "/api/custom-fields/?target_model=Contact", token=jwt)
    expect(status, body, (200,), "GET /api/custom-fields/")
    existing = [d for d in body.get("definitions", []) if d.get("key") == "client_uuid"]
    if existing:
        return existing[0].get("id")
    log("creating custom field Contact.client_uuid (filterable)")
    status, body = http("POST", "/api/custom-fields/", token=jwt, body={
        "target_model": "Contact", "key": "client_uuid", "label": "Client UUID",
        "field_type": "text", "is_filterable": True})
    expect(status, body, (200, 201), "POST /api/custom-fields/")
    return body.get("id")


def cmd_bootstrap(_args):
    state = load_state()
    jwt = None
    if not state.get("org_id"):
        log(f"creating user {EMAIL} and org '{ORG_NAME}'")
        unbound = devlogin()
        status, body = http("POST", "/api/org/", token=unbound, body={"name": ORG_NAME})
        expect(status, body, (200, 201), "POST /api/org/")
        state.update(email=EMAIL, org_id=body["org"]["id"], org_name=ORG_NAME)
        save_state(state)
    if not state.get("custom_field"):
        jwt = jwt or org_jwt(state)
        cf_id = create_key_field(jwt)
        state["custom_field"] = {"key": "client_uuid", "id": cf_id}
        save_state(state)
    token = None
    if os.path.exists(TOKEN_FILE):
        with open(TOKEN_FILE) as f:
            token = f.read().strip()
        if token and token_works(token):
            log("stored token still works; reusing it")
        else:
            log("stored token is refused; minting a new one")
            token = None
    if not token:
        jwt = jwt or org_jwt(state)
        body = mint_token(jwt, "outpost-ci", SCOPES)
        token = body["token"]
        fd = os.open(TOKEN_FILE + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        os.replace(TOKEN_FILE + ".tmp", TOKEN_FILE)
        state["token_id"] = body["id"]
        save_state(state)
        if not token_works(token):
            die("the new token is refused by GET /api/contacts/?limit=1")
    print(json.dumps({"org_id": state["org_id"], "token": token}))


def cmd_token_new(args):
    state = load_state()
    if not state.get("org_id"):
        die("not set up: run scripts/bottlecrm-up first")
    scopes = [s for s in args.scopes.split(",") if s] if args.scopes is not None else SCOPES
    body = mint_token(org_jwt(state), args.name, scopes)
    print(json.dumps({"id": body["id"], "token": body["token"], "scopes": body.get("scopes")}))


def cmd_org_new(args):
    """An org of the CI user with nothing in it but the key field: a test run
    that counts or pulls every contact gets a CRM of its own."""
    if not load_state().get("org_id"):
        die("not set up: run scripts/bottlecrm-up first")
    name = args.name or f"Outpost test {uuid.uuid4().hex[:8]}"
    status, body = http("POST", "/api/org/", token=devlogin(), body={"name": name})
    expect(status, body, (200, 201), "POST /api/org/")
    org_id = body["org"]["id"]
    jwt = devlogin(org_id)
    create_key_field(jwt)
    token = mint_token(jwt, "outpost-test", SCOPES)["token"]
    print(json.dumps({"org_id": org_id, "name": name, "token": token}))


def list_tokens(jwt):
    status, body = http("GET", "/api/profile/tokens/", token=jwt)
    expect(status, body, (200,), "GET /api/profile/tokens/")
    return body["tokens"]


def cmd_token_list(_args):
    state = load_state()
    for t in list_tokens(org_jwt(state)):
        print(json.dumps(t))


def cmd_token_revoke(args):
    state = load_state()
    jwt = org_jwt(state)
    target = args.token
    if target.startswith("bcrm_pat_"):
        matches = [t for t in list_tokens(jwt)
                   if t.get("token_prefix") and target.startswith(t["token_prefix"])]
        if len(matches) != 1:
            die(f"{len(matches)} tokens match that token's prefix; revoke by id (token-list)")
        target = matches[0]["id"]
    status, body = http("DELETE", f"/api/profile/tokens/{target}/", token=jwt)
    expect(status, body, (200,), f"DELETE /api/profile/tokens/{target}/")
    print(json.dumps({"revoked": target}))


def cmd_selfcheck(_args):
    with open(TOKEN_FILE) as f:
        token = f.read().strip()
    results = []
    failed = False

    def check(name, ok, detail):
        nonlocal failed
        failed |= not ok
        results.append((name, ok, detail))
        log(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")

    cu = str(uuid.uuid4())
    email = f"selfcheck-{cu[:8]}@example.com"
    t0 = time.monotonic()
    status, body = http("POST", "/api/contacts/", token=token, body={
        "first_name": "Self", "last_name": "Check", "email": email, "phone": "+1 415 555 0100",
        "custom_fields": {"client_uuid": cu}})
    ms = (time.monotonic() - t0) * 1000
    cid = body.get("id") if isinstance(body, dict) else None
    check("create contact -> 200 with id", status == 200 and bool(cid), f"HTTP {status} {json.dumps(body)[:160]} ({ms:.0f} ms)")

    status, body = http("GET", f"/api/contacts/?cf_client_uuid={cu}", token=token)
    ids = [r.get("id") for r in body.get("results", [])] if isinstance(body, dict) else []
    check("find by ?cf_client_uuid=", status == 200 and ids == [cid], f"HTTP {status} count={body.get('count') if isinstance(body, dict) else '?'} ids={ids}")

    if cid:
        status, body = http("GET", f"/api/contacts/{cid}/", token=token)
        got = body.get("contact_obj", {}).get("custom_fields", {}) if isinstance(body, dict) else {}
        check("get by id returns custom_fields.client_uuid", status == 200 and got.get("client_uuid") == cu, f"HTTP {status} custom_fields={got}")

    status, body = http("GET", "/api/contacts/?limit=1", token="bcrm_pat_not-a-real-token")
    check("bad token -> 403", status == 403, f"HTTP {status} {json.dumps(body)[:160]}")

    status, body = http("POST", "/api/contacts/", token=token, body={
        "first_name": "Bad", "last_name": "Email", "email": "not-an-email"})
    check("invalid email -> 400", status == 400, f"HTTP {status} {json.dumps(body)[:200]}")

    status, body = http("POST", "/api/contacts/", token=token, body={
        "first_name": "Dup", "last_name": "Email", "email": email.upper()})
    check("duplicate email (other case) -> 400", status == 400, f"HTTP {status} {json.dumps(body)[:200]}")

    if cid:
        status, body = http("DELETE", f"/api/contacts/{cid}/", token=token)
        check("delete contact -> 200", status == 200, f"HTTP {status} {json.dumps(body)[:120]}")

    passed = sum(1 for r in results if r[1])
    print(json.dumps({"selfcheck": "ok" if not failed else "failed", "passed": passed, "total": len(results)}))
    sys.exit(1 if failed else 0)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("bootstrap").set_defaults(fn=cmd_bootstrap)
    n = sub.add_parser("token-new")
    n.add_argument("--name", default="outpost-extra")
    n.add_argument("--scopes", default=None, help="comma-separated; default: contacts/accounts read+write")
    n.set_defaults(fn=cmd_token_new)
    sub.add_parser("token-list").set_defaults(fn=cmd_token_list)
    r = sub.add_parser("token-revoke")
    r.add_argument("token", help="token id (uuid) or the raw bcrm_pat_ token")
    r.set_defaults(fn=cmd_token_revoke)
    sub.add_parser("selfcheck").set_defaults(fn=cmd_selfcheck)
    o = sub.add_parser("org-new")
    o.add_argument("--name", default=None)
    o.set_defaults(fn=cmd_org_new)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
