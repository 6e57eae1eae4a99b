//! Dataverse Web API emulation, end to end over loopback.

mod common;

use std::time::Duration;

use common::{client, start, start_with};
use crm_emulator::api::dynamics::KeyStatus;
use crm_emulator::crm_user::Target;
use crm_emulator::{Config, Emulator, ErrorKind, Faults, RateLimit};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "/api/data/v9.2";

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

async fn call(
    emu: &Emulator,
    m: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let c = client();
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", emu.crm_url())
    };
    let mut r = c.request(m, url).bearer_auth(emu.token());
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer {
        status,
        headers,
        body,
    }
}

async fn token(emu: &Emulator, form: &[(&str, &str)]) -> (u16, Value) {
    common::json(
        client()
            .post(format!("{}/tenant-1/oauth2/v2.0/token", emu.crm_url()))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn guid_of(entity_id: &str) -> String {
    let start = entity_id.rfind('(').unwrap() + 1;
    entity_id[start..entity_id.len() - 1].to_string()
}

async fn create(emu: &Emulator, body: Value) -> String {
    let a = call(emu, Method::POST, &format!("{V}/contacts"), &[], Some(body)).await;
    assert_eq!(a.status, 204, "{:?}", a.body);
    guid_of(a.header("odata-entityid").unwrap())
}

#[tokio::test]
async fn entra_token_whoami_and_expiry() {
    let emu = start().await;
    let cfg = emu.config().clone();
    let good = [
        ("grant_type", "client_credentials"),
        ("client_id", cfg.oauth_client_id.as_str()),
        ("client_secret", cfg.oauth_client_secret.as_str()),
        ("scope", "https://org.crm.dynamics.com/.default"),
    ];
    let (s, t) = token(&emu, &good).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 1800);
    assert_eq!(t["ext_expires_in"], 1800);
    let access = t["access_token"].as_str().unwrap().to_string();

    let mut bad = good;
    bad[2].1 = "wrong";
    let (s, e) = token(&emu, &bad).await;
    assert_eq!(s, 401, "Entra answers a wrong secret with 401");
    assert_eq!(e["error"], "invalid_client");
    assert_eq!(e["error_codes"], json!([7000215]));
    assert!(e["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS7000215: Invalid client secret provided."));
    let mut bad = good;
    bad[3].1 = "https://org.crm.dynamics.com/user_impersonation";
    let (s, e) = token(&emu, &bad).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_scope")));
    assert_eq!(e["error_codes"], json!([70011]));
    let mut bad = good;
    bad[0].1 = "password";
    let (s, e) = token(&emu, &bad).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );

    let who = |tok: String| {
        let url = format!("{}{V}/WhoAmI", emu.crm_url());
        async move {
            let r = client().get(url).bearer_auth(tok).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let (s, w) = who(access.clone()).await;
    assert_eq!(s, 200, "{w}");
    for k in ["UserId", "BusinessUnitId", "OrganizationId"] {
        assert!(w[k].as_str().unwrap().len() == 36, "{k}: {w}");
    }
    emu.expire_tokens(Some(&access));
    let (s, e) = who(access).await;
    assert_eq!(s, 401);
    assert!(
        e["error"]["code"].as_str().unwrap().starts_with("0x"),
        "{e}"
    );
    let (s, _) = who("nonsense".into()).await;
    assert_eq!(s, 401);
    // Unknown versions are not the Web API.
    let a = call(&emu, Method::GET, "/api/data/v8.0/WhoAmI", &[], None).await;
    assert_eq!(a.status, 404);
    assert!(a.body["error"]["message"].is_string());
}

#[tokio::test]
async fn entra_takes_the_client_in_http_basic_too() {
    let emu = start().await;
    let cfg = emu.config().clone();
    let basic = |secret: &str| {
        client()
            .post(format!("{}/tenant-1/oauth2/v2.0/token", emu.crm_url()))
            .basic_auth(&cfg.oauth_client_id, Some(secret.to_owned()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "https://org.crm.dynamics.com/.default"),
            ])
            .send()
    };
    let (s, t) = common::json(basic(&cfg.oauth_client_secret).await.unwrap()).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    let (s, e) = common::json(basic("wrong").await.unwrap()).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    assert_eq!(e["error_codes"], json!([7000215]));
}

#[tokio::test]
async fn create_get_upsert_preconditions_delete() {
    let emu = start().await;
    let id = create(
        &emu,
        json!({"firstname": "Ann", "lastname": "Lee", "emailaddress1": "ann@example.com",
               "outpost_key": "k1", "preferredcontactmethodcode": 2}),
    )
    .await;
    // With return=representation: 201, the row, no OData-EntityId.
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/contacts"),
        &[("Prefer", "return=representation")],
        Some(json!({"lastname": "Bo"})),
    )
    .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    assert!(a.header("odata-entityid").is_none());
    assert_eq!(a.body["lastname"], "Bo");
    assert!(a.body["@odata.etag"].as_str().unwrap().starts_with("W/\""));

    let a = call(
        &emu,
        Method::GET,
        &format!("{V}/contacts({id})?$select=firstname,lastname"),
        &[],
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["firstname"], "Ann");
    assert_eq!(a.body["contactid"], id);
    assert!(a.body.get("emailaddress1").is_none(), "{:?}", a.body);
    let etag = a.body["@odata.etag"].as_str().unwrap().to_string();
    let a = call(
        &emu,
        Method::GET,
        &format!("{V}/contacts(outpost_key='k1')"),
        &[],
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.body["contactid"].as_str()),
        (200, Some(id.as_str()))
    );
    assert_eq!(a.body["preferredcontactmethodcode"], 2);

    // Upsert by key: update (204 + OData-EntityId), then create.
    let k1 = format!("{V}/contacts(outpost_key='k1')");
    let a = call(
        &emu,
        Method::PATCH,
        &k1,
        &[],
        Some(json!({"telephone1": "123"})),
    )
    .await;
    assert_eq!(a.status, 204);
    assert_eq!(guid_of(a.header("odata-entityid").unwrap()), id);
    let k2 = format!("{V}/contacts(outpost_key='it''s%20k2')");
    let a = call(
        &emu,
        Method::PATCH,
        &k2,
        &[],
        Some(json!({"lastname": "New"})),
    )
    .await;
    assert_eq!(a.status, 204);
    let id2 = guid_of(a.header("odata-entityid").unwrap());
    let rec = emu.records().into_iter().find(|r| r.id == id2).unwrap();
    assert_eq!(
        (rec.api.as_str(), rec.key.as_deref()),
        ("dynamics", Some("it's k2"))
    );
    // Repeat is idempotent.
    let a = call(
        &emu,
        Method::PATCH,
        &k2,
        &[],
        Some(json!({"lastname": "New"})),
    )
    .await;
    assert_eq!(guid_of(a.header("odata-entityid").unwrap()), id2);

    // Preconditions.
    let a = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts(outpost_key='nope')"),
        &[("If-Match", "*")],
        Some(json!({"lastname": "X"})),
    )
    .await;
    assert_eq!(a.status, 404, "{:?}", a.body);
    let a = call(
        &emu,
        Method::PATCH,
        &k1,
        &[("If-None-Match", "*")],
        Some(json!({"lastname": "X"})),
    )
    .await;
    assert_eq!(a.status, 412);
    assert_eq!(
        a.message(),
        "A record with matching key values already exists."
    );
    let a = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts({id})"),
        &[("If-Match", &etag)],
        Some(json!({"lastname": "X"})),
    )
    .await;
    assert_eq!(
        a.status, 412,
        "etag {etag} is stale after the telephone update"
    );
    assert_eq!(
        a.message(),
        "The version of the existing record doesn't match the RowVersion property provided."
    );
    let cur = call(&emu, Method::GET, &format!("{V}/contacts({id})"), &[], None).await;
    let etag = cur.body["@odata.etag"].as_str().unwrap().to_string();
    let a = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts({id})"),
        &[("If-Match", &etag), ("Prefer", "return=representation")],
        Some(json!({"lastname": "Lee-Smith"})),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["lastname"], "Lee-Smith");
    assert_ne!(a.body["@odata.etag"].as_str().unwrap(), etag);

    // Delete.
    let a = call(
        &emu,
        Method::DELETE,
        &format!("{V}/contacts({id})"),
        &[],
        None,
    )
    .await;
    assert_eq!(a.status, 204);
    let a = call(&emu, Method::GET, &format!("{V}/contacts({id})"), &[], None).await;
    assert_eq!(a.status, 404);
    assert_eq!(
        a.message(),
        format!("contact With Id = {id} Does Not Exist")
    );
}

