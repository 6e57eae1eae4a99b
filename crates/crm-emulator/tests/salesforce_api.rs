//! Salesforce REST emulation, end to end over loopback.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{client, json, req, start, start_with};
use crm_emulator::crm_user::Target;
use crm_emulator::{Api, Config, Emulator, RateLimit};
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "/services/data/v59.0";

fn contacts() -> String {
    format!("{V}/sobjects/Contact/")
}

async fn call(emu: &Emulator, m: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let c = client();
    let mut r = req(&c, emu, m, path);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    (status, v)
}

async fn token(emu: &Emulator, form: &[(&str, &str)]) -> (u16, Value) {
    json(
        client()
            .post(format!("{}/services/oauth2/token", emu.crm_url()))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn oauth_grants_sessions_and_rotation() {
    let emu = start().await;
    let cfg = emu.config().clone();
    let (s, t) = token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cfg.oauth_client_id),
            ("client_secret", &cfg.oauth_client_secret),
            ("refresh_token", &cfg.oauth_refresh_token),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["instance_url"], emu.crm_url());
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "api refresh_token");
    assert_eq!(
        t["id"],
        format!("{}/id/00D000000000001EAA/005000000000001AAA", emu.crm_url())
    );
    assert!(t["issued_at"].as_str().unwrap().parse::<i64>().unwrap() > 1_700_000_000_000);
    assert!(t["signature"].as_str().unwrap().len() == 44);
    assert!(t.get("refresh_token").is_none(), "no rotation by default");
    let access = t["access_token"].as_str().unwrap().to_string();
    let c = client();
    let get = |tok: String| {
        let c = c.clone();
        let url = format!("{}{V}/sobjects/Contact/describe", emu.crm_url());
        async move {
            let r = c
                .get(url)
                .header("Authorization", format!("OAuth {tok}"))
                .send()
                .await
                .unwrap();
            json(r).await
        }
    };
    assert_eq!(get(access.clone()).await.0, 200);

    let (s, t) = token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.oauth_client_id),
            ("client_secret", &cfg.oauth_client_secret),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert!(t["access_token"].is_string());

    let (s, e) = token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.oauth_client_id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_client")));
    let (s, e) = token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cfg.oauth_client_id),
            ("client_secret", &cfg.oauth_client_secret),
            ("refresh_token", "nope"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        e,
        json!({"error": "invalid_grant", "error_description": "authentication failure"})
    );

    // Expired session → 401 INVALID_SESSION_ID as an array.
    emu.expire_tokens(Some(&access));
    let (s, e) = get(access.clone()).await;
    assert_eq!(s, 401);
    assert_eq!(
        e,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    let (s, _) = json(
        client()
            .get(format!("{}{V}/limits", emu.crm_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401, "no token");

    // Rotation and a moved org.
    emu.set_salesforce_rotation(true);
    emu.set_salesforce_instance_url(Some("http://localhost:1".into()));
    let refresh = |r: String| {
        let emu = &emu;
        let cfg = cfg.clone();
        async move {
            token(
                emu,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &cfg.oauth_client_id),
                    ("client_secret", &cfg.oauth_client_secret),
                    ("refresh_token", &r),
                ],
            )
            .await
        }
    };
    let (s, t) = refresh(cfg.oauth_refresh_token.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(t["instance_url"], "http://localhost:1");
    let rotated = t["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        refresh(cfg.oauth_refresh_token.clone()).await.0,
        400,
        "old refresh token is gone"
    );
    assert_eq!(refresh(rotated).await.0, 200);
    emu.shutdown().await;
}

fn ada(key: &str) -> Value {
    json!({"FirstName": "Ada", "LastName": "Lovelace", "Email": format!("{key}@example.com"), "Outpost_Key__c": key})
}

#[tokio::test]
async fn create_get_patch_delete_and_upsert() {
    let emu = start().await;
    let (s, r) = call(&emu, Method::POST, &contacts(), Some(ada("k1"))).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["success"], true);
    assert_eq!(r["errors"], json!([]));
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("003"));

    let (s, rec) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        rec["attributes"],
        json!({"type": "Contact", "url": format!("{V}/sobjects/Contact/{id}")})
    );
    assert_eq!(rec["OwnerId"], "005000000000001AAA");
    assert_eq!(rec["IsDeleted"], false);
    assert_eq!(rec["MailingCity"], Value::Null);
    let stamp = rec["SystemModstamp"].as_str().unwrap();
    assert!(stamp.ends_with(".000+0000"), "{stamp}");
    let (_, some) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/{id}?fields=LastName,Email"),
        None,
    )
    .await;
    assert_eq!(some.as_object().unwrap().len(), 3);

    let (s, _) = call(
        &emu,
        Method::PATCH,
        &format!("{V}/sobjects/Contact/{id}"),
        Some(json!({"MailingCity": "Berlin"})),
    )
    .await;
    assert_eq!(s, 204);
    let (s, by_key) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/Outpost_Key__c/K1"),
        None,
    )
    .await;
    assert_eq!(s, 200, "case-insensitive key");
    assert_eq!(by_key["MailingCity"], "Berlin");

    // Upsert: 200 update, 201 create, 404 for a field that is not an external id.
    let up = |k: &str| format!("{V}/sobjects/Contact/Outpost_Key__c/{k}");
    let (s, r) = call(
        &emu,
        Method::PATCH,
        &up("k1"),
        Some(json!({"Phone": "+49 30 1234"})),
    )
    .await;
    assert_eq!(
        (s, &r["created"], r["id"].as_str()),
        (200, &json!(false), Some(id.as_str()))
    );
    let (s, r) = call(
        &emu,
        Method::PATCH,
        &up("k2"),
        Some(json!({"LastName": "Byron"})),
    )
    .await;
    assert_eq!((s, &r["created"]), (201, &json!(true)));
    let (s, e) = call(
        &emu,
        Method::PATCH,
        &format!("{V}/sobjects/Contact/Email/x@y.z"),
        Some(json!({"LastName": "X"})),
    )
    .await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (404, Some("NOT_FOUND")));
    // 300 once the key is not unique and two records share it.
    assert!(emu.set_salesforce_field_flags("Contact", "Outpost_Key__c", true, false));
    let (s, _) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "Twin", "Outpost_Key__c": "k2"})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, urls) = call(
        &emu,
        Method::PATCH,
        &up("k2"),
        Some(json!({"LastName": "Who"})),
    )
    .await;
    assert_eq!(s, 300);
    assert_eq!(urls.as_array().unwrap().len(), 2);
    assert!(urls[0]
        .as_str()
        .unwrap()
        .starts_with(&format!("{V}/sobjects/Contact/003")));
    assert!(emu.set_salesforce_field_flags("Contact", "Outpost_Key__c", false, false));
    let (s, _) = call(
        &emu,
        Method::PATCH,
        &up("k1"),
        Some(json!({"LastName": "X"})),
    )
    .await;
    assert_eq!(s, 404, "no longer an external id");

    // Delete → recycle bin.
    let (s, _) = call(
        &emu,
        Method::DELETE,
        &format!("{V}/sobjects/Contact/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, e) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/{id}"),
        None,
    )
    .await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (404, Some("NOT_FOUND")));
    let (s, e) = call(
        &emu,
        Method::DELETE,
        &format!("{V}/sobjects/Contact/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (s, e[0]["errorCode"].as_str()),
        (404, Some("ENTITY_IS_DELETED"))
    );

    // Unknown routes and methods answer Salesforce's array.
    let (s, e) = call(&emu, Method::GET, "/services/data/v59.0/nothing", None).await;
    assert_eq!((s, e[0]["errorCode"].as_str()), (404, Some("NOT_FOUND")));
    let (s, e) = call(
        &emu,
        Method::PUT,
        &format!("{V}/sobjects/Contact/{id}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (s, e[0]["errorCode"].as_str()),
        (405, Some("METHOD_NOT_ALLOWED"))
    );
    let (s, _) = call(&emu, Method::GET, "/services/data/v5.x/sobjects/", None).await;
    assert_eq!(s, 404);
    let (s, versions) = call(&emu, Method::GET, "/services/data/", None).await;
    assert_eq!(s, 200);
    assert!(versions
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["version"] == "62.0" && v["url"] == "/services/data/v62.0"));
    assert!(
        emu.count(
            "PATCH /services/data/{version}/sobjects/{object}/{field}/{value}",
            300
        ) == 1
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn per_record_errors_and_duplicate_rules() {
    let emu = start().await;
    let code = |v: &Value| v[0]["errorCode"].as_str().map(String::from);
    let (s, e) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"FirstName": "A"})),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        e,
        json!([{"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"]}])
    );
    let (_, e) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "A", "Email": "nope"})),
    )
    .await;
    assert_eq!(code(&e).as_deref(), Some("INVALID_EMAIL_ADDRESS"));
    let (_, e) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "A".repeat(81)})),
    )
    .await;
    assert_eq!(code(&e).as_deref(), Some("STRING_TOO_LONG"));
    let (_, e) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "A", "Shoe__c": "x"})),
    )
    .await;
    assert_eq!(
        (code(&e).as_deref(), &e[0]["fields"]),
        (Some("INVALID_FIELD"), &json!(["Shoe__c"]))
    );
    let (_, e) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "A", "CreatedDate": "2026-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(code(&e).as_deref(), Some("INVALID_FIELD_FOR_INSERT_UPDATE"));
    let (_, e) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "A", "LeadSource": "Trade Show"})),
    )
    .await;
    assert_eq!(
        code(&e).as_deref(),
        Some("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    );
    let (s, _) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "A", "LeadSource": "Web", "Salutation": "Dr."})),
    )
    .await;
    assert_eq!(s, 201);
    // Lead: Company required, Status defaulted.
    let (_, e) = call(
        &emu,
        Method::POST,
        &format!("{V}/sobjects/Lead/"),
        Some(json!({"LastName": "L"})),
    )
    .await;
    assert_eq!(e[0]["fields"], json!(["Company"]));
    let (s, r) = call(
        &emu,
        Method::POST,
        &format!("{V}/sobjects/Lead/"),
        Some(json!({"LastName": "L", "Company": "ACME"})),
    )
    .await;
    assert_eq!(s, 201);
    let (_, lead) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Lead/{}", r["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(lead["Status"], "Open - Not Contacted");
    assert!(lead["Id"].as_str().unwrap().starts_with("00Q"));

    // A unique key repeated by a create.
    let (s, r) = call(&emu, Method::POST, &contacts(), Some(ada("dup"))).await;
    assert_eq!(s, 201);
    let first = r["id"].as_str().unwrap().to_string();
    let (s, e) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "B", "Outpost_Key__c": "DUP"})),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(code(&e).as_deref(), Some("DUPLICATE_VALUE"));
    assert_eq!(
        e[0]["message"],
        format!(
            "duplicate value found: Outpost_Key__c duplicates value on record with id: {first}"
        )
    );

    // Duplicate rule on: same email refused unless allowSave.
    emu.set_salesforce_duplicate_rule(true);
    let twin = json!({"LastName": "Twin", "Email": "DUP@example.com"});
    let (s, e) = call(&emu, Method::POST, &contacts(), Some(twin.clone())).await;
    assert_eq!(s, 400);
    assert_eq!(code(&e).as_deref(), Some("DUPLICATES_DETECTED"));
    assert_eq!(
        e[0]["message"],
        "You're creating a duplicate record. We recommend you use an existing record instead."
    );
    let c = client();
    let resp = req(&c, &emu, Method::POST, &contacts())
        .header("Sforce-Duplicate-Rule-Header", "allowSave=true")
        .json(&twin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    emu.set_salesforce_duplicate_rule(false);
    let (s, _) = call(&emu, Method::POST, &contacts(), Some(twin)).await;
    assert_eq!(s, 201);
    emu.shutdown().await;
}

