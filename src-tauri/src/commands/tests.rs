//! The commands as the UI calls them (`ui/src/lib/ipc.ts`), through Tauri's
//! mock runtime with the app's real context, so the capability file is
//! enforced too: argument names (camelCase on the wire), result shapes and
//! the error shape `{code, message, fields}`. No window, no display.

use std::sync::Arc;

use outpost_core::endpoint::secrets::MemorySecrets;
use outpost_core::{Outpost, Store};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};
use tempfile::TempDir;

struct Window {
    webview: WebviewWindow<MockRuntime>,
    secrets: MemorySecrets,
    _app: App<MockRuntime>,
    _dir: TempDir,
}

impl Window {
    fn open() -> Window {
        let dir = TempDir::new().unwrap();
        let secrets = MemorySecrets::default();
        // The store's pool lives on Tauri's runtime, as in the real app.
        let outpost = tauri::async_runtime::block_on(async {
            let store = Store::open(dir.path().join("window.db")).await.unwrap();
            Outpost::start(store, Arc::new(secrets.clone()))
                .await
                .unwrap()
        });
        let app = mock_builder()
            .manage(outpost)
            .invoke_handler(super::handler())
            .build(tauri::generate_context!(test = true))
            .expect("the mock app builds");
        let webview = match app.get_webview_window("main") {
            Some(w) => w,
            None => WebviewWindowBuilder::new(&app, "main", Default::default())
                .build()
                .unwrap(),
        };
        Window {
            webview,
            secrets,
            _app: app,
            _dir: dir,
        }
    }

    /// `invoke(cmd, args)` as the page does it.
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn err(&self, cmd: &str, args: Value) -> Value {
        let e = self
            .invoke(cmd, args)
            .expect_err(&format!("{cmd} should fail"));
        assert_error_shape(&e);
        e
    }
}

fn assert_error_shape(e: &Value) {
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "fields", "message"], "{e}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
}