#[tokio::test]
async fn validation_errors_name_the_column() {
    let emu = start().await;
    let url = format!("{V}/contacts");
    let post = |body: Value| call(&emu, Method::POST, &url, &[], Some(body));
    let a = post(json!({"lastname": "L", "nickname": "x"})).await;
    assert_eq!((a.status, a.code()), (400, "0x80060888"));
    assert_eq!(
        a.message(),
        "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.contact'."
    );
    let a = post(json!({"lastname": "L", "firstname": "x".repeat(51)})).await;
    assert_eq!(a.status, 400);
    assert!(
        a.message().contains("'firstname'") && a.message().contains("50"),
        "{}",
        a.message()
    );
    let a = post(json!({"firstname": "No last name"})).await;
    assert_eq!(a.status, 400);
    assert!(a.message().contains("'lastname'"), "{}", a.message());
    // firstname is ApplicationRequired: not enforced by the Web API.
    let a = post(json!({"lastname": "Only"})).await;
    assert_eq!(a.status, 204);
    let a = post(json!({"lastname": "L", "preferredcontactmethodcode": 9})).await;
    assert_eq!(a.status, 400);
    assert!(
        a.message().contains("'preferredcontactmethodcode'"),
        "{}",
        a.message()
    );
    let a = post(json!({"lastname": 5})).await;
    assert_eq!(a.status, 400);
    let a = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts(outpost_key='v')"),
        &[],
        Some(json!({"lastname": null})),
    )
    .await;
    assert_eq!(a.status, 400, "an upsert that creates needs lastname too");
    assert!(emu.records().iter().all(|r| r.key.as_deref() != Some("v")));
}