#[tokio::test]
async fn if_unmodified_since_and_crm_user_edits() {
    let emu = start().await;
    let (_, r) = call(&emu, Method::POST, &contacts(), Some(ada("k9"))).await;
    let id = r["id"].as_str().unwrap().to_string();
    let (_, rec) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/{id}"),
        None,
    )
    .await;
    let stamp = chrono::DateTime::parse_from_str(
        rec["LastModifiedDate"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.3f%z",
    )
    .unwrap();
    let http_date = stamp
        .with_timezone(&chrono::Utc)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let patch = |date: String| {
        let c = client();
        let url = format!("{}{V}/sobjects/Contact/{id}", emu.crm_url());
        let tok = emu.token().to_string();
        async move {
            c.patch(url)
                .bearer_auth(tok)
                .header("If-Unmodified-Since", date)
                .json(&json!({"Phone": "1"}))
                .send()
                .await
                .unwrap()
        }
    };
    // A person edits it in the CRM: the stamp moves past the date we read.
    assert!(emu
        .edit_as_crm_user(
            &Target::salesforce("k9"),
            &serde_json::Map::from_iter([("MailingCity".to_string(), json!("Paris"))])
        )
        .unwrap());
    let resp = patch(http_date.clone()).await;
    assert_eq!(resp.status().as_u16(), 412);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e[0]["errorCode"], "PRECONDITION_FAILED");
    let (_, rec) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/{id}"),
        None,
    )
    .await;
    assert_eq!(rec["MailingCity"], "Paris");
    let fresh = chrono::DateTime::parse_from_str(
        rec["LastModifiedDate"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.3f%z",
    )
    .unwrap();
    let resp = patch(
        fresh
            .with_timezone(&chrono::Utc)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 204);

    let rec = emu
        .records()
        .into_iter()
        .find(|r| r.api == "salesforce")
        .unwrap();
    assert_eq!(
        (rec.object.as_str(), rec.key.as_deref()),
        ("Contact", Some("k9"))
    );
    assert_eq!(rec.record["Phone"], "1");
    assert_eq!(emu.records_per_key()["k9"], 1);
    assert!(emu.delete_as_crm_user(&Target::salesforce("k9")).unwrap());
    assert!(emu.records().iter().all(|r| r.api != "salesforce"));
    assert!(!emu
        .delete_as_crm_user(&Target::salesforce_lead("k9"))
        .unwrap());
    emu.shutdown().await;
}

