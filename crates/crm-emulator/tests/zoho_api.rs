//! The Zoho CRM v8 emulation: accounts server, auth, metadata, record
//! writes and reads, paging, search, deleted records, credits and
//! concurrency, errors, person edits, persistence and reset.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use common::{client, start, start_with};
use crm_emulator::crm_user::Target;
use crm_emulator::{Config, Emulator, ErrorKind, Faults};
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "/crm/v8";

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    /// `Null` for an empty body (204).
    body: Value,
}

async fn send(rb: reqwest::RequestBuilder) -> Answer {
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn zreq(emu: &Emulator, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    client()
        .request(method, format!("{}{path}", emu.crm_url()))
        .header("authorization", format!("Zoho-oauthtoken {token}"))
}

async fn call(emu: &Emulator, method: Method, path: &str, body: Option<Value>) -> Answer {
    let mut rb = zreq(emu, method, path, emu.token());
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    send(rb).await
}

async fn get(emu: &Emulator, path: &str) -> Answer {
    call(emu, Method::GET, path, None).await
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
        .get(format!("{}/zoho/settings", emu.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn mint(emu: &Emulator, refresh: &str) -> Value {
    let cfg = emu.config();
    send(
        client()
            .post(format!("{}/oauth/v2/token", emu.crm_url()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", cfg.oauth_client_id.as_str()),
                ("client_secret", cfg.oauth_client_secret.as_str()),
                ("refresh_token", refresh),
            ]),
    )
    .await
    .body
}

async fn insert(emu: &Emulator, records: Value) -> Answer {
    call(
        emu,
        Method::POST,
        &format!("{V}/Contacts"),
        Some(json!({"data": records})),
    )
    .await
}

async fn create(emu: &Emulator, record: Value) -> String {
    let a = insert(emu, json!([record])).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    a.body["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn assert_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{:?}", a.body);
    assert_eq!(a.body["code"], code, "{:?}", a.body);
    assert_eq!(a.body["status"], "error");
    assert!(a.body["message"].is_string() && a.body["details"].is_object());
}

#[tokio::test]
async fn token_endpoint_mints_with_zoho_errors_and_data_centres() {
    let emu = start().await;
    let cfg = emu.config().clone();
    let t = mint(&emu, &cfg.oauth_refresh_token).await;
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["api_domain"], emu.crm_url());
    assert!(t["scope"].is_string());
    let access = t["access_token"].as_str().unwrap();
    let a = send(zreq(&emu, Method::GET, &format!("{V}/org"), access)).await;
    assert_eq!(a.status, 200);

    // Query parameters work as well as a form.
    let q = send(client().post(format!(
        "{}/oauth/v2/token?grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
        emu.crm_url(),
        cfg.oauth_client_id,
        cfg.oauth_client_secret,
        cfg.oauth_refresh_token
    )))
    .await;
    assert_eq!(q.status, 200);
    assert!(q.body["access_token"].is_string());

    // Errors are HTTP 200 with an `error`.
    let bad = send(
        client()
            .post(format!("{}/oauth/v2/token", emu.crm_url()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", "nope"),
                ("client_secret", cfg.oauth_client_secret.as_str()),
                ("refresh_token", cfg.oauth_refresh_token.as_str()),
            ]),
    )
    .await;
    assert_eq!(
        (bad.status, bad.body.clone()),
        (200, json!({"error": "invalid_client"}))
    );
    assert_eq!(
        mint(&emu, "1000.unknown").await,
        json!({"error": "invalid_code"})
    );

    // A refresh token of another data centre is unknown here.
    let eu = ctl(&emu, "/zoho/refresh-tokens", json!({"data_centre": "eu"})).await;
    let eu = eu["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(mint(&emu, &eu).await, json!({"error": "invalid_code"}));
    let com = emu.issue_zoho_refresh_token(None);
    let com_access = mint(&emu, &com).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // The emulator becomes the EU data centre: EU tokens work, COM ones do not.
    ctl(&emu, "/zoho/settings", json!({"data_centre": "eu"})).await;
    assert!(mint(&emu, &eu).await["access_token"].is_string());
    assert_eq!(mint(&emu, &com).await, json!({"error": "invalid_code"}));
    let a = send(zreq(&emu, Method::GET, &format!("{V}/org"), &com_access)).await;
    assert_error(&a, 401, "INVALID_TOKEN");
    // The configured refresh token belongs to whatever data centre the emulator is.
    assert!(mint(&emu, &cfg.oauth_refresh_token).await["access_token"].is_string());
    let s = settings(&emu).await;
    assert_eq!(s["data_centre"], "eu");
    assert_eq!(s["tokens_minted"], 5);
    // A grant code (Self Client) becomes a refresh token, once.
    let code = ctl(&emu, "/zoho/grant-codes", json!({})).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let form = |code: &str| {
        client()
            .post(format!("{}/oauth/v2/token", emu.crm_url()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", cfg.oauth_client_id.as_str()),
                ("client_secret", cfg.oauth_client_secret.as_str()),
                ("redirect_uri", "http://localhost/callback"),
                ("code", code),
            ])
    };
    let g = send(form(&code)).await.body;
    let refresh = g["refresh_token"].as_str().unwrap().to_string();
    assert!(g["access_token"].is_string());
    assert_eq!(
        send(form(&code)).await.body,
        json!({"error": "invalid_code"})
    );
    assert!(mint(&emu, &refresh).await["access_token"].is_string());
    assert!(mint(&emu, &cfg.oauth_refresh_token)
        .await
        .get("refresh_token")
        .is_none());
    // Short-lived tokens for clients that refresh by their own clock.
    ctl(&emu, "/zoho/settings", json!({"token_lifetime_s": 7})).await;
    assert_eq!(mint(&emu, &cfg.oauth_refresh_token).await["expires_in"], 7);
    // Every answer of the accounts server is a 200, errors too.
    assert_eq!(emu.count("POST /oauth/v2/token", 200), 14);
}

#[tokio::test]
async fn minting_limits_per_refresh_token() {
    let emu = start().await;
    let rt = emu.issue_zoho_refresh_token(None);
    for _ in 0..10 {
        assert!(mint(&emu, &rt).await["access_token"].is_string());
    }
    let denied = mint(&emu, &rt).await;
    assert_eq!(
        denied,
        json!({"error": "Access Denied", "error_description": "You have made too many requests continuously. Please try again after some time."})
    );
    // Another refresh token has its own count.
    let other = emu.issue_zoho_refresh_token(None);
    assert!(mint(&emu, &other).await["access_token"].is_string());

    // At most 30 live tokens: the 31st evicts the oldest.
    ctl(&emu, "/zoho/settings", json!({"mint_limit": false})).await;
    let fresh = emu.issue_zoho_refresh_token(None);
    let mut tokens = Vec::new();
    for _ in 0..31 {
        tokens.push(
            mint(&emu, &fresh).await["access_token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let first = send(zreq(&emu, Method::GET, &format!("{V}/org"), &tokens[0])).await;
    assert_error(&first, 401, "INVALID_TOKEN");
    let second = send(zreq(&emu, Method::GET, &format!("{V}/org"), &tokens[1])).await;
    assert_eq!(second.status, 200);
    assert_eq!(settings(&emu).await["tokens_minted"], 10 + 1 + 31);
}

#[tokio::test]
async fn auth_header_missing_bearer_expired() {
    let emu = start().await;
    let path = format!("{}{V}/users?type=CurrentUser", emu.crm_url());
    let a = send(client().get(&path)).await;
    assert_error(&a, 401, "AUTHENTICATION_FAILURE");
    let a = send(client().get(&path).bearer_auth(emu.token())).await;
    assert_error(&a, 401, "INVALID_TOKEN");
    assert_eq!(a.body["message"], "invalid oauth token");
    let t = mint(&emu, &emu.config().oauth_refresh_token.clone()).await;
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(
        send(zreq(&emu, Method::GET, &format!("{V}/org"), access))
            .await
            .status,
        200
    );
    ctl(&emu, "/tokens/expire", json!({"token": access})).await;
    let a = send(zreq(&emu, Method::GET, &format!("{V}/org"), access)).await;
    assert_error(&a, 401, "INVALID_TOKEN");
    // The static token works as a Zoho-oauthtoken too.
    assert_eq!(get(&emu, &format!("{V}/org")).await.status, 200);
}

#[tokio::test]
async fn metadata_users_org_modules_fields() {
    let emu = start().await;
    let u = get(&emu, &format!("{V}/users?type=CurrentUser")).await;
    assert_eq!(u.status, 200);
    let user = &u.body["users"][0];
    for k in ["id", "full_name", "email", "status"] {
        assert!(user[k].is_string(), "{k}");
    }
    assert!(user["role"]["name"].is_string() && user["profile"]["id"].is_string());
    let o = get(&emu, &format!("{V}/org")).await;
    for k in [
        "id",
        "company_name",
        "country_code",
        "currency",
        "domain_name",
        "zgid",
    ] {
        assert!(o.body["org"][0][k].is_string(), "{k}");
    }
    let m = get(&emu, &format!("{V}/settings/modules")).await;
    let names: Vec<&str> = m.body["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["api_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Contacts", "Leads"]);
    let one = get(&emu, &format!("{V}/settings/modules/Leads")).await;
    assert_eq!(one.body["modules"][0]["creatable"], true);
    assert_error(
        &get(&emu, &format!("{V}/settings/modules/Deals")).await,
        400,
        "INVALID_MODULE",
    );

    let f = get(&emu, &format!("{V}/settings/fields?module=Contacts")).await;
    assert_eq!(f.status, 200);
    let fields = f.body["fields"].as_array().unwrap();
    let field = |n: &str| fields.iter().find(|f| f["api_name"] == n).cloned().unwrap();
    assert_eq!(field("Last_Name")["system_mandatory"], true);
    assert_eq!(field("Last_Name")["length"], 80);
    assert_eq!(field("Email")["data_type"], "email");
    assert_eq!(field("Owner")["json_type"], "jsonobject");
    let key = field("Outpost_Key");
    assert_eq!(
        (
            key["custom_field"].clone(),
            key["length"].clone(),
            key["unique"].clone()
        ),
        (json!(true), json!(255), json!({"casesensitive": "false"}))
    );
    let sources = field("Lead_Source")["pick_list_values"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(sources, 15);
    for n in [
        "Created_Time",
        "Modified_Time",
        "id",
        "Created_By",
        "Modified_By",
        "Account_Name",
    ] {
        field(n);
    }
    let leads = get(&emu, &format!("{V}/settings/fields?module=Leads")).await;
    let lf = leads.body["fields"].as_array().unwrap();
    assert!(lf
        .iter()
        .any(|f| f["api_name"] == "Company" && f["system_mandatory"] == true));
    assert!(lf.iter().any(|f| f["api_name"] == "Lead_Status"));
    assert_error(
        &get(&emu, &format!("{V}/settings/fields")).await,
        400,
        "REQUIRED_PARAM_MISSING",
    );
    assert_error(
        &get(&emu, &format!("{V}/settings/fields?module=Nope")).await,
        400,
        "INVALID_MODULE",
    );

    // An admin removes the key field, adds it back without "unique".
    ctl(
        &emu,
        "/zoho/fields/remove",
        json!({"api_name": "Outpost_Key"}),
    )
    .await;
    let f = get(&emu, &format!("{V}/settings/fields?module=Contacts")).await;
    assert!(!f.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["api_name"] == "Outpost_Key"));
    ctl(
        &emu,
        "/zoho/fields",
        json!({"api_name": "Outpost_Key", "length": 255}),
    )
    .await;
    let f = get(&emu, &format!("{V}/settings/fields?module=Contacts")).await;
    let key = f.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["api_name"] == "Outpost_Key")
        .cloned()
        .unwrap();
    assert!(key.get("unique").is_none());
    ctl(
        &emu,
        "/zoho/fields/flags",
        json!({"api_name": "Outpost_Key", "unique": true}),
    )
    .await;
    let s = settings(&emu).await;
    assert_eq!(s["modules"]["Contacts"]["custom_fields"][0]["unique"], true);
}

#[tokio::test]
async fn insert_statuses_and_per_record_errors() {
    let emu = start().await;
    let a = insert(
        &emu,
        json!([{"Last_Name": "One", "Email": "one@example.com", "Outpost_Key": "k1"}, {"Last_Name": "Two"}]),
    )
    .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let r = &a.body["data"][0];
    assert_eq!(
        (r["code"].clone(), r["message"].clone(), r["status"].clone()),
        (json!("SUCCESS"), json!("record added"), json!("success"))
    );
    let id1 = r["details"]["id"].as_str().unwrap();
    let id2 = a.body["data"][1]["details"]["id"].as_str().unwrap();
    assert_eq!(id1.len(), 19);
    assert!(id2.parse::<u64>().unwrap() > id1.parse::<u64>().unwrap());
    let mt = r["details"]["Modified_Time"].as_str().unwrap();
    assert!(mt.len() == 25 && mt.ends_with("+00:00"), "{mt}");
    assert_eq!(r["details"]["Created_By"]["name"], "Outpost Integration");

    // Mixed: 207.
    let a = insert(
        &emu,
        json!([{"Last_Name": "Ok"}, {"First_Name": "No last name"}]),
    )
    .await;
    assert_eq!(a.status, 207);
    assert_eq!(
        a.body["data"][1],
        json!({"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"}, "message": "required field not found", "status": "error"})
    );
    // All failed: 400.
    let long = "x".repeat(41);
    let a = insert(
        &emu,
        json!([{"Last_Name": "L", "First_Name": long}, {"Last_Name": 5}, {"Last_Name": "D", "Outpost_Key": "K1"}, {"Last_Name": "E", "Email": "not-an-email"}]),
    )
    .await;
    assert_eq!(a.status, 400, "{:?}", a.body);
    let d = &a.body["data"];
    assert_eq!(d[0]["code"], "INVALID_DATA");
    assert_eq!(
        d[0]["details"],
        json!({"api_name": "First_Name", "json_path": "$.data[0].First_Name", "expected_data_type": "text", "maximum_length": 40})
    );
    assert_eq!(d[1]["details"]["expected_data_type"], "text");
    assert_eq!(d[2]["code"], "DUPLICATE_DATA");
    assert_eq!(d[2]["details"]["api_name"], "Outpost_Key");
    assert_eq!(d[2]["details"]["duplicate_record"]["id"], id1);
    assert_eq!(d[3]["details"]["api_name"], "Email");

    // A restricted picklist refuses unknown values; unrestricted keeps them.
    let a = insert(
        &emu,
        json!([{"Last_Name": "P", "Lead_Source": "Carrier Pigeon"}]),
    )
    .await;
    assert_eq!(a.status, 201);
    emu.set_zoho_field_flags("Contacts", "Lead_Source", None, Some(true))
        .unwrap();
    let a = insert(
        &emu,
        json!([{"Last_Name": "P", "Lead_Source": "Carrier Pigeon"}]),
    )
    .await;
    assert_eq!(a.body["data"][0]["details"]["api_name"], "Lead_Source");
    let a = insert(
        &emu,
        json!([{"Last_Name": "P", "Lead_Source": "Trade Show"}]),
    )
    .await;
    assert_eq!(a.status, 201);

    let many: Vec<Value> = (0..101)
        .map(|n| json!({"Last_Name": format!("N{n}")}))
        .collect();
    assert_error(&insert(&emu, json!(many)).await, 400, "LIMIT_EXCEEDED");
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/Deals"),
        Some(json!({"data": [{}]})),
    )
    .await;
    assert_error(&a, 400, "INVALID_MODULE");
    // Leads need a Company.
    let a = call(
        &emu,
        Method::POST,
        &format!("{V}/Leads"),
        Some(json!({"data": [{"Last_Name": "Lead"}]})),
    )
    .await;
    assert_eq!(a.body["data"][0]["details"]["api_name"], "Company");
    // No permission: NO_PERMISSION.
    ctl(
        &emu,
        "/zoho/permissions",
        json!({"module": "Contacts", "creatable": false}),
    )
    .await;
    assert_error(
        &insert(&emu, json!([{"Last_Name": "X"}])).await,
        403,
        "NO_PERMISSION",
    );
    let m = get(&emu, &format!("{V}/settings/modules/Contacts")).await;
    assert_eq!(m.body["modules"][0]["creatable"], false);
}

#[tokio::test]
async fn upsert_is_idempotent_on_the_key() {
    let emu = start().await;
    let body = json!({"data": [{"Last_Name": "Up", "Outpost_Key": "u1"}], "duplicate_check_fields": ["Outpost_Key"]});
    let path = format!("{V}/Contacts/upsert");
    let a = call(&emu, Method::POST, &path, Some(body.clone())).await;
    assert_eq!(a.status, 200);
    let r = &a.body["data"][0];
    assert_eq!(
        (
            r["action"].clone(),
            r["duplicate_field"].clone(),
            r["message"].clone()
        ),
        (json!("insert"), Value::Null, json!("record added"))
    );
    let b = call(&emu, Method::POST, &path, Some(body)).await;
    let r2 = &b.body["data"][0];
    assert_eq!(
        (
            r2["action"].clone(),
            r2["duplicate_field"].clone(),
            r2["message"].clone()
        ),
        (
            json!("update"),
            json!("Outpost_Key"),
            json!("record updated")
        )
    );
    assert_eq!(r["details"]["id"], r2["details"]["id"]);
    assert_eq!(emu.records().iter().filter(|r| r.api == "zoho").count(), 1);
    // Default check fields: Email, then the unique custom field.
    let a = call(
        &emu,
        Method::POST,
        &path,
        Some(json!({"data": [{"Last_Name": "E", "Email": "e@example.com"}, {"Last_Name": "E2", "Email": "e@example.com"}, {"Last_Name": "K", "Outpost_Key": "u1", "Phone": "123"}]})),
    )
    .await;
    let d = &a.body["data"];
    assert_eq!(
        (d[0]["action"].clone(), d[1]["action"].clone()),
        (json!("insert"), json!("update"))
    );
    assert_eq!(d[1]["duplicate_field"], "Email");
    assert_eq!(d[2]["duplicate_field"], "Outpost_Key");
    // Mixed outcome: 207; a bad duplicate_check_fields: 400.
    let a = call(
        &emu,
        Method::POST,
        &path,
        Some(json!({"data": [{"Last_Name": "Fine"}, {"First_Name": "no last"}]})),
    )
    .await;
    assert_eq!(a.status, 207);
    let a = call(
        &emu,
        Method::POST,
        &path,
        Some(json!({"data": [{"Last_Name": "x"}], "duplicate_check_fields": ["Nope"]})),
    )
    .await;
    assert_error(&a, 400, "INVALID_DATA");
    assert_eq!(emu.count("POST /crm/{version}/{module}/upsert", 200), 3);
}

#[tokio::test]
async fn get_update_delete_and_deleted_list() {
    let emu = start().await;
    let id = create(
        &emu,
        json!({"Last_Name": "Get", "First_Name": "Ann", "Outpost_Key": "g1"}),
    )
    .await;
    let a = get(&emu, &format!("{V}/Contacts/{id}")).await;
    assert_eq!(a.status, 200);
    let rec = &a.body["data"][0];
    assert_eq!(
        (rec["id"].as_str(), rec["Last_Name"].as_str()),
        (Some(id.as_str()), Some("Get"))
    );
    assert_eq!(rec["Owner"]["id"], "4876876000000090001");
    let a = get(&emu, &format!("{V}/Contacts/4876876000000999999")).await;
    assert_eq!((a.status, a.body), (204, Value::Null));
    let a = get(&emu, &format!("{V}/Leads/{id}")).await;
    assert_eq!(a.status, 204, "ids are per module");

    let a = call(
        &emu,
        Method::PUT,
        &format!("{V}/Contacts/{id}"),
        Some(json!({"data": [{"Phone": "555"}]})),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"][0]["message"], "record updated");
    let a = call(
        &emu,
        Method::PUT,
        &format!("{V}/Contacts"),
        Some(json!({"data": [{"id": id, "Mobile": "777"}, {"id": "4876876000000999999", "Mobile": "1"}, {"Mobile": "2"}]})),
    )
    .await;
    assert_eq!(a.status, 207);
    assert_eq!(a.body["data"][1]["code"], "INVALID_DATA");
    assert_eq!(a.body["data"][2]["code"], "MANDATORY_NOT_FOUND");
    let a = call(
        &emu,
        Method::PUT,
        &format!("{V}/Contacts/{id}"),
        Some(json!({"data": [{"Last_Name": null}]})),
    )
    .await;
    assert_eq!(a.status, 400);
    let rec = get(&emu, &format!("{V}/Contacts/{id}?fields=Phone,Mobile")).await;
    let rec = &rec.body["data"][0];
    assert_eq!(
        (rec["Phone"].as_str(), rec["Mobile"].as_str()),
        (Some("555"), Some("777"))
    );
    assert!(rec.get("Last_Name").is_none());

    let other = create(&emu, json!({"Last_Name": "Other"})).await;
    assert_eq!(
        get(&emu, &format!("{V}/Contacts/deleted")).await.status,
        204
    );
    let a = call(&emu, Method::DELETE, &format!("{V}/Contacts/{id}"), None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"][0]["message"], "record deleted");
    let a = call(
        &emu,
        Method::DELETE,
        &format!("{V}/Contacts?ids={other},4876876000000999999"),
        None,
    )
    .await;
    assert_eq!(a.status, 207);
    assert_eq!(get(&emu, &format!("{V}/Contacts/{id}")).await.status, 204);
    let d = get(&emu, &format!("{V}/Contacts/deleted?type=all")).await;
    assert_eq!(d.status, 200);
    let rows = d.body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let mine = rows.iter().find(|r| r["id"] == id.as_str()).unwrap();
    assert_eq!(mine["display_name"], "Ann Get");
    assert_eq!(mine["type"], "recycle");
    assert!(mine["deleted_by"]["id"].is_string() && mine["deleted_time"].is_string());
    assert_eq!(d.body["info"]["count"], 2);
    assert_eq!(
        get(&emu, &format!("{V}/Contacts/deleted?type=permanent"))
            .await
            .status,
        204
    );
    let later = send(
        zreq(
            &emu,
            Method::GET,
            &format!("{V}/Contacts/deleted"),
            emu.token(),
        )
        .header("if-modified-since", "2999-01-01T00:00:00+05:30"),
    )
    .await;
    assert_eq!(later.status, 204);
    let earlier = send(
        zreq(
            &emu,
            Method::GET,
            &format!("{V}/Contacts/deleted"),
            emu.token(),
        )
        .header("if-modified-since", "2019-07-25T15:26:49+05:30"),
    )
    .await;
    assert_eq!(earlier.body["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn listing_pages_tokens_and_modified_since() {
    let emu = start().await;
    assert_error(
        &get(&emu, &format!("{V}/Contacts")).await,
        400,
        "REQUIRED_PARAM_MISSING",
    );
    assert_eq!(
        get(&emu, &format!("{V}/Contacts?fields=Last_Name"))
            .await
            .status,
        204
    );
    let records: Vec<BTreeMap<String, String>> = (0..2500)
        .map(|n| BTreeMap::from([("Last_Name".to_string(), format!("L{n}"))]))
        .collect();
    emu.seed_zoho("Contacts", records).unwrap();
    let page = |n: u64| format!("{V}/Contacts?fields=Last_Name&per_page=200&page={n}");
    let p1 = get(&emu, &page(1)).await;
    assert_eq!(p1.status, 200);
    let info = &p1.body["info"];
    assert_eq!(
        (
            info["per_page"].clone(),
            info["count"].clone(),
            info["page"].clone(),
            info["more_records"].clone()
        ),
        (json!(200), json!(200), json!(1), json!(true))
    );
    assert!(info["next_page_token"].is_string() && info["page_token_expiry"].is_string());
    assert_eq!(
        p1.body["data"][0].as_object().unwrap().len(),
        2,
        "id and the field asked for"
    );
    assert_eq!(get(&emu, &page(10)).await.status, 200);
    assert_error(
        &get(&emu, &page(11)).await,
        400,
        "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
    );
    assert_error(
        &get(&emu, &format!("{V}/Contacts?fields=Last_Name&per_page=201")).await,
        400,
        "INVALID_DATA",
    );

    // page_token reaches every record, in order, once.
    let mut seen = HashSet::new();
    let mut last: Option<(String, u64)> = None;
    let mut url =
        format!("{V}/Contacts?fields=Last_Name,Modified_Time&sort_by=Modified_Time&sort_order=asc");
    loop {
        let a = get(&emu, &url).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        for r in a.body["data"].as_array().unwrap() {
            let key = (
                r["Modified_Time"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap().parse::<u64>().unwrap(),
            );
            if let Some(prev) = &last {
                assert!(*prev < key, "stable order");
            }
            assert!(seen.insert(key.1));
            last = Some(key);
        }
        match a.body["info"]["next_page_token"].as_str() {
            Some(t) => url = format!("{V}/Contacts?fields=Last_Name,Modified_Time&page_token={t}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2500);

    // The 2,000 rule can be switched off.
    emu.change_zoho_settings(crm_emulator::ZohoSettingsChange {
        page_limit: Some(false),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(get(&emu, &page(13)).await.body["info"]["count"], 100);

    // Expired page tokens.
    let a = get(&emu, &page(1)).await;
    let t = a.body["info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_string();
    ctl(&emu, "/zoho/page-tokens/expire", json!({})).await;
    let a = get(
        &emu,
        &format!("{V}/Contacts?fields=Last_Name&page_token={t}"),
    )
    .await;
    assert_error(&a, 400, "INVALID_DATA");
    assert_eq!(a.body["details"]["param_name"], "page_token");

    // If-Modified-Since: only records modified after it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cut = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = create(&emu, json!({"Last_Name": "Fresh"})).await;
    let a = send(
        zreq(
            &emu,
            Method::GET,
            &format!("{V}/Contacts?fields=Last_Name"),
            emu.token(),
        )
        .header("if-modified-since", &cut),
    )
    .await;
    let ids: Vec<&str> = a.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [fresh.as_str()]);
}

#[tokio::test]
async fn search_found_none_criteria_and_escaping() {
    let emu = start().await;
    let id = create(
        &emu,
        json!({"Last_Name": "O'Neil (Jr), \\x", "Email": "Burns@example.com", "Phone": "555-1"}),
    )
    .await;
    create(
        &emu,
        json!({"Last_Name": "Smith", "Email": "smith@example.com"}),
    )
    .await;
    let s = |q: &str| format!("{V}/Contacts/search?{q}");
    let a = get(&emu, &s("email=burns@example.com")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"][0]["id"], id.as_str());
    assert_eq!(a.body["info"]["count"], 1);
    assert_eq!(get(&emu, &s("email=none@example.com")).await.status, 204);
    let plus = create(
        &emu,
        json!({"Last_Name": "Plus", "Email": "a+b@example.com"}),
    )
    .await;
    let a = get(&emu, &s("email=a%2Bb@example.com")).await;
    assert_eq!(a.body["data"][0]["id"], plus.as_str());
    let a = get(&emu, &s("criteria=(Last_Name:equals:Plus+Nobody)")).await;
    assert_eq!(a.status, 204, "+ is a space");
    call(&emu, Method::DELETE, &format!("{V}/Contacts/{plus}"), None).await;
    assert_eq!(
        get(&emu, &s("phone=555-1")).await.body["data"][0]["id"],
        id.as_str()
    );
    assert_eq!(get(&emu, &s("word=smith")).await.body["info"]["count"], 1);
    let crit = |c: &str| s(&format!("criteria={}", urlencode(c)));
    let a = get(
        &emu,
        &crit(r"((Last_Name:equals:O'Neil \(Jr\)\, \\x)and(Email:starts_with:burns))"),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["data"][0]["id"], id.as_str());
    let a = get(
        &emu,
        &crit("((Email:equals:smith@example.com)or(Email:equals:burns@example.com))"),
    )
    .await;
    assert_eq!(a.body["info"]["count"], 2);
    assert_eq!(
        get(&emu, &crit("(Email:equals:smith@example.com,x@y.z)"))
            .await
            .body["info"]["count"],
        1
    );
    assert_eq!(
        get(&emu, &crit("(Last_Name:equals:Nobody)")).await.status,
        204
    );
    for bad in [
        "(Last_Name:equals:O'Neil (Jr))",
        "(Last_Name:like:x)",
        "Last_Name:equals:x",
        "((Email:equals:a)and(Email:equals:b)or(Email:equals:c))",
        "(Nope:equals:x)",
    ] {
        assert_error(&get(&emu, &crit(bad)).await, 400, "INVALID_QUERY");
    }
    assert_error(&get(&emu, &s("")).await, 400, "REQUIRED_PARAM_MISSING");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn credits_cost_header_and_exhaustion() {
    let emu = start().await;
    ctl(&emu, "/zoho/credits", json!({"max": 10})).await;
    let a = get(&emu, &format!("{V}/org")).await;
    assert!(
        a.headers.get("x-api-credits-remaining").is_none(),
        "under 50 %"
    );
    // 25 records cost 3 credits.
    let many: Vec<Value> = (0..25)
        .map(|n| json!({"Last_Name": format!("C{n}")}))
        .collect();
    assert_eq!(insert(&emu, json!(many)).await.status, 201);
    let s = settings(&emu).await;
    assert_eq!(s["credits"]["used"], 4);
    let a = get(&emu, &format!("{V}/org")).await;
    assert_eq!(a.headers["x-api-credits-remaining"], "5");
    for _ in 0..5 {
        assert_eq!(get(&emu, &format!("{V}/org")).await.status, 200);
    }
    let a = get(&emu, &format!("{V}/org")).await;
    assert_error(&a, 400, "LIMIT_EXCEEDED");
    ctl(&emu, "/zoho/settings", json!({"credit_limit_status": 429})).await;
    assert_error(&get(&emu, &format!("{V}/org")).await, 429, "LIMIT_EXCEEDED");
    emu.set_zoho_credits(0, None);
    assert_eq!(get(&emu, &format!("{V}/org")).await.status, 200);
    assert_eq!(settings(&emu).await["credits"]["remaining"], Value::Null);
}

#[tokio::test]
async fn concurrency_cap_answers_429_without_retry_after() {
    let emu = start_with(Config {
        zoho_concurrency: 2,
        zoho_request_cost: Duration::from_millis(400),
        ..Config::unlimited()
    })
    .await;
    let s = settings(&emu).await;
    assert_eq!(
        (s["concurrency"].clone(), s["request_cost_ms"].clone()),
        (json!(2), json!(400))
    );
    let calls = (0..5).map(|_| get(&emu, "/crm/v8/org"));
    let answers = futures_join(calls).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let limited: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!((ok, limited.len()), (2, 3));
    assert_eq!(limited[0].body["code"], "TOO_MANY_REQUESTS");
    assert!(limited[0].headers.get("retry-after").is_none());
    assert_eq!(settings(&emu).await["in_flight"], 0);
    emu.set_zoho_concurrency(0);
    let answers = futures_join((0..5).map(|_| get(&emu, "/crm/v8/org"))).await;
    assert!(answers.iter().all(|a| a.status == 200));
}

async fn futures_join<F: std::future::Future<Output = Answer>>(
    calls: impl Iterator<Item = F>,
) -> Vec<Answer> {
    let mut set = Vec::new();
    for c in calls {
        set.push(c);
    }
    let mut out = Vec::new();
    let joined = futures_util_join(set).await;
    out.extend(joined);
    out
}

async fn futures_util_join<F: std::future::Future<Output = Answer>>(calls: Vec<F>) -> Vec<Answer> {
    // Poll all at once.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = calls.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<Answer>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(a) => results[i] = Some(a),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn errors_have_zoho_shape() {
    let emu = start().await;
    let a = get(&emu, &format!("{V}/Contacts/1/2/3")).await;
    assert_error(&a, 404, "INVALID_URL_PATTERN");
    assert_eq!(
        a.body["message"],
        "Please check if the URL trying to access is a correct one"
    );
    assert_error(
        &call(&emu, Method::PATCH, &format!("{V}/Contacts"), None).await,
        405,
        "METHOD_NOT_ALLOWED",
    );
    assert_error(
        &send(client().get(format!("{}/oauth/v2/token", emu.crm_url()))).await,
        405,
        "METHOD_NOT_ALLOWED",
    );
    // v2 to v7 are the same API; v3 stays HubSpot's.
    assert_eq!(get(&emu, "/crm/v2/org").await.status, 200);
    assert_eq!(get(&emu, "/crm/v7/settings/modules").await.status, 200);
    let hs = send(client().get(format!("{}/crm/v3/nothing/here", emu.crm_url()))).await;
    assert_eq!(hs.status, 404);
    assert!(
        hs.body.get("category").is_some() || hs.body.get("correlationId").is_some(),
        "{:?}",
        hs.body
    );
    emu.set_faults(Faults {
        error_rate: 1.0,
        error_kinds: vec![ErrorKind::InternalError],
        ..Faults::default()
    });
    assert_error(&get(&emu, &format!("{V}/org")).await, 500, "INTERNAL_ERROR");
    emu.set_faults(Faults {
        error_rate: 1.0,
        error_kinds: vec![ErrorKind::TooManyRequests],
        ..Faults::default()
    });
    let a = get(&emu, &format!("{V}/org")).await;
    assert_error(&a, 429, "TOO_MANY_REQUESTS");
    assert!(a.headers.get("retry-after").is_none());
    emu.clear_faults();
}

#[tokio::test]
async fn person_edits_deletes_seed_and_records() {
    let emu = start().await;
    let id = create(
        &emu,
        json!({"Last_Name": "Person", "Outpost_Key": "p1", "Email": "p@example.com"}),
    )
    .await;
    let r = client()
        .post(format!("{}/records/edit", emu.control_url()))
        .json(&json!({"api": "zoho", "key": "p1", "fields": {"Phone": "999", "First_Name": null}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rec = get(&emu, &format!("{V}/Contacts/{id}")).await;
    assert_eq!(rec.body["data"][0]["Phone"], "999");
    emu.edit_as_crm_user(
        &Target::zoho("p@example.com").by("Email"),
        &serde_json::Map::from_iter([("Mobile".to_string(), json!("1"))]),
    )
    .unwrap();
    emu.edit_as_crm_user(
        &Target::zoho(id.clone()).by("id"),
        &serde_json::Map::from_iter([("Description".to_string(), json!("by id"))]),
    )
    .unwrap();
    let rec = get(&emu, &format!("{V}/Contacts/{id}")).await;
    assert_eq!(rec.body["data"][0]["Mobile"], "1");
    assert_eq!(rec.body["data"][0]["Description"], "by id");
    let stored: Vec<_> = emu
        .records()
        .into_iter()
        .filter(|r| r.api == "zoho")
        .collect();
    assert_eq!(
        (
            stored[0].object.as_str(),
            stored[0].key.as_deref(),
            stored[0].id.as_str()
        ),
        ("Contacts", Some("p1"), id.as_str())
    );
    let r = client()
        .post(format!("{}/records/delete", emu.control_url()))
        .json(&json!({"api": "zoho", "key": "p1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(get(&emu, &format!("{V}/Contacts/{id}")).await.status, 204);
    assert_eq!(
        get(&emu, &format!("{V}/Contacts/deleted")).await.body["info"]["count"],
        1
    );
    assert!(!emu.delete_as_crm_user(&Target::zoho("p1")).unwrap());

    let seeded = ctl(
        &emu,
        "/seed",
        json!({"api": "zoho", "object": "Leads", "count": 3, "records": [{"Last_Name": "Explicit", "Company": "Acme", "Outpost_Key": "lead-1"}]}),
    )
    .await;
    assert_eq!(seeded["ids"].as_array().unwrap().len(), 4);
    let leads = get(&emu, &format!("{V}/Leads?fields=Last_Name,Company")).await;
    assert_eq!(leads.body["info"]["count"], 4);
    assert!(emu
        .delete_as_crm_user(&Target::zoho_lead("lead-1"))
        .unwrap());

    // The race fault: a person changes a field right after a read.
    let id = create(&emu, json!({"Last_Name": "Racer"})).await;
    emu.set_faults(Faults {
        race: Some(crm_emulator::Race {
            field: "Phone".into(),
            value: Some("changed".into()),
            reads: 1,
        }),
        ..Faults::default()
    });
    let first = get(&emu, &format!("{V}/Contacts/{id}")).await;
    assert!(first.body["data"][0]["Phone"].is_null());
    let second = get(&emu, &format!("{V}/Contacts/{id}")).await;
    assert_eq!(second.body["data"][0]["Phone"], "changed");
}

#[tokio::test]
async fn records_survive_a_restart_and_reset_clears() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        state: Some(dir.path().join("state.db")),
        ..Config::unlimited()
    };
    let emu = start_with(cfg.clone()).await;
    let kept = create(&emu, json!({"Last_Name": "Kept", "Outpost_Key": "s1"})).await;
    ctl(
        &emu,
        "/zoho/fields",
        json!({"module": "Leads", "api_name": "VAT_Number", "length": 20}),
    )
    .await;
    emu.set_zoho_field_flags("Contacts", "Outpost_Key", Some(false), None)
        .unwrap();
    let gone = create(&emu, json!({"Last_Name": "Gone"})).await;
    call(&emu, Method::DELETE, &format!("{V}/Contacts/{gone}"), None).await;
    emu.shutdown().await;
    let emu = start_with(cfg).await;
    let a = get(&emu, &format!("{V}/Contacts/{kept}")).await;
    assert_eq!(a.body["data"][0]["Outpost_Key"], "s1");
    let s = settings(&emu).await;
    assert_eq!(
        s["modules"]["Leads"]["custom_fields"][1]["api_name"],
        "VAT_Number"
    );
    assert_eq!(
        s["modules"]["Contacts"]["custom_fields"][0]["unique"], false,
        "fields are kept"
    );
    assert_eq!(
        get(&emu, &format!("{V}/Contacts/deleted")).await.body["data"][0]["id"],
        gone.as_str()
    );
    let next = create(&emu, json!({"Last_Name": "Next"})).await;
    assert!(
        next.parse::<u64>().unwrap() > gone.parse::<u64>().unwrap(),
        "ids keep increasing"
    );

    emu.set_zoho_credits(5, Some(1));
    emu.set_zoho_creatable("Contacts", false).unwrap();
    ctl(&emu, "/reset", json!({})).await;
    assert_eq!(
        get(&emu, &format!("{V}/Contacts?fields=Last_Name"))
            .await
            .status,
        204
    );
    let s = settings(&emu).await;
    assert_eq!(s["credits"]["max"], 1_000_000);
    assert_eq!(s["modules"]["Contacts"]["creatable"], true);
    assert_eq!(s["data_centre"], "com");
    assert_eq!(
        s["modules"]["Leads"]["custom_fields"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s["modules"]["Contacts"]["custom_fields"][0]["unique"], true);
}
