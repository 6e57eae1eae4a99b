//! The generic REST contract, end to end over loopback.

mod common;

use common::{client, json, req, start, start_with};
use crm_emulator::{Api, Config, CustomerFields, RateLimit};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn put_creates_then_replays_then_updates() {
    let emu = start().await;
    let c = client();
    let body = json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"});
    let put = |b: serde_json::Value| req(&c, &emu, Method::PUT, "/customers/k-1").json(&b).send();

    let (status, first) = json(put(body.clone()).await.unwrap()).await;
    assert_eq!(status, 201);
    assert_eq!(first["key"], "k-1");
    assert_eq!(first["id"], "cus_000001");
    assert_eq!(first["first_name"], "Ada");

    let (status, same) = json(put(body.clone()).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(same, first, "same payload changes nothing");

    let (status, changed) = json(put(json!({"last_name": "Byron"})).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(changed["id"], "cus_000001");
    assert_eq!(
        changed["first_name"],
        serde_json::Value::Null,
        "PUT replaces"
    );
    assert_ne!(changed["updated_at"], first["updated_at"]);
    assert_eq!(changed["created_at"], first["created_at"]);

    let (status, got) = json(
        req(&c, &emu, Method::GET, "/customers/k-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, got), (200, changed));
    let (status, err) = json(
        req(&c, &emu, Method::GET, "/customers/nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));

    assert_eq!(emu.count("PUT /customers/{key}", 201), 1);
    assert_eq!(emu.count("PUT /customers/{key}", 200), 2);
    assert_eq!(emu.records().len(), 1);
    assert_eq!(emu.records()[0].key.as_deref(), Some("k-1"));
    emu.shutdown().await;
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let emu = start().await;
    let c = client();
    let cases = [
        (
            json!({"last_name": "X", "age": "3"}),
            "unknown_field",
            Some("age"),
        ),
        (json!({"email": "a@b.co"}), "required", Some("last_name")),
        (
            json!({"last_name": "X", "email": "not-an-email"}),
            "invalid_email",
            Some("email"),
        ),
        (json!({"company": 42}), "invalid_type", Some("company")),
        (json!(["a"]), "invalid_json", None),
    ];
    for (body, code, field) in cases {
        let (status, err) = json(
            req(&c, &emu, Method::PUT, "/customers/k")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["code"], code, "{body}");
        assert_eq!(err["field"].as_str(), field, "{body}");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, err) = json(
        req(&c, &emu, Method::PUT, "/customers/bad%20key")
            .json(&json!({"company": "ACME"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["code"].as_str()), (400, Some("invalid_key")));
    assert!(emu.records().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn malformed_json_is_400_and_server_keeps_running() {
    let emu = start().await;
    let c = client();
    let (status, err) = json(
        req(&c, &emu, Method::PUT, "/customers/k")
            .header("content-type", "application/json")
            .body("{\"first_name\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["code"], "invalid_json");
    assert!(err["message"].as_str().unwrap().contains("not valid JSON"));
    let resp = c
        .get(format!("{}/health", emu.crm_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn oversize_body_is_413() {
    let emu = start().await;
    let c = client();
    let huge = format!(
        "{{\"notes\":\"{}\"}}",
        "x".repeat(emu.config().max_body_bytes + 10)
    );
    let (status, err) = json(
        req(&c, &emu, Method::PUT, "/customers/k")
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json() {
    let emu = start().await;
    let c = client();
    let (status, err) = json(req(&c, &emu, Method::GET, "/nowhere").send().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    let (status, err) = json(
        req(&c, &emu, Method::POST, "/customers/k")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let (status, err) = json(
        req(&c, &emu, Method::GET, "/crm/v3/nothing")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["status"].as_str()), (404, Some("error")));
    assert_eq!(emu.count("GET <unmatched>", 404), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn auth_is_required_except_for_health() {
    let emu = start().await;
    let c = client();
    let url = format!("{}/customers/k", emu.crm_url());
    let (status, err) = json(c.get(&url).send().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    let (status, err) = json(c.get(&url).bearer_auth("wrong").send().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("invalid_token")));
    emu.expire_tokens(None);
    let (status, err) = json(c.get(&url).bearer_auth(emu.token()).send().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("token_expired")));
    emu.restore_tokens();
    let resp = c.get(&url).bearer_auth(emu.token()).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let resp = c
        .get(format!("{}/health", emu.crm_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn idempotency_key_replays_or_rejects() {
    let emu = start().await;
    let c = client();
    let send = |body: serde_json::Value| {
        req(&c, &emu, Method::PUT, "/customers/k")
            .header("Idempotency-Key", "idem-1")
            .json(&body)
            .send()
    };
    let (s1, b1) = json(send(json!({"company": "ACME"})).await.unwrap()).await;
    let (s2, b2) = json(send(json!({"company": "ACME"})).await.unwrap()).await;
    assert_eq!((s1, s2), (201, 201), "replay repeats the first status");
    assert_eq!(b1, b2);
    let (s3, b3) = json(send(json!({"company": "Other"})).await.unwrap()).await;
    assert_eq!(
        (s3, b3["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    assert_eq!(emu.records()[0].record["company"], "ACME");
    emu.shutdown().await;
}

#[tokio::test]
async fn concurrent_upserts_of_one_key_make_one_record() {
    let emu = start().await;
    let c = client();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let r = req(&c, &emu, Method::PUT, "/customers/same")
                .json(&json!({"last_name": "Same", "notes": format!("n{}", i % 3)}));
            tokio::spawn(async move { r.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let status = t.await.unwrap().unwrap();
        assert!(status == 200 || status == 201);
        created += u32::from(status == 201);
    }
    assert_eq!(created, 1);
    assert_eq!(emu.records().len(), 1);
    assert_eq!(emu.count("PUT /customers/{key}", 201), 1);
    assert_eq!(emu.count_endpoint("PUT /customers/{key}"), 100);
    emu.shutdown().await;
}

#[tokio::test]
async fn search_and_incremental_listing_page_with_cursors() {
    let emu = start().await;
    let c = client();
    for (k, last, company) in [
        ("a", "Alpha", "Zeta GmbH"),
        ("b", "Beta", "Acme"),
        ("c", "Gamma", "ACME Corp"),
    ] {
        let r = req(&c, &emu, Method::PUT, &format!("/customers/{k}"))
            .json(&json!({"last_name": last, "company": company}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let (status, found) = json(
        req(&c, &emu, Method::GET, "/customers?q=acme")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["b", "c"]);
    assert!(found["next_cursor"].is_null());

    // Touch "a" so it moves to the end of the modification order.
    req(&c, &emu, Method::PUT, "/customers/a")
        .json(&json!({"last_name": "Alpha2"}))
        .send()
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut path = "/customers?modified_since=2000-01-01T00:00:00Z&limit=2".to_string();
        if let Some(cur) = &cursor {
            path.push_str(&format!("&cursor={cur}"));
        }
        let (status, page) = json(req(&c, &emu, Method::GET, &path).send().await.unwrap()).await;
        assert_eq!(status, 200);
        for item in page["items"].as_array().unwrap() {
            seen.push(item["key"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["b", "c", "a"]);

    let (status, err) = json(
        req(&c, &emu, Method::GET, "/customers?modified_since=yesterday")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (400, Some("modified_since"))
    );
    let (status, err) = json(
        req(&c, &emu, Method::GET, "/customers?limit=0")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("limit")));
    let (status, err) = json(
        req(&c, &emu, Method::GET, "/customers?cursor=zz")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn metadata_lists_required_fields_and_picklists() {
    let emu = start().await;
    let (status, meta) = json(
        req(&client(), &emu, Method::GET, "/metadata")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        meta["required_one_of"],
        json!(["first_name", "last_name", "company"])
    );
    assert!(meta["picklists"]["country"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["value"] == "DE"));
    assert!(!meta["picklists"]["lead_source"]
        .as_array()
        .unwrap()
        .is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn rest_rate_limit_answers_429_with_headers() {
    let emu = start_with(Config {
        rest_rate_limit: Some(RateLimit {
            max: 3,
            window: Duration::from_secs(60),
        }),
        ..Config::unlimited()
    })
    .await;
    let c = client();
    for expected_remaining in ["2", "1", "0"] {
        let r = req(&c, &emu, Method::GET, "/customers/x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["x-ratelimit-remaining"], expected_remaining);
    }
    let r = req(&c, &emu, Method::GET, "/customers/x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-limit"], "3");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let (_, body) = json(r).await;
    assert_eq!(body["code"], "rate_limited");
    // Health is exempt; lifting the limit makes the API answer again.
    assert_eq!(
        c.get(format!("{}/health", emu.crm_url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    emu.set_rate_limit(Api::Rest, None);
    assert_eq!(
        req(&c, &emu, Method::GET, "/customers/x")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn seeded_rest_records_are_listed() {
    let emu = start().await;
    let ids = emu.seed_rest(
        (0..3)
            .map(|i| {
                (
                    format!("s{i}"),
                    CustomerFields {
                        company: Some(format!("Co {i}")),
                        ..Default::default()
                    },
                )
            })
            .collect(),
    );
    assert_eq!(ids, ["cus_000001", "cus_000002", "cus_000003"]);
    let (_, page) = json(
        req(&client(), &emu, Method::GET, "/customers")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    emu.shutdown().await;
}

/// A token request (form, Basic credentials) and the answer expected (status, `error`).
type TokenCase<'a> = (
    Vec<(&'a str, &'a str)>,
    Option<(&'a str, &'a str)>,
    u16,
    &'a str,
);

/// `POST /oauth/token` with a form body and optional Basic credentials.
async fn token_request(
    emu: &crm_emulator::Emulator,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut r = client()
        .post(format!("{}/oauth/token", emu.crm_url()))
        .form(form);
    if let Some((id, secret)) = basic {
        r = r.basic_auth(id, Some(secret));
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn client_credentials_issue_bearer_tokens_the_api_accepts_until_they_expire() {
    let emu = start().await;
    let cfg = emu.config().clone();
    let (id, secret) = (
        cfg.oauth_client_id.as_str(),
        cfg.oauth_client_secret.as_str(),
    );

    // Credentials in the body, and with HTTP Basic: both work.
    let in_body = token_request(
        &emu,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
        None,
    )
    .await;
    assert_eq!(in_body.headers()["cache-control"], "no-store");
    let (status, tok) = json(in_body).await;
    assert_eq!(status, 200, "{tok}");
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 1800);
    assert!(
        tok.get("refresh_token").is_none(),
        "§4.4.3: no refresh token"
    );
    let (status, basic) = json(
        token_request(
            &emu,
            &[("grant_type", "client_credentials")],
            Some((id, secret)),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{basic}");
    assert_ne!(basic["access_token"], tok["access_token"]);

    let access = tok["access_token"].as_str().unwrap().to_owned();
    let get = |token: String| {
        let url = format!("{}/customers?limit=1", emu.crm_url());
        async move { json(client().get(url).bearer_auth(token).send().await.unwrap()).await }
    };
    assert_eq!(get(access.clone()).await.0, 200);
    assert_eq!(emu.count("POST /oauth/token", 200), 2);

    // Issued tokens expire like any OAuth token.
    emu.expire_tokens(Some(&access));
    let (status, body) = get(access).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "token_expired");
    emu.shutdown().await;
}

#[tokio::test]
async fn client_credentials_errors_follow_rfc_6749() {
    let emu = start().await;
    let cfg = emu.config().clone();
    let id = cfg.oauth_client_id.as_str();
    let grant = ("grant_type", "client_credentials");

    let cases: Vec<TokenCase> = vec![
        // A wrong secret in the body: 400.
        (
            vec![grant, ("client_id", id), ("client_secret", "wrong")],
            None,
            400,
            "invalid_client",
        ),
        // ... and via Basic: 401 with a challenge.
        (vec![grant], Some((id, "wrong")), 401, "invalid_client"),
        (vec![grant], None, 400, "invalid_client"),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", id),
                ("client_secret", cfg.oauth_client_secret.as_str()),
            ],
            None,
            400,
            "unsupported_grant_type",
        ),
        (
            vec![
                ("client_id", id),
                ("client_secret", cfg.oauth_client_secret.as_str()),
            ],
            None,
            400,
            "invalid_request",
        ),
        // Two authentication methods at once.
        (
            vec![
                grant,
                ("client_id", id),
                ("client_secret", cfg.oauth_client_secret.as_str()),
            ],
            Some((id, cfg.oauth_client_secret.as_str())),
            400,
            "invalid_request",
        ),
    ];
    for (form, basic, want_status, want_error) in cases {
        let r = token_request(&emu, &form, basic).await;
        let challenge = r.headers().get("www-authenticate").cloned();
        let (status, body) = json(r).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (want_status, Some(want_error)),
            "{form:?} {basic:?}: {body}"
        );
        assert!(body["error_description"].is_string());
        assert_eq!(challenge.is_some(), status == 401);
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn patch_changes_only_its_fields_while_the_version_matches() {
    let emu = start().await;
    let c = client();
    let body = json!({"first_name": "Ada", "last_name": "Lovelace", "phone": "030 1"});
    let (status, created) = json(
        req(&c, &emu, Method::PUT, "/customers/k-1")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, created["version"].as_u64()), (201, Some(1)));
    let patch = |if_match: Option<&str>, b: serde_json::Value| {
        let r = req(&c, &emu, Method::PATCH, "/customers/k-1").json(&b);
        match if_match {
            Some(v) => r.header("If-Match", v),
            None => r,
        }
        .send()
    };

    let (status, err) = json(patch(None, json!({"phone": "030 2"})).await.unwrap()).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (428, Some("precondition_required"))
    );

    let response = patch(Some("\"1\""), json!({"phone": "030 2"}))
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"2\"");
    let (status, patched) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(patched["phone"], "030 2");
    assert_eq!(patched["first_name"], "Ada", "PATCH keeps the other fields");
    assert_eq!(patched["version"], 2);

    // A stale version: nothing changes, the answer is the current record.
    let (status, current) = json(
        patch(Some("\"1\""), json!({"phone": "030 3"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &current), (412, &patched));

    // The merged record is validated like a PUT body.
    let (status, err) = json(
        patch(Some("2"), json!({"first_name": null, "last_name": null}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["code"].as_str()), (400, Some("required")));

    let (status, err) = json(
        req(&c, &emu, Method::PATCH, "/customers/nope")
            .header("If-Match", "*")
            .json(&json!({"phone": "1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    let (_, got) = json(
        req(&c, &emu, Method::GET, "/customers/k-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got["version"], 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_person_editing_between_a_read_and_a_patch_fails_its_precondition() {
    let emu = start().await;
    let c = client();
    req(&c, &emu, Method::PUT, "/customers/k-race")
        .json(&json!({"first_name": "Ada", "last_name": "Lovelace", "city": "Bonn"}))
        .send()
        .await
        .unwrap();
    emu.set_faults(crm_emulator::Faults {
        race: Some(crm_emulator::Race {
            field: "city".into(),
            value: Some("Berlin".into()),
            reads: 1,
        }),
        ..Default::default()
    });
    let (_, read) = json(
        req(&c, &emu, Method::GET, "/customers/k-race")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(read["city"], "Bonn", "the read shows the record before");
    let version = read["version"].to_string();
    let (status, current) = json(
        req(&c, &emu, Method::PATCH, "/customers/k-race")
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({"city": "Köln"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 412, "the person's change moved the version on");
    assert_eq!(current["city"], "Berlin");

    // The control API makes the same change a person would.
    let edited = c
        .post(format!("{}/records/edit", emu.control_url()))
        .json(&json!({"api": "rest", "key": "k-race", "fields": {"city": "Dresden"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let (_, after) = json(
        req(&c, &emu, Method::GET, "/customers/k-race")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(after["city"], "Dresden");
    assert_eq!(
        after["version"].as_u64(),
        Some(current["version"].as_u64().unwrap() + 1)
    );
    let deleted = c
        .post(format!("{}/records/delete", emu.control_url()))
        .json(&json!({"api": "rest", "key": "k-race"}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert!(emu.records().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn deleted_customers_are_listed_as_tombstones_and_paged() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        state: Some(dir.path().join("emu.db")),
        ..Config::unlimited()
    };
    let emu = start_with(config.clone()).await;
    let c = client();
    for k in ["d-1", "d-2", "d-3", "keep"] {
        let r = req(&c, &emu, Method::PUT, &format!("/customers/{k}"))
            .json(&json!({"last_name": k}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let (_, none) = json(
        req(&c, &emu, Method::GET, "/customers/deleted")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(none, json!({"items": [], "next_cursor": null}));
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);

    // One through the API, one as a person in the CRM, one more through the API.
    let r = req(&c, &emu, Method::DELETE, "/customers/d-2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c
        .post(format!("{}/records/delete", emu.control_url()))
        .json(&json!({"api": "rest", "key": "d-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = req(&c, &emu, Method::DELETE, "/customers/d-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, err) = json(
        req(&c, &emu, Method::DELETE, "/customers/d-3")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    let gone = req(&c, &emu, Method::GET, "/customers/d-2")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    // Paged one at a time, in deletion order, across a restart.
    emu.shutdown().await;
    let emu = start_with(config).await;
    let since = before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!(
            "/customers/deleted?limit=1&since={}",
            since.replace('+', "%2B")
        );
        if let Some(cur) = &cursor {
            path.push_str(&format!("&cursor={cur}"));
        }
        let (status, page) = json(req(&c, &emu, Method::GET, &path).send().await.unwrap()).await;
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().unwrap() {
            assert!(item["deleted_at"].as_str().is_some());
            seen.push((
                item["key"].as_str().unwrap().to_string(),
                item["id"].as_str().unwrap().to_string(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            ("d-2", "cus_000002"),
            ("d-1", "cus_000001"),
            ("d-3", "cus_000003")
        ]
        .map(|(k, i)| (k.to_string(), i.to_string()))
    );
    // A later `since` leaves the earlier ones out; bad input is refused.
    let (_, later) = json(
        req(
            &c,
            &emu,
            Method::GET,
            "/customers/deleted?since=2999-01-01T00:00:00Z",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(later["items"], json!([]));
    for (q, code) in [
        ("since=yesterday", "invalid_since"),
        ("cursor=zz", "invalid_cursor"),
        ("limit=0", "invalid_limit"),
    ] {
        let (status, err) = json(
            req(&c, &emu, Method::GET, &format!("/customers/deleted?{q}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, err["code"].as_str()), (400, Some(code)), "{q}");
    }
    // Creating a deleted key again makes it a customer, not a tombstone.
    let r = req(&c, &emu, Method::PUT, "/customers/d-1")
        .json(&json!({"last_name": "back"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, all) = json(
        req(&c, &emu, Method::GET, "/customers/deleted")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let keys: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["d-2", "d-3"]);
    emu.shutdown().await;
}