#[tokio::test]
async fn collections() {
    let emu = start().await;
    let rec =
        |k: &str| json!({"attributes": {"type": "Contact"}, "LastName": "L", "Outpost_Key__c": k});
    let (s, r) = call(
        &emu,
        Method::POST,
        &format!("{V}/composite/sobjects"),
        Some(json!({"allOrNone": false, "records": [rec("a"), {"attributes": {"type": "Contact"}, "FirstName": "x"}, rec("b")]})),
    )
    .await;
    assert_eq!(s, 200);
    let r = r.as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0]["success"].as_bool(), r[2]["success"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(r[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(r[1]["errors"][0]["fields"], json!(["LastName"]));

    // allOrNone: nothing kept, the good ones rolled back.
    let before = emu.records().len();
    let (_, r) = call(
        &emu,
        Method::POST,
        &format!("{V}/composite/sobjects"),
        Some(json!({"allOrNone": true, "records": [rec("c"), {"attributes": {"type": "Contact"}, "LastName": "x", "Email": "bad"}]})),
    )
    .await;
    assert_eq!(
        r[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(r[1]["errors"][0]["statusCode"], "INVALID_EMAIL_ADDRESS");
    assert_eq!(emu.records().len(), before);

    // Upsert by key: one update, 199 creates.
    let records: Vec<Value> = (0..200)
        .map(|n| {
            let mut r = rec(if n == 0 { "a" } else { "" });
            if n > 0 {
                r["Outpost_Key__c"] = json!(format!("u{n}"));
            }
            r
        })
        .collect();
    let (s, r) = call(
        &emu,
        Method::PATCH,
        &format!("{V}/composite/sobjects/Contact/Outpost_Key__c"),
        Some(json!({"allOrNone": false, "records": records.clone()})),
    )
    .await;
    assert_eq!(s, 200);
    let r = r.as_array().unwrap();
    assert_eq!(r.len(), 200);
    assert_eq!(r[0]["created"], false);
    assert!(r[1..]
        .iter()
        .all(|x| x["created"] == true && x["success"] == true));
    let mut too_many = records;
    too_many.push(rec("z"));
    let (s, e) = call(
        &emu,
        Method::PATCH,
        &format!("{V}/composite/sobjects/Contact/Outpost_Key__c"),
        Some(json!({"records": too_many})),
    )
    .await;
    assert_eq!(
        (s, e[0]["errorCode"].as_str()),
        (400, Some("EXCEEDED_ID_LIMIT"))
    );

    // Re-read by ids, null for a missing one.
    let id = r[1]["id"].as_str().unwrap();
    let (s, got) = call(
        &emu,
        Method::GET,
        &format!(
            "{V}/composite/sobjects/Contact?ids={id},003000000099999AAA&fields=Id,Outpost_Key__c"
        ),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(got[0]["Outpost_Key__c"], "u1");
    assert_eq!(got[1], Value::Null);
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_and_custom_fields() {
    let emu = start().await;
    let (s, d) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/describe"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let field = |d: &Value, n: &str| {
        d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .cloned()
    };
    let last = field(&d, "LastName").unwrap();
    assert_eq!(
        (
            last["type"].as_str(),
            last["length"].as_u64(),
            last["nillable"].as_bool(),
            last["defaultedOnCreate"].as_bool()
        ),
        (Some("string"), Some(80), Some(false), Some(false))
    );
    let key = field(&d, "Outpost_Key__c").unwrap();
    assert_eq!(
        (
            key["externalId"].as_bool(),
            key["unique"].as_bool(),
            key["caseSensitive"].as_bool(),
            key["length"].as_u64()
        ),
        (Some(true), Some(true), Some(false), Some(36))
    );
    let source = field(&d, "LeadSource").unwrap();
    assert!(source["picklistValues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["value"] == "Trade Show" && p["active"] == false));
    assert_eq!(field(&d, "Email").unwrap()["type"], "email");
    assert_eq!(field(&d, "Description").unwrap()["length"], 32000);
    let (_, l) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Lead/describe"),
        None,
    )
    .await;
    let status = field(&l, "Status").unwrap();
    assert_eq!(
        (
            status["defaultedOnCreate"].as_bool(),
            status["defaultValue"].as_str()
        ),
        (Some(true), Some("Open - Not Contacted"))
    );
    assert!(field(&l, "Company").is_some() && field(&l, "MailingCity").is_none());

    assert!(emu.remove_salesforce_field("Contact", "Outpost_Key__c"));
    assert!(
        !emu.remove_salesforce_field("Contact", "LastName"),
        "standard fields stay"
    );
    emu.define_salesforce_field("Contact", "VAT_Number__c", "string", 32)
        .unwrap();
    let (_, d) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/describe"),
        None,
    )
    .await;
    assert!(field(&d, "Outpost_Key__c").is_none());
    assert_eq!(field(&d, "VAT_Number__c").unwrap()["length"], 32);
    let (s, _) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "V", "VAT_Number__c": "DE123"})),
    )
    .await;
    assert_eq!(s, 201);
    let (_, e) = call(
        &emu,
        Method::POST,
        &contacts(),
        Some(json!({"LastName": "V", "Outpost_Key__c": "k"})),
    )
    .await;
    assert_eq!(e[0]["errorCode"], "INVALID_FIELD");
    // Through the control API too.
    let r = client()
        .post(format!("{}/salesforce/fields", emu.control_url()))
        .json(&json!({"object": "Lead", "name": "VAT_Number__c", "type": "string", "length": 32}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(emu.salesforce_field("Lead", "vat_number__c").is_some());
    emu.shutdown().await;
}

fn seed(emu: &Emulator, n: usize) -> Vec<String> {
    emu.seed_salesforce(
        "Contact",
        (0..n)
            .map(|i| {
                BTreeMap::from([
                    ("LastName".to_string(), format!("Seed {i}")),
                    ("Email".to_string(), format!("seed{i}@example.com")),
                    ("Outpost_Key__c".to_string(), format!("s{i}")),
                    (
                        "MailingCountry".to_string(),
                        if i % 2 == 0 { "DE" } else { "FR" }.to_string(),
                    ),
                ])
            })
            .collect(),
    )
}

async fn query(emu: &Emulator, path: &str, q: &str, batch: Option<usize>) -> (u16, Value) {
    let c = client();
    let mut r = req(&c, emu, Method::GET, &format!("{V}/{path}")).query(&[("q", q)]);
    if let Some(b) = batch {
        r = r.header("Sforce-Query-Options", format!("batchSize={b}"));
    }
    json(r.send().await.unwrap()).await
}

#[tokio::test]
async fn soql_paging_strictness_and_query_all() {
    let emu = start().await;
    let ids = seed(&emu, 450);
    let pull = "SELECT Id, LastName, Outpost_Key__c, SystemModstamp FROM Contact WHERE (SystemModstamp > 2000-01-01T00:00:00Z OR (SystemModstamp = 2000-01-01T00:00:00.000+0000 AND Id > '003')) AND OwnerId = '005000000000001AAA' AND MailingCountry = 'de' AND LastModifiedDate = LAST_N_DAYS:30 ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000";
    let (s, page) = query(&emu, "query", pull, Some(200)).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["totalSize"], 225);
    assert_eq!(page["done"], false);
    let recs = page["records"].as_array().unwrap();
    assert_eq!(recs.len(), 200);
    assert_eq!(
        recs[0].as_object().unwrap().len(),
        5,
        "selected fields plus attributes"
    );
    assert_eq!(recs[0]["Id"], ids[0].as_str());
    let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
    assert!(
        next.starts_with("/services/data/v59.0/query/01g") && next.ends_with("-200"),
        "{next}"
    );
    let (s, page2) = call(&emu, Method::GET, &next, None).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            page2["done"].as_bool(),
            page2["records"].as_array().unwrap().len()
        ),
        (Some(true), 25)
    );
    assert!(page2.get("nextRecordsUrl").is_none());
    // Default batch 2000: all at once.
    let (_, all) = query(&emu, "query", "SELECT Id FROM Contact", None).await;
    assert_eq!(
        (all["totalSize"].as_u64(), all["done"].as_bool()),
        (Some(450), Some(true))
    );
    // Expired cursor.
    let (_, p) = query(&emu, "query", "SELECT Id FROM Contact", Some(200)).await;
    emu.expire_salesforce_query_locators();
    let (s, e) = call(
        &emu,
        Method::GET,
        p["nextRecordsUrl"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(
        (s, e[0]["errorCode"].as_str()),
        (400, Some("INVALID_QUERY_LOCATOR"))
    );

    // Strict parser.
    for (q, code) in [
        ("SELECT * FROM Contact", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Contact WHERE LastName = 'x' OR '1'='1'",
            "MALFORMED_QUERY",
        ),
        ("SELECT Nope FROM Contact", "INVALID_FIELD"),
        (
            "SELECT Id FROM Contact WHERE SystemModstamp > '2026-01-01T00:00:00Z'",
            "INVALID_FIELD",
        ),
    ] {
        let (s, e) = query(&emu, "query", q, None).await;
        assert_eq!((s, e[0]["errorCode"].as_str()), (400, Some(code)), "{q}");
    }
    let (s, r) = query(
        &emu,
        "query",
        r"SELECT Id FROM Contact WHERE LastName = 'x\' OR \'1\'=\'1'",
        None,
    )
    .await;
    assert_eq!(
        (s, r["totalSize"].as_u64()),
        (200, Some(0)),
        "one literal string, no match"
    );
    let (_, r) = query(
        &emu,
        "query",
        "SELECT Id FROM Contact WHERE LastName = 'SEED 7'",
        None,
    )
    .await;
    assert_eq!(r["totalSize"], 1, "= is case-insensitive");
    let (_, r) = query(
        &emu,
        "query",
        "SELECT Id FROM Contact WHERE LastName LIKE 'seed 1%' AND MailingCountry IN ('FR')",
        None,
    )
    .await;
    assert_eq!(r["totalSize"], 56);

    // queryAll sees the recycle bin.
    let (s, _) = call(
        &emu,
        Method::DELETE,
        &format!("{V}/sobjects/Contact/{}", ids[3]),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let deleted = "SELECT Id, Outpost_Key__c, SystemModstamp FROM Contact WHERE IsDeleted = true AND SystemModstamp > 2000-01-01T00:00:00Z ORDER BY SystemModstamp ASC, Id ASC";
    let (_, r) = query(&emu, "query", deleted, None).await;
    assert_eq!(r["totalSize"], 0);
    let (_, r) = query(&emu, "queryAll", deleted, None).await;
    assert_eq!(r["totalSize"], 1);
    assert_eq!(r["records"][0]["Outpost_Key__c"], "s3");
    let (_, r) = query(&emu, "query", "SELECT Id FROM Contact", None).await;
    assert_eq!(r["totalSize"], 449);
    let (s, d) = call(
        &emu,
        Method::GET,
        &format!(
            "{V}/sobjects/Contact/deleted/?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z"
        ),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(d["deletedRecords"][0]["id"], ids[3].as_str());
    emu.shutdown().await;
}

#[tokio::test]
async fn parameterized_search() {
    let emu = start().await;
    call(&emu, Method::POST, &contacts(), Some(json!({"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@navy.example", "Phone": "+1 (555) 010-9999"}))).await;
    call(&emu, Method::POST, &contacts(), Some(ada("k1"))).await;
    let c = client();
    let (s, r) = json(
        req(&c, &emu, Method::GET, &format!("{V}/parameterizedSearch"))
            .query(&[
                ("q", "hop"),
                ("sobject", "Contact"),
                ("Contact.fields", "Id,FirstName,LastName"),
                ("Contact.limit", "20"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    let hits = r["searchRecords"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["LastName"], "Hopper");
    let (_, r) = call(
        &emu,
        Method::POST,
        &format!("{V}/parameterizedSearch"),
        Some(json!({"q": "5550109999", "sobjects": [{"name": "Contact", "fields": ["Email"]}]})),
    )
    .await;
    assert_eq!(r["searchRecords"][0]["Email"], "grace@navy.example");
    let (_, r) = call(
        &emu,
        Method::POST,
        &format!("{V}/parameterizedSearch"),
        Some(json!({"q": "ADA LOVE"})),
    )
    .await;
    assert_eq!(
        r["searchRecords"].as_array().unwrap().len(),
        1,
        "full name, both objects, Id only"
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        &format!("{V}/parameterizedSearch"),
        Some(json!({"q": "a"})),
    )
    .await;
    assert_eq!(
        (s, e[0]["errorCode"].as_str()),
        (400, Some("INVALID_SEARCH"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn budget_and_limits() {
    let emu = start_with(Config::default()).await;
    assert_eq!(
        emu.rate_limit(Api::Salesforce),
        Some(RateLimit {
            max: 100_000,
            window: Duration::from_secs(86_400)
        })
    );
    emu.set_rate_limit(
        Api::Salesforce,
        Some(RateLimit {
            max: 3,
            window: Duration::from_secs(3600),
        }),
    );
    let c = client();
    let mut infos = Vec::new();
    for _ in 0..3 {
        let r = req(&c, &emu, Method::GET, &format!("{V}/limits"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        infos.push(
            r.headers()["sforce-limit-info"]
                .to_str()
                .unwrap()
                .to_string(),
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["DailyApiRequests"]["Max"], 3);
    }
    assert_eq!(infos, ["api-usage=1/3", "api-usage=2/3", "api-usage=3/3"]);
    // The token endpoint does not count.
    let cfg = emu.config().clone();
    let (s, _) = token(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.oauth_client_id),
            ("client_secret", &cfg.oauth_client_secret),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let r = req(&c, &emu, Method::GET, &format!("{V}/sobjects/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=3/3");
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        e,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    // Control route.
    let r = c
        .post(format!("{}/rate-limit", emu.control_url()))
        .json(&json!({"salesforce": "off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        req(&c, &emu, Method::GET, &format!("{V}/limits"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn injected_faults_use_the_array_shape() {
    let emu = start().await;
    emu.set_faults(crm_emulator::Faults {
        error_rate: 1.0,
        error_kinds: vec![crm_emulator::ErrorKind::Unavailable],
        ..Default::default()
    });
    let (s, e) = call(&emu, Method::GET, &format!("{V}/limits"), None).await;
    assert_eq!(
        (s, e[0]["errorCode"].as_str()),
        (503, Some("SERVER_UNAVAILABLE"))
    );
    emu.clear_faults();
    emu.shutdown().await;
}

#[tokio::test]
async fn state_file_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let config = Config {
        state: Some(path.clone()),
        ..Config::unlimited()
    };
    let emu = start_with(config.clone()).await;
    let (_, r) = call(&emu, Method::POST, &contacts(), Some(ada("keep"))).await;
    let id = r["id"].as_str().unwrap().to_string();
    emu.define_salesforce_field("Contact", "VAT_Number__c", "string", 32)
        .unwrap();
    emu.remove_salesforce_field("Lead", "Outpost_Key__c");
    emu.shutdown().await;
    let emu = start_with(config).await;
    let (s, rec) = call(
        &emu,
        Method::GET,
        &format!("{V}/sobjects/Contact/{id}"),
        None,
    )
    .await;
    assert_eq!((s, rec["Outpost_Key__c"].as_str()), (200, Some("keep")));
    assert!(emu.salesforce_field("Contact", "VAT_Number__c").is_some());
    assert!(emu.salesforce_field("Lead", "Outpost_Key__c").is_none());
    let (_, r) = call(&emu, Method::POST, &contacts(), Some(ada("new"))).await;
    assert_ne!(
        r["id"].as_str().unwrap(),
        id,
        "ids continue after a restart"
    );
    emu.reset().await;
    assert!(emu.records().is_empty());
    assert!(
        emu.salesforce_field("Lead", "Outpost_Key__c").is_some(),
        "reset restores the default fields"
    );
    emu.shutdown().await;
}