#[tokio::test]
async fn duplicate_detection_is_opt_in_twice() {
    let emu = start().await;
    create(
        &emu,
        json!({"lastname": "A", "emailaddress1": "dup@example.com"}),
    )
    .await;
    let ask = [("MSCRM.SuppressDuplicateDetection", "false")];
    let body = json!({"lastname": "B", "emailaddress1": "DUP@example.com"});
    // Off in the org: the header alone does nothing.
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/contacts"),
        &ask,
        Some(body.clone()),
    )
    .await;
    assert_eq!(a.status, 204);
    emu.set_dynamics_duplicate_detection(true, None);
    // On in the org, but the request does not ask.
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/contacts"),
        &[],
        Some(body.clone()),
    )
    .await;
    assert_eq!(a.status, 204);
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/contacts"),
        &ask,
        Some(body.clone()),
    )
    .await;
    assert_eq!((a.status, a.code()), (412, "0x80040333"));
    assert_eq!(a.message(), "A record was not created or updated because a duplicate of the current record already exists.");
    // The status is switchable to 500 from the control API.
    let r = client()
        .post(format!(
            "{}/dynamics/duplicate-detection",
            emu.control_url()
        ))
        .json(&json!({"on": true, "status": 500}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/contacts"),
        &ask,
        Some(body),
    )
    .await;
    assert_eq!(a.status, 500);
}

#[tokio::test]
async fn key_status_and_removal() {
    let emu = start().await;
    let keys = format!("{V}/EntityDefinitions(LogicalName='contact')/Keys");
    let a = call(&emu, Method::GET, &keys, &[], None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["value"][0]["KeyAttributes"], json!(["outpost_key"]));
    assert_eq!(a.body["value"][0]["EntityKeyIndexStatus"], "Active");
    emu.set_dynamics_key_status(Some(KeyStatus::Pending));
    let a = call(&emu, Method::GET, &keys, &[], None).await;
    assert_eq!(a.body["value"][0]["EntityKeyIndexStatus"], "Pending");
    let up = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts(outpost_key='a')"),
        &[],
        Some(json!({"lastname": "L"})),
    )
    .await;
    assert_eq!(up.status, 400);
    let r = client()
        .post(format!("{}/dynamics/key/remove", emu.control_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a = call(&emu, Method::GET, &keys, &[], None).await;
    assert_eq!(a.body["value"], json!([]));
    let up = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts(outpost_key='a')"),
        &[],
        Some(json!({"lastname": "L"})),
    )
    .await;
    assert_eq!(up.status, 400);
    assert!(up.message().contains("outpost_key"), "{}", up.message());
}