#[test]
fn create_search_and_lookup_take_the_uis_arguments() {
    let w = Window::open();
    let created = w.ok(
        "create_customer",
        json!({"input": {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com"}}),
    );
    assert_eq!(created["email"], "ada@example.com");
    assert_eq!(created["sync_state"], "pending");
    let key = created["id"].as_str().unwrap().to_owned();

    let found = w.ok("search_customers", json!({"query": "ada", "limit": 5}));
    assert_eq!(found[0]["id"], key.as_str());
    // `limit` is optional.
    assert_eq!(w.ok("search_customers", json!({"query": "ada"})), found);

    let lookup = w.ok("lookup_customers", json!({"query": "love", "limit": 5}));
    assert_eq!(lookup["customers"][0]["id"], key.as_str());
    assert_eq!(lookup["from_crm"], json!([]));
    assert_eq!(lookup["remote"], json!({"state": "not_asked"}));

    assert_eq!(
        w.ok("get_customer", json!({"id": key}))["first_name"],
        "Ada"
    );
}

#[test]
fn a_bad_customer_comes_back_field_by_field() {
    let w = Window::open();
    let e = w.err(
        "create_customer",
        json!({"input": {"first_name": "Ada", "email": "ada-at-example"}}),
    );
    assert_eq!(e["code"], "validation");
    assert_eq!(e["fields"][0]["field"], "email");

    let e = w.err("create_customer", json!({"input": {"frist_name": "Ada"}}));
    assert_eq!(e["code"], "invalid_input");
    assert_eq!(e["fields"][0]["field"], "frist_name");

    // A missing argument is Tauri's own refusal, before the command runs.
    let e = w
        .invoke("create_customer", json!({"customer": {}}))
        .unwrap_err();
    assert!(e.as_str().is_some_and(|m| m.contains("input")), "{e}");
}

#[test]
fn edit_customer_takes_an_id_and_changes_and_names_what_is_wrong() {
    let w = Window::open();
    let created = w.ok(
        "create_customer",
        json!({"input": {"first_name": "Ada", "last_name": "Lovelace", "city": "London"}}),
    );
    let key = created["id"].as_str().unwrap().to_owned();

    let edited = w.ok(
        "edit_customer",
        json!({"id": key, "changes": {"last_name": "Byron", "city": null}}),
    );
    assert_eq!(edited["last_name"], "Byron");
    assert_eq!(edited["city"], Value::Null);
    assert_eq!(edited["first_name"], "Ada");
    assert_eq!(
        edited["pending_edit"], false,
        "the waiting create carries it"
    );
    assert_eq!(w.ok("get_customer", json!({"id": key})), edited);

    let e = w.err(
        "edit_customer",
        json!({"id": key, "changes": {"email": "ada-at-example"}}),
    );
    assert_eq!(e["code"], "validation");
    assert_eq!(e["fields"][0]["field"], "email");
    let e = w.err(
        "edit_customer",
        json!({"id": key, "changes": {"last_nmae": "x"}}),
    );
    assert_eq!(e["code"], "invalid_input");
    assert_eq!(e["fields"][0]["field"], "last_nmae");
    let e = w.err("edit_customer", json!({"id": key, "changes": {"city": 7}}));
    assert_eq!(e["code"], "invalid_input");
    let e = w.err("edit_customer", json!({"id": "nope", "changes": {}}));
    assert_eq!(e["fields"][0]["field"], "id");
    let e = w.err(
        "edit_customer",
        json!({"id": "01900000-0000-7000-8000-000000000000", "changes": {"city": "Paris"}}),
    );
    assert_eq!(e["code"], "not_found");
    assert_eq!(w.ok("get_customer", json!({"id": key})), edited);
}

#[test]
fn check_customer_takes_input_and_stores_nothing() {
    let w = Window::open();
    let checked = w.ok(
        "check_customer",
        json!({"input": {"first_name": "Ada", "email": "ada-at-example"}}),
    );
    assert_eq!(checked["errors"][0]["field"], "email");
    let checked = w.ok(
        "check_customer",
        json!({"input": {"email": "Ada@Example.com", "last_name": "L"}}),
    );
    assert_eq!(checked["errors"], json!([]));
    assert_eq!(checked["normalised"]["email"], "ada@example.com");
    assert_eq!(w.ok("search_customers", json!({"query": ""})), json!([]));
    let e = w.err("check_customer", json!({"input": {"frist_name": "Ada"}}));
    assert_eq!(e["fields"][0]["field"], "frist_name");
}

#[test]
fn search_limits_are_the_cores() {
    let w = Window::open();
    for cmd in ["search_customers", "lookup_customers"] {
        let e = w.err(cmd, json!({"query": "ada", "limit": 0}));
        assert_eq!(e["code"], "invalid_input");
        assert_eq!(
            e["fields"],
            json!([{"field": "limit", "message": "The limit must be between 1 and 200."}])
        );
        assert_eq!(e["message"], "limit: The limit must be between 1 and 200.");
        let e = w.err(cmd, json!({"query": "x".repeat(201)}));
        assert_eq!(e["fields"][0]["field"], "query");
    }
    let e = w.err("find_duplicates", json!({"email": "a".repeat(300)}));
    assert_eq!(e["fields"][0]["field"], "email");
}

#[test]
fn retry_takes_an_id_and_names_a_bad_one() {
    let w = Window::open();
    let e = w.err("retry_customer", json!({"id": "not-a-key"}));
    assert_eq!(e["code"], "invalid_input");
    assert_eq!(e["fields"][0]["field"], "id");

    let e = w.err(
        "retry_customer",
        json!({"id": "01900000-0000-7000-8000-000000000000"}),
    );
    assert_eq!(e["code"], "not_found");
    assert_eq!(e["fields"], json!([]));

    let key = w.ok("create_customer", json!({"input": {"company": "Shop"}}))["id"].clone();
    assert_eq!(
        w.ok("retry_customer", json!({"id": key})),
        0,
        "nothing needs attention"
    );
}

fn endpoint(name: &str) -> Value {
    json!({
        "name": name,
        "kind": "generic-rest",
        "base_url": "http://127.0.0.1:9",
        "connectivity": "online-offline",
        "priority": 1,
        "settings": {}
    })
}

#[test]
fn save_endpoint_needs_the_unlocked_settings_and_takes_previous_name() {
    let w = Window::open();
    let e = w.err("save_endpoint", json!({"config": endpoint("crm")}));
    assert_eq!(e["code"], "forbidden");

    w.ok(
        "admin_set_passphrase",
        json!({"passphrase": "till-admin-2026"}),
    );
    // A new endpoint needs its token.
    let e = w.err("save_endpoint", json!({"config": endpoint("crm")}));
    assert_eq!(e["code"], "validation");
    assert_eq!(
        e["fields"],
        json!([{"field": "token", "message": "Enter the API token."}])
    );
    // The one secret rule: 4,096 characters.
    let e = w.err(
        "save_endpoint",
        json!({"config": endpoint("crm"), "secrets": {"token": "x".repeat(4097)}}),
    );
    assert_eq!(
        e["fields"],
        json!([{"field": "token", "message": "One line of at most 4096 characters."}])
    );

    let saved = w.ok(
        "save_endpoint",
        json!({"config": endpoint("crm"), "secrets": {"token": "t0ken"}}),
    );
    assert_eq!(
        (&saved["name"], &saved["settings"]["auth"]),
        (&json!("crm"), &json!("token"))
    );
    // Renamed: `previousName` on the wire; the token follows.
    w.ok(
        "save_endpoint",
        json!({"config": endpoint("hq"), "previousName": "crm"}),
    );
    let list = w.ok("list_endpoints", json!({}));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["config"]["name"], "hq");
    assert_eq!(list[0]["token_set"], true);

    let e = w.err(
        "save_endpoint",
        json!({"config": endpoint("x"), "previousName": "nope", "secrets": {"token": "t"}}),
    );
    assert_eq!(e["code"], "not_found");
}

#[test]
fn a_locked_keyring_is_its_own_error_with_the_way_out() {
    let w = Window::open();
    w.ok(
        "admin_set_passphrase",
        json!({"passphrase": "till-admin-2026"}),
    );
    w.secrets.lock(true);
    let e = w.err(
        "save_endpoint",
        json!({"config": endpoint("crm"), "secrets": {"token": "t0ken"}}),
    );
    assert_eq!(e["code"], "keyring_locked");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("keyring locked: unlock it"),
        "{e}"
    );
    w.secrets.lock(false);
    w.ok(
        "save_endpoint",
        json!({"config": endpoint("crm"), "secrets": {"token": "t0ken"}}),
    );
    w.secrets.lock(true);
    assert_eq!(w.err("list_endpoints", json!({}))["code"], "keyring_locked");
}

#[test]
fn outbox_filter_and_pull_now_answer_in_words() {
    let w = Window::open();
    assert_eq!(
        w.ok("list_outbox", json!({"stateFilter": "pending"})),
        json!([])
    );
    let e = w.err("list_outbox", json!({"stateFilter": "lost"}));
    assert_eq!(e["fields"][0]["field"], "state_filter");
    // No CRM: no working set to pull.
    assert_eq!(w.err("pull_now", json!({}))["code"], "refused");
    assert_eq!(
        w.ok("get_status", json!({}))["connection"],
        "not_configured"
    );
}

/// A customer whose phone edit met another value in the CRM, recorded the
/// way a flush round records it (delivery itself is tested against the
/// emulator in outpost-core's update_delivery tests).
fn customer_with_a_phone_conflict(w: &Window) -> String {
    use outpost_core::crm::connector::FieldConflict;
    use outpost_core::store::{RoundOutcomes, UpdatedRecord};
    let created = w.ok(
        "create_customer",
        json!({"input": {"first_name": "Ada", "last_name": "Lovelace", "phone": "+49 30 5550222"}}),
    );
    let key = created["id"].as_str().unwrap().to_owned();
    let id: outpost_core::CustomerId = key.parse().unwrap();
    tauri::async_runtime::block_on(async {
        let store = Store::open(w._dir.path().join("window.db")).await.unwrap();
        store
            .record_round(&RoundOutcomes {
                endpoint: "crm",
                updated: vec![UpdatedRecord {
                    message_id: -1,
                    customer: id,
                    version: Some("3".into()),
                    conflicts: vec![FieldConflict {
                        field: "phone".into(),
                        ours: Some("+49 30 5550222".into()),
                        theirs: Some("+49 30 5550111".into()),
                        base: Some("+49 30 5550101".into()),
                    }],
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        store.close().await;
    });
    key
}

#[test]
fn conflicts_are_listed_all_or_per_customer_and_counted_in_the_status() {
    let w = Window::open();
    assert_eq!(w.ok("list_conflicts", json!({})), json!([]));
    let key = customer_with_a_phone_conflict(&w);
    let other = w.ok("create_customer", json!({"input": {"company": "Shop"}}))["id"].clone();

    let all = w.ok("list_conflicts", json!({}));
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    let c = &all[0];
    assert_eq!(
        (
            &c["customer_id"],
            &c["field"],
            &c["ours"],
            &c["theirs"],
            &c["base"]
        ),
        (
            &json!(key),
            &json!("phone"),
            &json!("+49 30 5550222"),
            &json!("+49 30 5550111"),
            &json!("+49 30 5550101")
        )
    );
    assert!(c["detected_at"].as_str().is_some(), "{c}");
    assert_eq!(w.ok("list_conflicts", json!({"id": key})), all);
    assert_eq!(w.ok("list_conflicts", json!({"id": other})), json!([]));
    assert_eq!(w.ok("get_status", json!({}))["conflicts"], 1);

    let e = w.err("list_conflicts", json!({"id": "nope"}));
    assert_eq!(
        (&e["code"], &e["fields"][0]["field"]),
        (&json!("invalid_input"), &json!("id"))
    );
    let e = w.err(
        "list_conflicts",
        json!({"id": "01900000-0000-7000-8000-000000000000"}),
    );
    assert_eq!(e["code"], "not_found");
}

#[test]
fn use_mine_keeps_ours_and_answers_the_customer() {
    let w = Window::open();
    let key = customer_with_a_phone_conflict(&w);
    let customer = w.ok(
        "resolve_conflict",
        json!({"id": key, "field": "phone", "use": "mine"}),
    );
    assert_eq!(customer["id"], key.as_str());
    assert_eq!(customer["phone"], "+49 30 5550222");
    assert_eq!(w.ok("list_conflicts", json!({})), json!([]));
    assert_eq!(w.ok("get_status", json!({}))["conflicts"], 0);
    assert_eq!(w.ok("get_customer", json!({"id": key})), customer);
    // Settled: a second answer is not found, naming nothing new.
    let e = w.err(
        "resolve_conflict",
        json!({"id": key, "field": "phone", "use": "mine"}),
    );
    assert_eq!(e["code"], "not_found");
    assert!(e["message"].as_str().unwrap().contains("phone"), "{e}");
}

#[test]
fn keep_the_crms_takes_their_value_and_bad_arguments_are_named() {
    let w = Window::open();
    let key = customer_with_a_phone_conflict(&w);

    let e = w.err(
        "resolve_conflict",
        json!({"id": key, "field": "phone", "use": "theirs"}),
    );
    assert_eq!(
        (&e["code"], &e["fields"][0]["field"]),
        (&json!("invalid_input"), &json!("use"))
    );
    let e = w.err(
        "resolve_conflict",
        json!({"id": key, "field": "", "use": "crm"}),
    );
    assert_eq!(
        (&e["code"], &e["fields"][0]["field"]),
        (&json!("invalid_input"), &json!("field"))
    );
    // A field without a conflict (or unknown altogether) is not found.
    for field in ["city", "no_such_field"] {
        let e = w.err(
            "resolve_conflict",
            json!({"id": key, "field": field, "use": "crm"}),
        );
        assert_eq!(e["code"], "not_found", "{field}: {e}");
    }
    let e = w.err(
        "resolve_conflict",
        json!({"id": "nope", "field": "phone", "use": "crm"}),
    );
    assert_eq!(e["fields"][0]["field"], "id");
    let e = w.err(
        "resolve_conflict",
        json!({"id": "01900000-0000-7000-8000-000000000000", "field": "phone", "use": "crm"}),
    );
    assert_eq!(e["code"], "not_found");
    assert!(e["message"].as_str().unwrap().contains("customer"), "{e}");
    // A missing choice is Tauri's own refusal, before the command runs.
    let e = w
        .invoke("resolve_conflict", json!({"id": key, "field": "phone"}))
        .unwrap_err();
    assert!(e.as_str().is_some_and(|m| m.contains("use")), "{e}");
    // Nothing of that touched the conflict.
    assert_eq!(
        w.ok("list_conflicts", json!({})).as_array().unwrap().len(),
        1
    );

    let customer = w.ok(
        "resolve_conflict",
        json!({"id": key, "field": "phone", "use": "crm"}),
    );
    assert_eq!(customer["phone"], "+49 30 5550111");
    assert_eq!(w.ok("list_conflicts", json!({})), json!([]));
    assert_eq!(w.ok("get_customer", json!({"id": key})), customer);
}
