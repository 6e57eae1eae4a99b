//! The REST API asking for one shop's keys, the truncated-body fault, and
//! the fault proxy in front of a server.

mod common;

use common::{client, json, req, start, start_with};
use crm_emulator::{Config, FaultProxy, Faults};
use reqwest::Method;
use serde_json::json;

const SHOP_17: &str = "0192f0c4-3a10-8005-a3c1-5e9d8f000017";
const SHOP_18: &str = "0192f0c4-3a10-8005-a3c1-5e9d8f000018";
const V7: &str = "0192f0c4-3a10-7005-a3c1-5e9d8f000017";

#[tokio::test]
async fn a_crm_that_asks_for_shop_keys_says_so_and_refuses_others() {
    let mut config = Config::unlimited();
    config.rest_key_shop = Some(17);
    let emu = start_with(config).await;
    let c = client();
    let put = |key: &str| {
        req(&c, &emu, Method::PUT, &format!("/customers/{key}")).json(&json!({"company": "ACME"}))
    };
    let (_, metadata) = json(
        req(&c, &emu, Method::GET, "/metadata")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        metadata["key_format"],
        json!({"layout": "uuid8-shop", "shop": 17})
    );
    assert_eq!(put(SHOP_17).send().await.unwrap().status(), 201);
    for other in [SHOP_18, V7, "plain-key"] {
        let (status, err) = json(put(other).send().await.unwrap()).await;
        assert_eq!(status, 400, "{other}");
        assert_eq!(err["code"], "invalid_key");
        assert_eq!(err["field"], "key");
        assert!(err["message"].as_str().unwrap().contains("000017"), "{err}");
    }
    assert_eq!(emu.records().len(), 1, "nothing refused was stored");

    // The control API changes it; reset restores the configured shop.
    let ctl = |p: &str| format!("{}{p}", emu.control_url());
    let (status, _) = json(
        c.post(ctl("/rest/key-format"))
            .json(&json!({"shop": null}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(put("plain-key").send().await.unwrap().status(), 201);
    let (_, metadata) = json(
        req(&c, &emu, Method::GET, "/metadata")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(metadata.get("key_format").is_none(), "{metadata}");
    for bad in [
        json!({"shop": 0}),
        json!({"shop": 1_000_000}),
        json!({"shops": 1}),
    ] {
        let r = c
            .post(ctl("/rest/key-format"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    emu.set_rest_key_shop(Some(18));
    let (_, got) = json(c.get(ctl("/rest/key-format")).send().await.unwrap()).await;
    assert_eq!(got, json!({"shop": 18}));
    emu.reset().await;
    assert_eq!(emu.rest_key_shop(), Some(17));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_truncated_answer_has_its_status_but_not_its_body_and_the_write_stands() {
    let emu = start().await;
    emu.set_faults(Faults {
        truncate_body_rate: 1.0,
        ..Faults::default()
    });
    let c = client();
    let r = req(&c, &emu, Method::PUT, "/customers/cut")
        .json(&json!({"company": "ACME"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the status arrives");
    let declared: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 0);
    assert!(r.bytes().await.is_err(), "the body is cut short");
    assert_eq!(emu.records().len(), 1, "the write was committed");
    assert_eq!(
        emu.count_outcome("PUT /customers/{key}", "truncated_body"),
        1
    );
    assert_eq!(emu.stats().count_anywhere("truncated_body"), 1);
    // Reads are never cut.
    let (status, _) = json(
        req(&c, &emu, Method::GET, "/customers/cut")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let r = c
        .post(format!("{}/faults", emu.control_url()))
        .json(&json!({"truncate_body_rate": 1.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn the_proxy_forwards_and_applies_the_fault_plan() {
    // The emulator stands in for the real server behind the proxy.
    let emu = start().await;
    let proxy = FaultProxy::start(&emu.crm_url()).await.unwrap();
    let c = client();
    let via = |method: Method, path: &str| {
        c.request(method, format!("{}{path}", proxy.url()))
            .bearer_auth(emu.token())
    };
    let (status, created) = json(
        via(Method::PUT, "/customers/k?x=1")
            .json(&json!({"company": "ACME"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, created["company"].as_str()), (201, Some("ACME")));
    let (status, err) = json(via(Method::GET, "/customers/nope").send().await.unwrap()).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));
    assert_eq!(proxy.stats().count("PUT /customers/k", "201"), 1);

    proxy.set_faults(Faults {
        drop_after_commit_rate: 1.0,
        ..Faults::default()
    });
    let err = via(Method::PUT, "/customers/dropped")
        .json(&json!({"company": "ACME"}))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "{err:?}");
    assert_eq!(emu.records().len(), 2, "stored behind the proxy");
    assert_eq!(proxy.stats().count_anywhere("dropped_after_commit"), 1);

    proxy.set_faults(Faults {
        truncate_body_rate: 1.0,
        ..Faults::default()
    });
    let r = via(Method::PUT, "/customers/cut")
        .json(&json!({"company": "ACME"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.bytes().await.is_err());
    proxy.clear_faults();

    proxy.down().await;
    assert!(via(Method::GET, "/customers/k").send().await.is_err());
    proxy.up().await.unwrap();
    assert_eq!(
        via(Method::GET, "/customers/k")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Behind it, a server that went away is a 502.
    emu.down().await;
    assert_eq!(
        via(Method::GET, "/customers/k")
            .send()
            .await
            .unwrap()
            .status(),
        502
    );
    emu.shutdown().await;
}
