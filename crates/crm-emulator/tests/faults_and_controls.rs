//! Fault injection, down/up, persistence and the control API.

mod common;

use std::time::Duration;

use common::{client, json, req, start, start_with};
use crm_emulator::{Config, Emulator, ErrorKind, Faults};
use reqwest::Method;
use serde_json::json;

fn put(c: &reqwest::Client, emu: &Emulator, key: &str) -> reqwest::RequestBuilder {
    req(c, emu, Method::PUT, &format!("/customers/{key}")).json(&json!({"company": "ACME"}))
}

#[tokio::test]
async fn down_refuses_connections_and_up_keeps_port_and_data() {
    let emu = start().await;
    let c = client();
    assert_eq!(put(&c, &emu, "k").send().await.unwrap().status(), 201);
    let addr = emu.crm_addr();

    emu.down().await;
    assert!(!emu.is_up());
    let err = put(&c, &emu, "k2").send().await.unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "connection refused"
    );

    emu.up().await.unwrap();
    assert_eq!(emu.crm_addr(), addr);
    let (status, got) = json(
        req(&c, &emu, Method::GET, "/customers/k")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, got["company"].as_str()), (200, Some("ACME")));
    emu.shutdown().await;
}

#[tokio::test]
async fn drop_after_commit_stores_but_client_sees_an_error() {
    let emu = start().await;
    emu.set_faults(Faults {
        drop_after_commit_rate: 1.0,
        ..Faults::default()
    });
    let c = client();
    let err = put(&c, &emu, "dup").send().await.unwrap_err();
    assert!(
        !err.is_status() && !err.is_timeout(),
        "transport error, not an answer: {err:?}"
    );
    assert_eq!(emu.records().len(), 1, "the write was committed");
    assert_eq!(
        emu.count_outcome("PUT /customers/{key}", "dropped_after_commit"),
        1
    );

    // Reads are not dropped; a naive retry after clearing faults sees 200, not 201.
    emu.clear_faults();
    assert_eq!(put(&c, &emu, "dup").send().await.unwrap().status(), 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn injected_status_errors_use_each_api_shape() {
    let emu = start().await;
    let c = client();
    for (kind, status) in [
        (ErrorKind::InternalError, 500),
        (ErrorKind::Unavailable, 503),
        (ErrorKind::TooManyRequests, 429),
    ] {
        emu.set_faults(Faults {
            error_rate: 1.0,
            error_kinds: vec![kind],
            ..Faults::default()
        });
        let (s, body) = json(put(&c, &emu, "k").send().await.unwrap()).await;
        assert_eq!(s, status);
        assert!(body["code"].is_string(), "{body}");
        let (s, body) = json(
            req(&c, &emu, Method::GET, "/crm/v3/objects/contacts")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, status);
        assert_eq!(body["status"], "error");
    }
    assert!(
        emu.records().is_empty(),
        "injected errors happen before the handler"
    );
    assert_eq!(emu.count("PUT /customers/{key}", 503), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn reset_and_timeout_faults() {
    let emu = start_with(Config {
        timeout_hold: Duration::from_secs(2),
        ..Config::unlimited()
    })
    .await;
    let c = client();
    emu.set_faults(Faults {
        error_rate: 1.0,
        error_kinds: vec![ErrorKind::Reset],
        ..Faults::default()
    });
    let err = put(&c, &emu, "k").send().await.unwrap_err();
    assert!(!err.is_timeout(), "{err:?}");
    assert_eq!(emu.count_outcome("PUT /customers/{key}", "reset"), 1);

    emu.set_faults(Faults {
        error_rate: 1.0,
        error_kinds: vec![ErrorKind::Timeout],
        ..Faults::default()
    });
    let err = put(&c, &emu, "k")
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(emu.count_outcome("PUT /customers/{key}", "timeout"), 1);
    assert!(emu.records().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn latency_is_applied() {
    let emu = start().await;
    emu.set_faults(Faults {
        latency_ms: 150,
        jitter_ms: 50,
        ..Faults::default()
    });
    let c = client();
    let t = std::time::Instant::now();
    assert_eq!(put(&c, &emu, "k").send().await.unwrap().status(), 201);
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(150), "{took:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn seeded_faults_replay_identically() {
    let outcomes = |seed: u64| async move {
        let emu = start().await;
        emu.set_faults(Faults {
            error_rate: 0.5,
            error_kinds: vec![ErrorKind::InternalError],
            seed: Some(seed),
            ..Faults::default()
        });
        let c = client();
        let mut v = Vec::new();
        for i in 0..30 {
            v.push(
                put(&c, &emu, &format!("k{i}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16(),
            );
        }
        emu.shutdown().await;
        v
    };
    let a = outcomes(42).await;
    assert_eq!(a, outcomes(42).await);
    assert!(a.contains(&500) && a.contains(&201));
}

#[tokio::test]
async fn state_file_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emu.db");
    let config = Config {
        state: Some(path.clone()),
        ..Config::unlimited()
    };
    let emu = start_with(config.clone()).await;
    let c = client();
    assert_eq!(
        put(&c, &emu, "persist-me").send().await.unwrap().status(),
        201
    );
    let r = req(&c, &emu, Method::POST, "/crm/v3/objects/contacts/batch/upsert")
        .json(&json!({"inputs": [{"idProperty": "outpost_key", "id": "hk", "properties": {"email": "p@example.com"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        !emu.remove_hubspot_property("companies", "industry"),
        "built-in stays"
    );
    let before = emu.records();
    emu.shutdown().await;

    let emu = start_with(config).await;
    assert_eq!(emu.records(), before);
    assert_eq!(
        put(&c, &emu, "persist-me").send().await.unwrap().status(),
        200
    );
    assert_eq!(put(&c, &emu, "second").send().await.unwrap().status(), 201);
    let (_, second) = json(
        req(&c, &emu, Method::GET, "/customers/second")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(second["id"], "cus_000002", "ids continue after a restart");
    let r = req(&c, &emu, Method::POST, "/crm/v3/objects/contacts")
        .json(&json!({"properties": {"email": "q@example.com"}}))
        .send()
        .await
        .unwrap();
    let (_, created) = json(r).await;
    assert_eq!(created["id"], "1002");
    emu.shutdown().await;
}

#[tokio::test]
async fn control_api_over_http() {
    let emu = start().await;
    let c = client();
    let ctl = |p: &str| format!("{}{p}", emu.control_url());
    assert_eq!(put(&c, &emu, "k").send().await.unwrap().status(), 201);

    let (_, stats) = json(c.get(ctl("/stats")).send().await.unwrap()).await;
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["endpoints"]["PUT /customers/{key}"]["201"], 1);
    let (_, log) = json(c.get(ctl("/requests")).send().await.unwrap()).await;
    assert_eq!(log["requests"][0]["path"], "/customers/k");
    assert_eq!(log["requests"][0]["endpoint"], "PUT /customers/{key}");
    assert_eq!(log["requests"][0]["outcome"], "201");
    assert_eq!(emu.requests().len(), 1);
    let (_, records) = json(c.get(ctl("/records")).send().await.unwrap()).await;
    assert_eq!(records["records"][0]["key"], "k");

    // down via control; control still answers; up again.
    assert_eq!(c.post(ctl("/down")).send().await.unwrap().status(), 200);
    assert!(put(&c, &emu, "k").send().await.is_err());
    assert_eq!(c.get(ctl("/health")).send().await.unwrap().status(), 200);
    assert_eq!(c.post(ctl("/up")).send().await.unwrap().status(), 200);
    assert_eq!(put(&c, &emu, "k").send().await.unwrap().status(), 200);

    let (status, _) = json(
        c.post(ctl("/faults"))
            .json(&json!({"error_rate": 1, "error_kinds": ["503"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(put(&c, &emu, "k").send().await.unwrap().status(), 503);
    let (status, _) = json(
        c.post(ctl("/faults"))
            .json(&json!({"error_rate": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = json(
        c.post(ctl("/faults"))
            .json(&json!({"bogus": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);

    let (_, limits) = json(
        c.post(ctl("/rate-limit"))
            .json(&json!({"rest": "1/10s"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(limits["rest"], "1/10000ms");
    assert_eq!(limits["hubspot"], "off");

    c.post(ctl("/tokens/expire")).send().await.unwrap();
    c.post(ctl("/faults"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, err) = json(put(&c, &emu, "k").send().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (401, Some("token_expired")));

    let (_, seeded) = json(
        c.post(ctl("/seed"))
            .json(&json!({"object": "contacts", "count": 5}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seeded["ids"].as_array().unwrap().len(), 5);

    let (status, _) = json(c.post(ctl("/reset")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(emu.records().is_empty());
    assert_eq!(emu.stats().total, 0);
    assert!(emu.faults() == Faults::default());
    assert_eq!(
        put(&c, &emu, "k").send().await.unwrap().status(),
        201,
        "tokens restored"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_captive_portal_answers_every_request_until_the_fault_is_cleared() {
    let emu = start().await;
    let ctl = |p: &str| format!("{}{p}", emu.control_url());
    // Redirects are looked at, not followed.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let get = |path: &str| req(&c, &emu, Method::GET, path).send();

    let set = c
        .post(ctl("/faults"))
        .json(&json!({"captive_portal": "sign_in_page"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    for path in ["/customers?limit=1", "/crm/v3/objects/contacts?limit=1"] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "text/html; charset=utf-8"
        );
        assert!(r.text().await.unwrap().contains("<form"));
    }
    // A write never reaches the CRM behind it.
    assert_eq!(put(&c, &emu, "k").send().await.unwrap().status(), 200);
    assert!(emu.records().is_empty());
    assert_eq!(
        emu.count_outcome("PUT /customers/{key}", "captive_portal"),
        1
    );

    c.post(ctl("/faults"))
        .json(&json!({"captive_portal": "redirect"}))
        .send()
        .await
        .unwrap();
    let r = get("/customers?limit=1").await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "http://127.0.0.2/portal/login?continue=%2Fcustomers%3Flimit%3D1"
    );

    c.post(ctl("/faults"))
        .json(&json!({"captive_portal": "proxy"}))
        .send()
        .await
        .unwrap();
    let r = get("/customers?limit=1").await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().contains_key("x-squid-error"));
    assert!(r.headers().contains_key("via"));

    let refused = c
        .post(ctl("/faults"))
        .json(&json!({"captive_portal": "hotel"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    c.delete(ctl("/faults")).send().await.unwrap();
    let (status, _) = json(get("/customers?limit=1").await.unwrap()).await;
    assert_eq!(status, 200);
    emu.shutdown().await;
}