#[tokio::test]
async fn attribute_and_picklist_metadata() {
    let emu = start().await;
    let a = call(
        &emu,
        Method::GET,
        &format!("{V}/EntityDefinitions(LogicalName='contact')/Attributes?$select=LogicalName,RequiredLevel,AttributeType,MaxLength"),
        &[],
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    let attrs = a.body["value"].as_array().unwrap();
    let by = |n: &str| {
        attrs
            .iter()
            .find(|x| x["LogicalName"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by("lastname")["RequiredLevel"]["Value"], "SystemRequired");
    assert_eq!(
        by("firstname")["RequiredLevel"]["Value"],
        "ApplicationRequired"
    );
    assert_eq!(by("emailaddress1")["RequiredLevel"]["Value"], "None");
    assert_eq!(by("emailaddress1")["MaxLength"], 100);
    assert_eq!(by("address1_line1")["MaxLength"], 250);
    assert_eq!(
        by("preferredcontactmethodcode")["AttributeType"],
        "Picklist"
    );
    assert!(
        by("lastname").get("DisplayName").is_none(),
        "$select applies"
    );
    let a = call(
        &emu,
        Method::GET,
        &format!("{V}/EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet"),
        &[],
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    let p = &a.body["value"][0];
    assert_eq!(p["LogicalName"], "preferredcontactmethodcode");
    assert_eq!(p["OptionSet"]["Options"][1]["Value"], 2);
    assert_eq!(
        p["OptionSet"]["Options"][1]["Label"]["UserLocalizedLabel"]["Label"],
        "Email"
    );
}

async fn page(emu: &Emulator, url: &str, size: u32, extra: &[(&str, &str)]) -> Answer {
    let pref = format!("odata.maxpagesize={size}");
    let mut headers = vec![("Prefer", pref.as_str())];
    headers.extend_from_slice(extra);
    call(emu, Method::GET, url, &headers, None).await
}

#[tokio::test]
async fn query_pages_and_strict_filter() {
    let emu = start().await;
    let records = (0..7)
        .map(|n| {
            std::collections::BTreeMap::from([
                ("lastname".to_string(), format!("L{n}")),
                ("emailaddress1".to_string(), format!("p{n}@example.com")),
                (
                    "company".to_string(),
                    if n % 2 == 0 {
                        "Even Shop".into()
                    } else {
                        "Odd O'Shop".into()
                    },
                ),
            ])
        })
        .collect();
    emu.seed_dynamics(records);
    let url = format!("{V}/contacts?$select=lastname,modifiedon&$filter=modifiedon gt 2000-01-01T00:00:00Z&$orderby=modifiedon asc,contactid asc");
    let mut next = Some(url);
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(u) = next {
        let a = page(&emu, &u, 3, &[]).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert_eq!(a.header("preference-applied"), Some("odata.maxpagesize=3"));
        for r in a.body["value"].as_array().unwrap() {
            seen.push(r["contactid"].as_str().unwrap().to_string());
        }
        next = a.body["@odata.nextLink"].as_str().map(str::to_string);
        if let Some(n) = &next {
            assert!(n.contains("$skiptoken="), "{n}");
        }
        pages += 1;
    }
    assert_eq!((pages, seen.len()), (3, 7));
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "same modifiedon: ordered by contactid");

    let q = |f: &str| {
        format!(
            "{V}/contacts?$select=lastname&$filter={}",
            f.replace(' ', "%20").replace('\'', "%27")
        )
    };
    let a = page(&emu, &q("contains(company,'O''Shop')"), 50, &[]).await;
    assert_eq!(a.body["value"].as_array().unwrap().len(), 3, "{:?}", a.body);
    let a = page(
        &emu,
        &q("startswith(emailaddress1,'p1') or lastname eq 'L2'"),
        50,
        &[],
    )
    .await;
    assert_eq!(a.body["value"].as_array().unwrap().len(), 2);
    let cursor = format!("(modifiedon eq 2000-01-01T00:00:00Z and contactid gt {}) or modifiedon gt 2000-01-01T00:00:00Z", seen[0]);
    let a = page(&emu, &q(&cursor), 50, &[]).await;
    assert_eq!(a.body["value"].as_array().unwrap().len(), 7);
    for bad in [
        "lastname ne 'x'",
        "endswith(lastname,'x')",
        "modifiedon ge 2000-01-01T00:00:00Z",
        "lastname eq 'x",
    ] {
        let a = page(&emu, &q(bad), 50, &[]).await;
        assert_eq!((a.status, a.code()), (400, "0x80060888"), "{bad}");
        assert!(a.message().contains("syntax error"), "{}", a.message());
    }
}

#[tokio::test]
async fn change_tracking_delta_links() {
    let emu = start().await;
    let a_id = create(&emu, json!({"lastname": "A", "outpost_key": "a"})).await;
    let b_id = create(&emu, json!({"lastname": "B", "outpost_key": "b"})).await;
    let url = format!("{V}/contacts?$select=lastname");
    let a = page(&emu, &url, 1, &[("Prefer", "odata.track-changes")]).await;
    assert!(
        a.body.get("@odata.deltaLink").is_none(),
        "only the last page has it"
    );
    let second = page(
        &emu,
        a.body["@odata.nextLink"].as_str().unwrap(),
        1,
        &[("Prefer", "odata.track-changes")],
    )
    .await;
    let delta = second.body["@odata.deltaLink"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(delta.contains("$deltatoken="), "{delta}");
    // A person edits one, deletes the other, and a third is created.
    assert!(emu
        .edit_as_crm_user(
            &Target::dynamics("a"),
            &json!({"telephone1": "9"}).as_object().unwrap().clone()
        )
        .unwrap());
    assert!(emu
        .delete_as_crm_user(&Target::dynamics(&b_id).by("contactid"))
        .unwrap());
    create(&emu, json!({"lastname": "C"})).await;
    let d = call(&emu, Method::GET, &delta, &[], None).await;
    assert_eq!(d.status, 200, "{:?}", d.body);
    let v = d.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 3, "{v:?}");
    assert_eq!(v[0]["contactid"], a_id);
    let gone = v.iter().find(|x| x["reason"] == "deleted").unwrap();
    assert_eq!(gone["id"], b_id);
    assert!(gone["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("$deletedEntity"));
    let again = call(
        &emu,
        Method::GET,
        d.body["@odata.deltaLink"].as_str().unwrap(),
        &[],
        None,
    )
    .await;
    assert_eq!(again.body["value"], json!([]));
    emu.set_dynamics_change_tracking(false);
    let off = page(&emu, &url, 5, &[("Prefer", "odata.track-changes")]).await;
    assert_eq!(off.status, 400);
    assert!(off.message().contains("Change tracking is not enabled"));
}

fn batch_body(boundary: &str, parts: &[String]) -> String {
    let mut s = String::new();
    for p in parts {
        s.push_str(&format!("--{boundary}\r\n{p}\r\n"));
    }
    s.push_str(&format!("--{boundary}--\r\n"));
    s
}

fn op(method: &str, url: &str, body: Option<Value>, id: Option<u32>) -> String {
    let cid = id
        .map(|i| format!("Content-ID: {i}\r\n"))
        .unwrap_or_default();
    let body = body
        .map(|b| format!("Content-Type: application/json\r\n\r\n{b}"))
        .unwrap_or_else(|| "\r\n".into());
    format!("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n{cid}\r\n{method} {url} HTTP/1.1\r\n{body}")
}

async fn post_batch(
    emu: &Emulator,
    body: String,
    continue_on_error: bool,
) -> (u16, String, String) {
    let mut r = client()
        .post(format!("{}{V}/$batch", emu.crm_url()))
        .bearer_auth(emu.token())
        .header("Content-Type", "multipart/mixed;boundary=batch_x")
        .body(body);
    if continue_on_error {
        r = r.header("Prefer", "odata.continue-on-error");
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

#[tokio::test]
async fn batch_operations_change_sets_and_continue_on_error() {
    let emu = start().await;
    let base = format!("{}{V}", emu.crm_url());
    let good = |k: &str| {
        op(
            "PATCH",
            &format!("{base}/contacts(outpost_key='{k}')"),
            Some(json!({"lastname": k})),
            None,
        )
    };
    let bad = op(
        "PATCH",
        &format!("{base}/contacts(outpost_key='bad')"),
        Some(json!({"lastname": "x", "nosuch": 1})),
        None,
    );
    // continue-on-error: the bad one fails, the others land.
    let (s, ct, text) = post_batch(
        &emu,
        batch_body("batch_x", &[good("b1"), bad.clone(), good("b2")]),
        true,
    )
    .await;
    assert_eq!(s, 200, "{text}");
    assert!(
        ct.starts_with("multipart/mixed; boundary=batchresponse_"),
        "{ct}"
    );
    assert_eq!(text.matches("HTTP/1.1 204 No Content").count(), 2, "{text}");
    assert_eq!(
        text.matches("HTTP/1.1 400 Bad Request").count(),
        1,
        "{text}"
    );
    assert!(text.contains("OData-EntityId: "), "{text}");
    assert!(
        text.contains("Could not find a property named 'nosuch'"),
        "{text}"
    );
    let keys: Vec<String> = emu.records().into_iter().filter_map(|r| r.key).collect();
    assert!(keys.contains(&"b1".into()) && keys.contains(&"b2".into()));
    // Without it the batch stops at the first failure.
    let (_, _, text) = post_batch(
        &emu,
        batch_body("batch_x", &[good("c1"), bad.clone(), good("c2")]),
        false,
    )
    .await;
    assert_eq!(text.matches("HTTP/1.1").count(), 2, "{text}");
    assert!(!emu.records().iter().any(|r| r.key.as_deref() == Some("c2")));
    // A change set is atomic.
    let cs = |ops: &[String]| {
        format!(
            "Content-Type: multipart/mixed;boundary=changeset_y\r\n\r\n{}",
            batch_body("changeset_y", ops)
        )
    };
    let ok_set = cs(&[
        op(
            "POST",
            &format!("{base}/contacts"),
            Some(json!({"lastname": "S1", "outpost_key": "s1"})),
            Some(1),
        ),
        op(
            "POST",
            &format!("{base}/contacts"),
            Some(json!({"lastname": "S2", "outpost_key": "s2"})),
            Some(2),
        ),
    ]);
    let bad_set = cs(&[
        op(
            "POST",
            &format!("{base}/contacts"),
            Some(json!({"lastname": "T1", "outpost_key": "t1"})),
            Some(1),
        ),
        op(
            "PATCH",
            &format!("{base}/contacts(outpost_key='s1')"),
            Some(json!({"lastname": "changed"})),
            Some(2),
        ),
        op(
            "POST",
            &format!("{base}/contacts"),
            Some(json!({"firstname": "no lastname"})),
            Some(3),
        ),
    ]);
    let (_, _, text) = post_batch(&emu, batch_body("batch_x", &[ok_set, bad_set]), true).await;
    assert!(text.contains("boundary=changesetresponse_"), "{text}");
    assert!(text.contains("Content-ID: 2"), "{text}");
    assert_eq!(text.matches("HTTP/1.1 204").count(), 2, "{text}");
    assert_eq!(text.matches("HTTP/1.1 400").count(), 1, "{text}");
    let recs = emu.records();
    assert!(recs.iter().any(|r| r.key.as_deref() == Some("s1")));
    assert!(
        !recs.iter().any(|r| r.key.as_deref() == Some("t1")),
        "rolled back"
    );
    let s1 = recs
        .iter()
        .find(|r| r.key.as_deref() == Some("s1"))
        .unwrap();
    assert_eq!(s1.record["lastname"], "S1", "the update was rolled back");
    // Relative URLs and GETs at the top level.
    let (_, _, text) = post_batch(
        &emu,
        batch_body(
            "batch_x",
            &[op(
                "GET",
                "contacts(outpost_key='s1')?$select=lastname",
                None,
                None,
            )],
        ),
        false,
    )
    .await;
    assert!(
        text.contains("HTTP/1.1 200 OK") && text.contains("\"lastname\":\"S1\""),
        "{text}"
    );
    // More than 1,000 operations: 400.
    let many: Vec<String> = (0..1001).map(|n| good(&format!("m{n}"))).collect();
    let (s, _, text) = post_batch(&emu, batch_body("batch_x", &many), true).await;
    assert_eq!(s, 400, "{text}");
}

#[tokio::test]
async fn service_protection_limits() {
    let emu = start_with(Config {
        dynamics_rate_limit: Some(RateLimit {
            max: 5,
            window: Duration::from_secs(300),
        }),
        ..Config::unlimited()
    })
    .await;
    let who = format!("{V}/WhoAmI");
    let a = call(&emu, Method::GET, &who, &[], None).await;
    assert_eq!(
        a.header("x-ms-ratelimit-burst-remaining-xrm-requests"),
        Some("4")
    );
    assert_eq!(
        a.header("x-ms-ratelimit-time-remaining-xrm-requests"),
        Some("1199900")
    );
    // A batch of 3 operations costs 4 (the envelope plus each operation).
    let base = format!("{}{V}", emu.crm_url());
    let ops: Vec<String> = (0..3)
        .map(|_| op("GET", &format!("{base}/WhoAmI"), None, None))
        .collect();
    let (s, _, _) = post_batch(&emu, batch_body("batch_x", &ops), false).await;
    assert_eq!(s, 200);
    let a = call(&emu, Method::GET, &who, &[], None).await;
    assert_eq!(a.status, 429, "{:?}", a.body);
    assert_eq!(a.code(), "0x80072322");
    assert_eq!(
        a.message(),
        "Number of requests exceeded the limit of 5 over time window of 300 seconds."
    );
    let secs: u64 = a.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=300).contains(&secs));
    assert_eq!(
        a.header("x-ms-ratelimit-burst-remaining-xrm-requests"),
        Some("0")
    );
}

#[tokio::test]
async fn faults_use_the_dataverse_shape() {
    let emu = start().await;
    emu.set_faults(Faults {
        error_rate: 1.0,
        error_kinds: vec![ErrorKind::Unavailable],
        ..Faults::default()
    });
    let a = call(&emu, Method::GET, &format!("{V}/WhoAmI"), &[], None).await;
    assert_eq!(a.status, 503);
    assert!(a.code().starts_with("0x"), "{:?}", a.body);
    emu.set_faults(Faults {
        error_rate: 1.0,
        error_kinds: vec![ErrorKind::TooManyRequests],
        ..Faults::default()
    });
    let a = call(&emu, Method::GET, &format!("{V}/WhoAmI"), &[], None).await;
    assert_eq!((a.status, a.code()), (429, "0x80072322"));
    assert!(a.header("retry-after").is_some());
    emu.clear_faults();
    let a = call(&emu, Method::GET, &format!("{V}/nosuchset"), &[], None).await;
    assert_eq!(a.status, 404);
    assert!(a.body["error"]["message"].is_string());
    assert_eq!(emu.count("GET /api/data/{version}/WhoAmI", 200), 0);
    assert_eq!(emu.count("GET /api/data/{version}/WhoAmI", 503), 1);
    // Drop after commit: the upsert is stored, the client sees a reset.
    emu.set_faults(Faults {
        drop_after_commit_rate: 1.0,
        ..Faults::default()
    });
    let sent = client()
        .patch(format!(
            "{}{V}/contacts(outpost_key='dropped')",
            emu.crm_url()
        ))
        .bearer_auth(emu.token())
        .json(&json!({"lastname": "D"}))
        .send()
        .await;
    assert!(sent.is_err(), "{sent:?}");
    emu.clear_faults();
    assert!(emu
        .records()
        .iter()
        .any(|r| r.key.as_deref() == Some("dropped")));
    assert_eq!(
        emu.count_outcome("PATCH /api/data/{version}/{record}", "dropped_after_commit"),
        1
    );
}

#[tokio::test]
async fn contacts_survive_a_restart_with_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let cfg = Config {
        state: Some(state.clone()),
        ..Config::unlimited()
    };
    let emu = start_with(cfg.clone()).await;
    let id = create(&emu, json!({"lastname": "Kept", "outpost_key": "p1"})).await;
    emu.shutdown().await;
    let emu = start_with(cfg).await;
    let a = call(
        &emu,
        Method::GET,
        &format!("{V}/contacts(outpost_key='p1')"),
        &[],
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.body["contactid"].as_str()),
        (200, Some(id.as_str()))
    );
    let again = create(&emu, json!({"lastname": "Next"})).await;
    let b = call(
        &emu,
        Method::GET,
        &format!("{V}/contacts({again})"),
        &[],
        None,
    )
    .await;
    assert_ne!(
        a.body["@odata.etag"], b.body["@odata.etag"],
        "versions continue after a restart"
    );
    // Deleting the newest row does not let the counter go back.
    let before = b.body["@odata.etag"].as_str().unwrap().to_string();
    let gone = call(
        &emu,
        Method::DELETE,
        &format!("{V}/contacts({again})"),
        &[],
        None,
    )
    .await;
    assert_eq!(gone.status, 204);
    emu.shutdown().await;
    let emu = start_with(Config {
        state: Some(state),
        ..Config::unlimited()
    })
    .await;
    let c = create(&emu, json!({"lastname": "Later"})).await;
    let c = call(&emu, Method::GET, &format!("{V}/contacts({c})"), &[], None).await;
    let n = |t: &str| {
        t.trim_start_matches("W/\"")
            .trim_end_matches('"')
            .parse::<u64>()
            .unwrap()
    };
    assert!(n(c.body["@odata.etag"].as_str().unwrap()) > n(&before) + 1);
}

async fn ctl(emu: &Emulator, path: &str, body: Value) -> Value {
    let r = client()
        .post(format!("{}{path}", emu.control_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

async fn settings(emu: &Emulator) -> Value {
    client()
        .get(format!("{}/dynamics/settings", emu.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn control_routes_switch_edit_seed_and_reset() {
    let emu = start().await;
    let s = settings(&emu).await;
    assert_eq!(s["duplicate_detection"], false);
    assert_eq!(s["duplicate_status"], 412);
    assert_eq!(s["change_tracking"], true);
    assert_eq!(s["key_status"], "Active");
    assert_eq!(s["concurrency"], 52);
    let s = ctl(&emu, "/dynamics/change-tracking", json!({"on": false})).await;
    assert_eq!(s["change_tracking"], false);
    let s = ctl(&emu, "/dynamics/key", json!({"status": "Failed"})).await;
    assert_eq!(s["key_status"], "Failed");
    let r = client()
        .post(format!("{}/dynamics/key", emu.control_url()))
        .json(&json!({"status": "Broken"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let s = ctl(
        &emu,
        "/dynamics/duplicate-detection",
        json!({"on": true, "status": 500}),
    )
    .await;
    assert_eq!(
        (
            s["duplicate_detection"].as_bool(),
            s["duplicate_status"].as_u64()
        ),
        (Some(true), Some(500))
    );

    let seeded = ctl(&emu, "/seed", json!({"api": "dynamics", "count": 2, "records": [{"lastname": "K", "outpost_key": "ck", "preferredcontactmethodcode": "3"}]})).await;
    assert_eq!(seeded["ids"].as_array().unwrap().len(), 3);
    // A person edits and deletes in the CRM.
    ctl(
        &emu,
        "/records/edit",
        json!({"api": "dynamics", "key": "ck", "fields": {"telephone1": "555", "lastname": "Kay"}}),
    )
    .await;
    let all = client()
        .get(format!("{}/records", emu.control_url()))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let ck = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["api"] == "dynamics" && r["key"] == "ck")
        .unwrap()
        .clone();
    assert_eq!(ck["object"], "contacts");
    assert_eq!(ck["record"]["telephone1"], "555");
    assert_eq!(ck["record"]["preferredcontactmethodcode"], 3);
    assert_eq!(
        ck["record"]["versionnumber"], 4,
        "three seeded rows, then the edit"
    );
    let r = client()
        .post(format!("{}/records/edit", emu.control_url()))
        .json(&json!({"api": "dynamics", "key": "ck", "fields": {"nosuch": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    ctl(
        &emu,
        "/records/delete",
        json!({"api": "dynamics", "key": "ck"}),
    )
    .await;
    assert_eq!(
        emu.records().iter().filter(|r| r.api == "dynamics").count(),
        2
    );

    let limits = ctl(&emu, "/rate-limit", json!({"dynamics": "1/60s"})).await;
    assert_eq!(limits["dynamics"], "1/60000ms");
    assert_eq!(
        call(&emu, Method::GET, &format!("{V}/WhoAmI"), &[], None)
            .await
            .status,
        200
    );
    assert_eq!(
        call(&emu, Method::GET, &format!("{V}/WhoAmI"), &[], None)
            .await
            .status,
        429
    );

    emu.reset().await;
    let s = settings(&emu).await;
    assert_eq!(
        (s["change_tracking"].as_bool(), s["key_status"].as_str()),
        (Some(true), Some("Active"))
    );
    assert_eq!(s["duplicate_detection"], false);
    assert_eq!(
        call(&emu, Method::GET, &format!("{V}/WhoAmI"), &[], None)
            .await
            .status,
        200
    );
    assert!(emu.records().is_empty());
}

#[tokio::test]
async fn concurrency_cap_answers_429() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = start().await;
    ctl(&emu, "/dynamics/concurrency", json!({"max": 1})).await;
    // A request whose body has not arrived yet stays in flight.
    let mut slow = tokio::net::TcpStream::connect(emu.crm_addr())
        .await
        .unwrap();
    let head = format!(
        "POST {V}/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n",
        emu.token()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let busy = common::eventually(Duration::from_secs(5), || async {
        settings(&emu).await["in_flight"] == 1
    })
    .await;
    assert!(busy, "the slow request is in flight");
    let a = call(&emu, Method::GET, &format!("{V}/WhoAmI"), &[], None).await;
    assert_eq!((a.status, a.code()), (429, "0x80072326"));
    assert_eq!(
        a.message(),
        "Number of concurrent requests exceeded the limit of 1."
    );
    assert!(a.header("retry-after").is_some());
    slow.write_all(br#"{"lastname":"S"}"#).await.unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    let a = call(&emu, Method::GET, &format!("{V}/WhoAmI"), &[], None).await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn unauthorized_answers_carry_a_challenge_and_the_key_is_unique() {
    let emu = start().await;
    let r = client()
        .get(format!("{}{V}/WhoAmI", emu.crm_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r
        .headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("Bearer authorization_uri="));
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no bearer token"));
    create(&emu, json!({"lastname": "A", "outpost_key": "same"})).await;
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/contacts"),
        &[],
        Some(json!({"lastname": "B", "outpost_key": "same"})),
    )
    .await;
    assert_eq!((a.status, a.code()), (412, "0x80060892"));
    assert!(a
        .message()
        .starts_with("A record that has the attribute values same already exists."));
    // Characters Dataverse cannot carry in a key in the URL.
    for bad in ["a%2Fb", "a:b", "a%26b"] {
        let a = call(
            &emu,
            Method::PATCH,
            &format!("{V}/contacts(outpost_key='{bad}')"),
            &[],
            Some(json!({"lastname": "X"})),
        )
        .await;
        assert_eq!(a.status, 400, "{bad}");
    }
    // `If-None-Match: null` (what Microsoft's samples send) is no precondition.
    let a = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts(outpost_key='same')"),
        &[("If-None-Match", "null")],
        Some(json!({"telephone1": "1"})),
    )
    .await;
    assert_eq!(a.status, 204);
    let a = call(&emu, Method::PUT, &format!("{V}/contacts"), &[], None).await;
    assert_eq!(a.status, 405);
    let a = call(
        &emu,
        Method::GET,
        &format!("{V}/contacts?$expand=x"),
        &[],
        None,
    )
    .await;
    assert_eq!(a.status, 400);
}

#[tokio::test]
async fn execution_time_budget_and_batch_counting() {
    // 400 s of execution time per request: the 1,200 s budget fits three.
    let emu = start_with(Config {
        dynamics_rate_limit: Some(RateLimit {
            max: 5,
            window: Duration::from_secs(300),
        }),
        dynamics_request_cost: Duration::from_secs(400),
        ..Config::unlimited()
    })
    .await;
    let who = format!("{V}/WhoAmI");
    let a = call(&emu, Method::GET, &who, &[], None).await;
    assert_eq!(
        a.header("x-ms-ratelimit-time-remaining-xrm-requests"),
        Some("800000")
    );
    call(&emu, Method::GET, &who, &[], None).await;
    call(&emu, Method::GET, &who, &[], None).await;
    let a = call(&emu, Method::GET, &who, &[], None).await;
    assert_eq!((a.status, a.code()), (429, "0x80072321"), "{:?}", a.body);
    // A new window from the handle restarts the time budget too.
    emu.set_rate_limit(
        crm_emulator::Api::Dynamics,
        emu.rate_limit(crm_emulator::Api::Dynamics),
    );
    assert_eq!(call(&emu, Method::GET, &who, &[], None).await.status, 200);
    call(&emu, Method::GET, &who, &[], None).await;
    call(&emu, Method::GET, &who, &[], None).await;
    let a = call(&emu, Method::GET, &who, &[], None).await;
    assert_eq!((a.status, a.code()), (429, "0x80072321"), "{:?}", a.body);
    assert!(a.message().starts_with(
        "Combined execution time of incoming requests exceeded limit of 1200000 milliseconds"
    ));
    assert!(a.header("retry-after").is_some());

    // A batch counts once when the switch is off; its operations still take time.
    let emu = start_with(Config {
        dynamics_rate_limit: Some(RateLimit {
            max: 3,
            window: Duration::from_secs(300),
        }),
        ..Config::unlimited()
    })
    .await;
    let s = ctl(
        &emu,
        "/dynamics/batch-counting",
        json!({"operations": false}),
    )
    .await;
    assert_eq!(s["batch_counts_operations"], false);
    let base = format!("{}{V}", emu.crm_url());
    let ops: Vec<String> = (0..4)
        .map(|_| op("GET", &format!("{base}/WhoAmI"), None, None))
        .collect();
    let (s, _, _) = post_batch(&emu, batch_body("batch_x", &ops), false).await;
    assert_eq!(s, 200);
    let a = call(&emu, Method::GET, &who, &[], None).await;
    assert_eq!(a.status, 200, "the batch of four counted once");
    assert_eq!(
        a.header("x-ms-ratelimit-burst-remaining-xrm-requests"),
        Some("1")
    );
    assert_eq!(
        a.header("x-ms-ratelimit-time-remaining-xrm-requests"),
        Some("1199400")
    );
}

#[tokio::test]
async fn user_privileges_and_a_refused_create() {
    let emu = start().await;
    let who = call(&emu, Method::GET, &format!("{V}/WhoAmI"), &[], None).await;
    let user = who.body["UserId"].as_str().unwrap().to_string();
    let url = format!("{V}/systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()");
    let names = |a: &Answer| -> Vec<String> {
        a.body["RolePrivileges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["PrivilegeName"].as_str().unwrap().to_string())
            .collect()
    };
    let a = call(&emu, Method::GET, &url, &[], None).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(names(&a).contains(&"prvCreateContact".to_string()));
    let s = ctl(
        &emu,
        "/dynamics/privileges",
        json!({"create_contact": false}),
    )
    .await;
    assert_eq!(s["create_contact"], false);
    let a = call(&emu, Method::GET, &url, &[], None).await;
    assert!(!names(&a).contains(&"prvCreateContact".to_string()));
    assert!(names(&a).contains(&"prvWriteContact".to_string()));
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/contacts"),
        &[],
        Some(json!({"lastname": "No"})),
    )
    .await;
    assert_eq!((a.status, a.code()), (403, "0x80040220"));
    assert!(a
        .message()
        .contains("is missing prvCreateContact privilege"));
    let a = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts(outpost_key='np')"),
        &[],
        Some(json!({"lastname": "No"})),
    )
    .await;
    assert_eq!(a.status, 403, "an upsert that would create is refused too");
    let other = format!("{V}/systemusers(00000000-0000-4000-8000-0000000000ff)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()");
    assert_eq!(call(&emu, Method::GET, &other, &[], None).await.status, 404);
    emu.set_dynamics_create_privilege(true);
    assert!(emu.dynamics_settings().can_create);
    create(&emu, json!({"lastname": "Yes"})).await;
}

#[tokio::test]
async fn race_fault_makes_the_read_etag_stale() {
    let emu = start().await;
    let id = create(&emu, json!({"lastname": "R", "outpost_key": "race"})).await;
    emu.set_faults(Faults {
        race: Some(crm_emulator::Race {
            field: "address1_city".into(),
            value: Some("Berlin".into()),
            reads: 1,
        }),
        ..Faults::default()
    });
    let read = call(&emu, Method::GET, &format!("{V}/contacts({id})"), &[], None).await;
    assert_eq!(
        read.body["address1_city"],
        Value::Null,
        "the read saw the row before the change"
    );
    let etag = read.body["@odata.etag"].as_str().unwrap().to_string();
    let a = call(
        &emu,
        Method::PATCH,
        &format!("{V}/contacts({id})"),
        &[("If-Match", &etag)],
        Some(json!({"telephone1": "1"})),
    )
    .await;
    assert_eq!(a.status, 412, "the person's change moved the version");
    let now = call(&emu, Method::GET, &format!("{V}/contacts({id})"), &[], None).await;
    assert_eq!(now.body["address1_city"], "Berlin");
}

#[tokio::test]
async fn paging_by_a_text_column_descending() {
    let emu = start().await;
    let names = ["b", "A", "c", "B", "a", "C", "b"];
    emu.seed_dynamics(
        names
            .iter()
            .map(|n| std::collections::BTreeMap::from([("lastname".to_string(), n.to_string())]))
            .collect(),
    );
    let mut next = Some(format!(
        "{V}/contacts?$select=lastname&$orderby=lastname%20desc&$count=true"
    ));
    let mut seen = Vec::new();
    while let Some(u) = next {
        let a = page(&emu, &u, 2, &[]).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert_eq!(a.body["@odata.count"], 7);
        for r in a.body["value"].as_array().unwrap() {
            seen.push(r["lastname"].as_str().unwrap().to_lowercase());
        }
        next = a.body["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(seen, ["c", "c", "b", "b", "b", "a", "a"]);
}
