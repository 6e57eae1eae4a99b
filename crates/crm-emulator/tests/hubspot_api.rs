//! HubSpot CRM v3 emulation, end to end over loopback.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{client, eventually, json, req, start, start_with};
use crm_emulator::{Config, RateLimit};
use reqwest::Method;
use serde_json::{json, Value};

const CONTACTS: &str = "/crm/v3/objects/contacts";

fn contact(email: &str, key: &str) -> Value {
    json!({"properties": {"email": email, "firstname": "Ada", "lastname": "Lovelace", "outpost_key": key}})
}

#[tokio::test]
async fn create_get_and_conflict() {
    let emu = start().await;
    let c = client();
    let (status, created) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .json(&contact("ada@example.com", "k1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.parse::<u64>().is_ok(), "numeric string id");
    assert_eq!(created["properties"]["hs_object_id"], id.as_str());
    assert!(created["properties"]["createdate"].is_string());
    assert!(created["properties"]["lastmodifieddate"].is_string());
    assert_eq!(created["archived"], false);

    let (status, got) = json(
        req(&c, &emu, Method::GET, &format!("{CONTACTS}/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got["properties"]["email"], "ada@example.com");
    assert!(
        got["properties"].get("outpost_key").is_none(),
        "not a default property"
    );

    let path = format!("{CONTACTS}/k1?idProperty=outpost_key&properties=email,outpost_key");
    let (status, by_key) = json(req(&c, &emu, Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(by_key["id"], id.as_str());
    assert_eq!(
        by_key["properties"],
        json!({"email": "ada@example.com", "outpost_key": "k1"})
    );

    let (status, err) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .json(&contact("ADA@example.com", "k2"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(err["category"], "CONFLICT");
    assert_eq!(err["status"], "error");
    assert_eq!(
        err["message"],
        format!("Contact already exists. Existing ID: {id}")
    );
    assert!(err["correlationId"].as_str().is_some_and(|s| s.len() == 36));

    let (status, err) = json(
        req(&c, &emu, Method::GET, &format!("{CONTACTS}/999999"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["category"].as_str()),
        (404, Some("OBJECT_NOT_FOUND"))
    );
    assert_eq!(emu.count("POST /crm/v3/objects/contacts", 201), 1);
    assert_eq!(emu.count("POST /crm/v3/objects/contacts", 409), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn validation_errors_look_like_hubspot() {
    let emu = start().await;
    let c = client();
    let (status, err) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .json(&json!({"properties": {"email": "nope", "lastname": "X"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["category"], "VALIDATION_ERROR");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .starts_with("Property values were not valid"));
    assert_eq!(err["errors"][0]["code"], "INVALID_EMAIL");
    assert_eq!(
        err["errors"][0]["context"]["propertyName"],
        json!(["email"])
    );

    let (status, err) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .json(&json!({"properties": {"favourite_colour": "red"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["errors"][0]["code"].as_str()),
        (400, Some("PROPERTY_DOESNT_EXIST"))
    );

    let (status, err) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .header("content-type", "application/json")
            .body("{\"properties\": [")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(err["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid input JSON"));
    emu.shutdown().await;
}

#[tokio::test]
async fn batch_upsert_create_read_and_limits() {
    let emu = start().await;
    let c = client();
    let upsert = |inputs: Value| {
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/batch/upsert"))
            .json(&json!({"inputs": inputs}))
            .send()
    };
    let inputs = json!([
        {"idProperty": "outpost_key", "id": "k1", "properties": {"email": "a@example.com", "lastname": "A"}},
        {"idProperty": "outpost_key", "id": "k2", "properties": {"email": "b@example.com", "lastname": "B"}}
    ]);
    let (status, first) = json(upsert(inputs.clone()).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(first["status"], "COMPLETE");
    assert!(first["startedAt"].is_string() && first["completedAt"].is_string());
    let results = first["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results
        .iter()
        .all(|r| r["new"] == true && r["archived"] == false));

    let (_, second) = json(upsert(inputs).await.unwrap()).await;
    assert!(second["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["new"] == false));
    assert_eq!(second["results"][0]["id"], first["results"][0]["id"]);
    assert_eq!(emu.records().len(), 2);
    let keys: Vec<_> = emu.records().into_iter().filter_map(|r| r.key).collect();
    assert_eq!(keys, ["k1", "k2"]);

    // idProperty naming a missing or non-unique property is a 400.
    let (status, err) = json(
        upsert(json!([{"idProperty": "nope", "id": "x", "properties": {}}]))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["category"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    let (status, _) = json(
        upsert(json!([{"idProperty": "lastname", "id": "x", "properties": {}}]))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, err) = json(
        upsert(json!([
            {"idProperty": "outpost_key", "id": "d1", "properties": {"email": "dup@example.com"}},
            {"idProperty": "outpost_key", "id": "d2", "properties": {"email": "DUP@example.com"}}
        ]))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, err["category"].as_str()), (409, Some("CONFLICT")));
    assert_eq!(emu.records().len(), 2, "nothing half-applied");
    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"idProperty": "outpost_key", "id": format!("b{i}"), "properties": {}}))
        .collect();
    let (status, err) = json(upsert(json!(too_many)).await.unwrap()).await;
    assert_eq!(
        (status, err["category"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );

    // batch/read by the unique property, with one missing id -> 207.
    let (status, read) = json(
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/batch/read"))
            .json(&json!({"idProperty": "outpost_key", "inputs": [{"id": "k1"}, {"id": "zz"}], "properties": ["email"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 207);
    assert_eq!(read["results"][0]["properties"]["email"], "a@example.com");
    assert_eq!(read["errors"][0]["context"]["ids"], json!(["zz"]));
    // Every member HubSpot's spec requires of a StandardError.
    for member in [
        "status", "category", "message", "context", "errors", "links",
    ] {
        assert!(
            read["errors"][0].get(member).is_some(),
            "207 error entry lacks {member}"
        );
    }

    // batch/create of an existing email is one 409.
    let (status, err) = json(
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/batch/create"))
            .json(&json!({"inputs": [{"properties": {"email": "c@example.com"}}, {"properties": {"email": "a@example.com"}}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    assert!(err["message"].as_str().unwrap().contains("Existing ID:"));
    let (status, created) = json(
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/batch/create"))
            .json(&json!({"inputs": [{"properties": {"email": "c@example.com"}}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, created["results"].as_array().unwrap().len()),
        (201, 1)
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn missing_unique_property_is_reported() {
    let emu = start().await;
    assert!(emu.remove_hubspot_property("contacts", "outpost_key"));
    let c = client();
    let (status, err) = json(
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/batch/upsert"))
            .json(&json!({"inputs": [{"idProperty": "outpost_key", "id": "k1", "properties": {"lastname": "A"}}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"][0]["code"], "PROPERTY_DOESNT_EXIST");
    let (status, _) = json(
        req(
            &c,
            &emu,
            Method::GET,
            "/crm/v3/properties/contacts/outpost_key",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 404);

    // An admin creates it again through the Properties API.
    let (status, def) = json(
        req(&c, &emu, Method::POST, "/crm/v3/properties/contacts")
            .json(&json!({"name": "outpost_key", "label": "Outpost key", "type": "string",
                          "fieldType": "text", "groupName": "contactinformation", "hasUniqueValue": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, def["hasUniqueValue"].as_bool()), (201, Some(true)));
    let (status, list) = json(
        req(&c, &emu, Method::GET, "/crm/v3/properties/contacts")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(list["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "email"));
    let (status, _) = json(
        req(&c, &emu, Method::POST, "/crm/v3/properties/contacts")
            .json(&json!({"name": "outpost_key", "label": "x", "type": "string", "fieldType": "text", "groupName": "g"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    emu.shutdown().await;
}

#[tokio::test]
async fn search_filters_sorts_and_pages() {
    let emu = start().await;
    let c = client();
    let people: Vec<BTreeMap<String, String>> = [
        ("ada@example.com", "Ada", "Lovelace"),
        ("alan@example.org", "Alan", "Turing"),
        ("grace@example.com", "Grace", "Hopper"),
    ]
    .iter()
    .map(|(e, f, l)| {
        BTreeMap::from([
            ("email".to_string(), e.to_string()),
            ("firstname".to_string(), f.to_string()),
            ("lastname".to_string(), l.to_string()),
        ])
    })
    .collect();
    emu.seed_hubspot("contacts", people);
    let search = |body: Value| {
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/search"))
            .json(&body)
            .send()
    };

    let (status, r) = json(
        search(json!({"filterGroups": [{"filters": [
        {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}]}],
        "sorts": [{"propertyName": "lastname", "direction": "DESCENDING"}],
        "properties": ["lastname"]}))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(r["total"], 2);
    let names: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["properties"]["lastname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Lovelace", "Hopper"]);

    // OR of groups, NEQ, HAS_PROPERTY, free text.
    let (_, r) = json(
        search(json!({"filterGroups": [
        {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "ada"}]},
        {"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "Turing"}]}]}))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r["total"], 2);
    let (_, r) = json(
        search(json!({"filterGroups": [{"filters": [
        {"propertyName": "firstname", "operator": "NEQ", "value": "Ada"},
        {"propertyName": "email", "operator": "HAS_PROPERTY"}]}]}))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r["total"], 2);
    let (_, r) = json(search(json!({"query": "hopp"})).await.unwrap()).await;
    assert_eq!(r["total"], 1);
    let (_, r) = json(
        search(json!({"filterGroups": [{"filters": [
        {"propertyName": "hs_object_id", "operator": "GT", "value": "1001"},
        {"propertyName": "createdate", "operator": "GTE", "value": "0"},
        {"propertyName": "lastmodifieddate", "operator": "LT", "value": "4102444800000"}]}]}))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r["total"], 2);

    // Paging with `after`.
    let (_, page1) = json(search(json!({"limit": 2})).await.unwrap()).await;
    assert_eq!(page1["results"].as_array().unwrap().len(), 2);
    let after = page1["paging"]["next"]["after"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, page2) = json(search(json!({"limit": 2, "after": after})).await.unwrap()).await;
    assert_eq!(page2["results"].as_array().unwrap().len(), 1);
    assert!(page2.get("paging").is_none());
    assert_eq!(
        page1["results"][0]["properties"].as_object().unwrap().len(),
        6,
        "default properties"
    );

    let (status, _) = json(search(json!({"limit": 201})).await.unwrap()).await;
    assert_eq!(status, 400);
    let (status, _) = json(
        search(json!({"filterGroups": [{"filters": [
        {"propertyName": "email", "operator": "LIKE", "value": "x"}]}]}))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn search_stops_at_ten_thousand_results() {
    let emu = start().await;
    let records: Vec<BTreeMap<String, String>> = (0..10_050)
        .map(|i| BTreeMap::from([("email".to_string(), format!("p{i}@example.com"))]))
        .collect();
    emu.seed_hubspot("contacts", records);
    let c = client();
    let search = |after: &str| {
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/search"))
            .json(&json!({"limit": 200, "after": after}))
            .send()
    };
    let (status, page) = json(search("9800").await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 10_050);
    assert_eq!(page["paging"]["next"]["after"], "10000");
    let (status, err) = json(search("10000").await.unwrap()).await;
    assert_eq!(
        (status, err["category"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn search_index_lag_hides_fresh_writes() {
    let emu = start_with(Config {
        search_index_lag: Duration::from_secs(2),
        ..Config::unlimited()
    })
    .await;
    let c = client();
    let r = req(&c, &emu, Method::POST, CONTACTS)
        .json(&contact("lag@example.com", "k"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body = json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "lag@example.com"}]}]});
    let total = || async {
        let r = req(&c, &emu, Method::POST, &format!("{CONTACTS}/search"))
            .json(&body)
            .send()
            .await
            .unwrap();
        json(r).await.1["total"].as_u64().unwrap()
    };
    assert_eq!(total().await, 0, "invisible right after the write");
    assert!(eventually(Duration::from_secs(10), || async { total().await == 1 }).await);
    emu.shutdown().await;
}

#[tokio::test]
async fn oauth_refresh_expiry_and_revocation() {
    let emu = start_with(Config {
        access_token_lifetime: Duration::from_secs(2),
        ..Config::unlimited()
    })
    .await;
    let cfg = emu.config().clone();
    let c = client();
    let token_url = format!("{}/oauth/v1/token", emu.crm_url());
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", cfg.oauth_client_id.as_str()),
        ("client_secret", cfg.oauth_client_secret.as_str()),
        ("refresh_token", cfg.oauth_refresh_token.as_str()),
    ];
    let body = serde_urlencoded(&form);
    let (status, tok) = json(
        c.post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 2);
    assert_eq!(tok["refresh_token"], cfg.oauth_refresh_token.as_str());
    let access = tok["access_token"].as_str().unwrap().to_string();
    let get = || {
        c.get(format!("{}{CONTACTS}", emu.crm_url()))
            .bearer_auth(&access)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 200);

    // The token expires by itself after its lifetime.
    let expired = eventually(Duration::from_secs(5), || async {
        get().await.unwrap().status() == 401
    })
    .await;
    assert!(expired);
    let (_, err) = json(get().await.unwrap()).await;
    assert_eq!(err["category"], "EXPIRED_AUTHENTICATION");
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.starts_with("The OAuth token used to make this call expired ")
            && msg.ends_with(" second(s) ago."),
        "{msg}"
    );

    let bad = serde_urlencoded(&[
        ("grant_type", "refresh_token"),
        ("client_id", cfg.oauth_client_id.as_str()),
        ("client_secret", cfg.oauth_client_secret.as_str()),
        ("refresh_token", "nope"),
    ]);
    let (status, err) = json(c.post(&token_url).body(bad).send().await.unwrap()).await;
    assert_eq!(
        (status, err["status"].as_str()),
        (400, Some("BAD_REFRESH_TOKEN"))
    );

    emu.revoke_tokens(None);
    let (status, err) = json(
        c.get(format!("{}{CONTACTS}", emu.crm_url()))
            .bearer_auth(emu.token())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["category"].as_str()),
        (401, Some("INVALID_AUTHENTICATION"))
    );
    let (status, _) = json(c.post(&token_url).body(body.clone()).send().await.unwrap()).await;
    assert_eq!(status, 400, "revoked refresh token");
    emu.restore_tokens();
    assert_eq!(
        c.post(&token_url).body(body).send().await.unwrap().status(),
        200
    );
    emu.shutdown().await;
}

fn serde_urlencoded(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.replace('%', "%25")
                    .replace('&', "%26")
                    .replace('=', "%3D")
                    .replace('+', "%2B")
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn missing_scopes_is_403() {
    let emu = start().await;
    emu.set_token_scopes(
        Some(emu.token()),
        Some(vec!["crm.objects.contacts.read".into()]),
    );
    let c = client();
    assert_eq!(
        req(&c, &emu, Method::GET, CONTACTS)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, err) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .json(&contact("s@example.com", "s"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(err["category"], "MISSING_SCOPES");
    assert_eq!(
        err["errors"][0]["context"]["requiredScopes"],
        json!(["crm.objects.contacts.write"])
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn hubspot_rate_limit_headers_and_429() {
    let emu = start_with(Config {
        hubspot_rate_limit: Some(RateLimit {
            max: 2,
            window: Duration::from_secs(10),
        }),
        ..Config::unlimited()
    })
    .await;
    let c = client();
    let r = req(&c, &emu, Method::GET, CONTACTS).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-hubspot-ratelimit-interval-milliseconds"],
        "10000"
    );
    assert_eq!(r.headers()["x-hubspot-ratelimit-max"], "2");
    assert_eq!(r.headers()["x-hubspot-ratelimit-remaining"], "1");
    assert_eq!(
        req(&c, &emu, Method::GET, CONTACTS)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = req(&c, &emu, Method::GET, CONTACTS).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-hubspot-ratelimit-remaining"], "0");
    assert!(r.headers().contains_key("retry-after"));
    let (_, body) = json(r).await;
    assert_eq!(body["errorType"], "RATE_LIMIT");
    assert_eq!(body["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(
        body["message"],
        "You have reached your ten_secondly_rolling limit."
    );
    emu.set_retry_after(false);
    let r = req(&c, &emu, Method::GET, CONTACTS).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(!r.headers().contains_key("retry-after"));
    emu.shutdown().await;
}

#[tokio::test]
async fn companies_create_get_batch() {
    let emu = start().await;
    let c = client();
    let base = "/crm/v3/objects/companies";
    let (status, co) = json(
        req(&c, &emu, Method::POST, base)
            .json(&json!({"properties": {"name": "ACME", "domain": "acme.test"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let id = co["id"].as_str().unwrap();
    let (status, got) = json(
        req(&c, &emu, Method::GET, &format!("{base}/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, got["properties"]["name"].as_str()),
        (200, Some("ACME"))
    );
    assert!(got["properties"]["hs_lastmodifieddate"].is_string());
    let (status, batch) = json(
        req(&c, &emu, Method::POST, &format!("{base}/batch/create"))
            .json(
                &json!({"inputs": [{"properties": {"name": "B"}}, {"properties": {"name": "C"}}]}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, batch["results"].as_array().unwrap().len()),
        (201, 2)
    );
    let (status, read) = json(
        req(&c, &emu, Method::POST, &format!("{base}/batch/read"))
            .json(&json!({"inputs": [{"id": id}], "properties": ["domain"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, read["results"][0]["properties"]["domain"].as_str()),
        (200, Some("acme.test"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn patch_updates_and_bumps_lastmodifieddate() {
    let emu = start().await;
    let c = client();
    let (_, created) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .json(&contact("p@example.com", "kp"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let (status, updated) = json(
        req(
            &c,
            &emu,
            Method::PATCH,
            &format!("{CONTACTS}/kp?idProperty=outpost_key"),
        )
        .json(&json!({"properties": {"lastname": "Byron"}}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(updated["id"], id);
    assert_eq!(updated["properties"]["lastname"], "Byron");
    assert!(updated["updatedAt"].as_str() >= created["updatedAt"].as_str());
    emu.shutdown().await;
}

#[tokio::test]
async fn batch_update_by_id_or_key_changes_only_what_it_names() {
    let emu = start().await;
    let c = client();
    let (_, a) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .json(&contact("a@example.com", "ka"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    req(&c, &emu, Method::POST, CONTACTS)
        .json(&contact("b@example.com", "kb"))
        .send()
        .await
        .unwrap();
    let a_id = a["id"].as_str().unwrap();
    let (status, body) = json(
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/batch/update"))
            .json(&json!({"inputs": [
                {"id": a_id, "properties": {"city": "Köln"}},
                {"id": "kb", "idProperty": "outpost_key", "properties": {"lastname": "Babbage"}},
            ]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "COMPLETE");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let a_after = results.iter().find(|r| r["id"] == a_id).unwrap();
    assert_eq!(a_after["properties"]["city"], "Köln");
    assert_eq!(a_after["properties"]["firstname"], "Ada", "untouched");

    // One unknown id refuses the whole batch; nothing changes.
    let (status, body) = json(
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/batch/update"))
            .json(&json!({"inputs": [
                {"id": a_id, "properties": {"city": "Nowhere"}},
                {"id": "424242", "properties": {"city": "Nowhere"}},
            ]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["category"], "OBJECT_NOT_FOUND");
    let (_, again) = json(
        req(
            &c,
            &emu,
            Method::GET,
            &format!("{CONTACTS}/{a_id}?properties=city"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(again["properties"]["city"], "Köln");
    emu.shutdown().await;
}

#[tokio::test]
async fn the_race_fault_changes_a_field_right_after_a_read() {
    let emu = start().await;
    let c = client();
    let (_, a) = json(
        req(&c, &emu, Method::POST, CONTACTS)
            .json(&contact("r@example.com", "kr"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let before = a["updatedAt"].as_str().unwrap().to_owned();
    // Stamps have millisecond precision: let the clock pass the create's.
    let created: chrono::DateTime<chrono::Utc> = before.parse().unwrap();
    assert!(
        eventually(Duration::from_secs(1), || async {
            chrono::Utc::now() > created + chrono::Duration::milliseconds(2)
        })
        .await
    );
    emu.set_faults(crm_emulator::Faults {
        race: Some(crm_emulator::Race {
            field: "city".into(),
            value: Some("Berlin".into()),
            reads: 1,
        }),
        ..Default::default()
    });
    let read = || async {
        json(
            req(&c, &emu, Method::POST, &format!("{CONTACTS}/batch/read"))
                .json(&json!({"idProperty": "outpost_key", "inputs": [{"id": "kr"}], "properties": ["city"]}))
                .send()
                .await
                .unwrap(),
        )
        .await
        .1
    };
    // The read shows the value before the person's change...
    let first = read().await;
    assert!(first["results"][0]["properties"]["city"].is_null());
    // ...which is in the CRM by the time the reader writes.
    let second = read().await;
    assert_eq!(second["results"][0]["properties"]["city"], "Berlin");
    assert!(second["results"][0]["updatedAt"].as_str().unwrap() > before.as_str());
    assert!(emu.faults().race.is_none(), "fired once, then gone");
    emu.shutdown().await;
}

#[tokio::test]
async fn the_control_api_edits_and_deletes_as_a_crm_user() {
    let emu = start().await;
    let c = client();
    req(&c, &emu, Method::POST, CONTACTS)
        .json(&contact("u@example.com", "ku"))
        .send()
        .await
        .unwrap();
    let control = |path: &str, body: Value| {
        c.post(format!("{}{path}", emu.control_url()))
            .json(&body)
            .send()
    };
    let edited = control(
        "/records/edit",
        json!({"api": "hubspot", "key": "ku", "fields": {"phone": "+49 30 1"}}),
    )
    .await
    .unwrap();
    assert_eq!(edited.status(), 200);
    let (_, got) = json(
        req(
            &c,
            &emu,
            Method::GET,
            &format!("{CONTACTS}/ku?idProperty=outpost_key&properties=phone"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(got["properties"]["phone"], "+49 30 1");
    let unknown = control(
        "/records/edit",
        json!({"api": "hubspot", "key": "nobody", "fields": {}}),
    )
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
    let deleted = control("/records/delete", json!({"api": "hubspot", "key": "ku"}))
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let gone = req(
        &c,
        &emu,
        Method::GET,
        &format!("{CONTACTS}/ku?idProperty=outpost_key"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(gone.status(), 404);
    emu.shutdown().await;
}

#[tokio::test]
async fn archived_contacts_are_kept_and_listed_only_with_archived_true() {
    let dir = tempfile::tempdir().unwrap();
    let config = crm_emulator::Config {
        state: Some(dir.path().join("emu.db")),
        ..crm_emulator::Config::unlimited()
    };
    let emu = common::start_with(config.clone()).await;
    let c = client();
    let mut ids = Vec::new();
    for k in ["a1", "a2", "a3"] {
        let (status, created) = json(
            req(&c, &emu, Method::POST, CONTACTS)
                .json(&contact(&format!("{k}@example.com"), k))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 201);
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let r = req(&c, &emu, Method::DELETE, &format!("{CONTACTS}/{}", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c
        .post(format!("{}/records/delete", emu.control_url()))
        .json(&json!({"api": "hubspot", "key": "a3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    emu.shutdown().await;
    let emu = common::start_with(config).await;
    let list = |q: String| {
        let c = c.clone();
        let emu = &emu;
        async move {
            json(
                req(&c, emu, Method::GET, &format!("{CONTACTS}?{q}"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (_, live) = list("limit=100".into()).await;
    let live: Vec<&str> = live["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(live, [ids[1].as_str()], "archived ones are not listed");
    let gone = req(&c, &emu, Method::GET, &format!("{CONTACTS}/{}", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let (_, found) = json(
        req(&c, &emu, Method::POST, &format!("{CONTACTS}/search"))
            .json(&json!({"query": "example.com", "limit": 100}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        found["total"], 1,
        "search does not see archived ones: {found}"
    );

    // Paged by `after`, one at a time, with archivedAt; kept across the restart.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = "archived=true&limit=1&properties=outpost_key".to_string();
        if let Some(a) = &after {
            q.push_str(&format!("&after={a}"));
        }
        let (status, page) = list(q).await;
        assert_eq!(status, 200, "{page}");
        for o in page["results"].as_array().unwrap() {
            assert_eq!(o["archived"], true);
            assert!(o["archivedAt"].as_str().unwrap().ends_with('Z'));
            seen.push((
                o["id"].as_str().unwrap().to_string(),
                o["properties"]["outpost_key"].as_str().unwrap().to_string(),
            ));
        }
        match page["paging"]["next"]["after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            (ids[0].clone(), "a1".to_string()),
            (ids[2].clone(), "a3".to_string())
        ]
    );
    // The email of an archived contact is free for a new one.
    let r = req(&c, &emu, Method::POST, CONTACTS)
        .json(&contact("a1@example.com", "a1-new"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    emu.shutdown().await;
}
