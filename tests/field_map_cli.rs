//! `outpost endpoints add/set --map/--unmap`, the effective map in
//! `endpoints show`, `export`/`import` of the overrides, and the checks
//! against the CRM (the emulator) as real processes. Needs the OS keyring
//! (the README's test command provides one).

use std::path::Path;
use std::process::Output;

use crm_emulator::{Config, Emulator, RestCustomField};
use serde_json::{json, Value};
use tempfile::TempDir;

mod common;
use common::{closed_port, outpost, run_with_stdin, stderr};

fn run(db: &Path, args: &[&str]) -> Output {
    outpost(db).args(args).output().unwrap()
}

fn json_of(o: &Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn show(db: &Path, name: &str) -> Value {
    json_of(&run(db, &["--json", "endpoints", "show", name]))
}

#[test]
fn map_and_unmap_change_the_effective_map_and_export_carries_only_overrides() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("a.db");
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out = run(
        &db,
        &[
            "endpoints",
            "add",
            "--name",
            "hq",
            "--kind",
            "hubspot",
            "--url",
            &url,
            "--map",
            "tax_id=vat_number",
            "--map",
            "+store_id",
            "--map",
            "notes=remarks",
            "--map",
            "email=email",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not be checked against the CRM"),
        "offline: saved, and said so: {}",
        stderr(&out)
    );
    let shown = show(&db, "hq");
    assert_eq!(shown["field_map"]["tax_id"], "vat_number");
    assert_eq!(shown["field_map"]["notes"], "remarks");
    assert_eq!(
        shown["field_map"]["email"], "email",
        "defaults are in the effective map"
    );
    assert_eq!(shown["field_map"]["postal_code"], "zip");
    assert_eq!(shown["form_extra"], json!(["store_id"]));
    assert_eq!(
        shown["settings"]["field_map"],
        json!({"tax_id": "vat_number", "notes": "remarks"}),
        "the stored overrides: email=email is the default"
    );
    assert_eq!(shown["map_problems"], json!([]));
    assert!(shown["map_checked_at"].is_null());

    let out = run(
        &db,
        &[
            "endpoints",
            "set",
            "--name",
            "hq",
            "--unmap",
            "notes",
            "--unmap",
            "+store_id",
            "--map",
            "phone=mobilephone",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = show(&db, "hq");
    assert!(
        shown["field_map"].get("notes").is_none(),
        "HubSpot sends no notes by default"
    );
    assert_eq!(shown["field_map"]["phone"], "mobilephone");
    assert_eq!(shown["form_extra"], json!([]));

    // Export carries the overrides only; import restores the same map.
    let export = run(&db, &["endpoints", "export"]);
    assert!(export.status.success(), "{}", stderr(&export));
    let exported: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(
        exported["endpoints"][0]["settings"]["field_map"],
        json!({"phone": "mobilephone", "tax_id": "vat_number"})
    );
    assert!(exported["endpoints"][0]["settings"]
        .get("form_extra")
        .is_none());
    let other = dir.path().join("b.db");
    let file = dir.path().join("fleet.json");
    std::fs::write(&file, &export.stdout).unwrap();
    let out = run(&other, &["endpoints", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        show(&other, "hq")["field_map"],
        show(&db, "hq")["field_map"]
    );

    // An import whose map conflicts changes nothing.
    let mut bad = exported.clone();
    bad["endpoints"][0]["settings"]["field_map"]["tax_id"] = json!("email");
    std::fs::write(&file, bad.to_string()).unwrap();
    let out = run(
        &other,
        &["--json", "endpoints", "import", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(show(&other, "hq")["field_map"]["tax_id"], "vat_number");
}

#[test]
fn an_unknown_field_or_a_malformed_map_is_exit_2_naming_map() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("a.db");
    let url = format!("http://127.0.0.1:{}", closed_port());
    let add = |extra: &[&str]| {
        let mut args = vec![
            "--json",
            "endpoints",
            "add",
            "--name",
            "x",
            "--kind",
            "generic-rest",
            "--url",
            &url,
        ];
        args.extend_from_slice(extra);
        run(&db, &args)
    };
    for bad in [
        &["--map", "taxid=vat_number"][..],
        &["--map", "tax_id"],
        &["--map", "tax_id="],
        &["--unmap", "vat"],
        &["--map", "tax_id=email"],
        &["--map", "+Store-Id"],
    ] {
        let out = add(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        let err: Value = serde_json::from_str(stderr(&out).trim()).unwrap();
        assert_eq!(err["fields"][0]["field"], "map", "{bad:?}: {err}");
    }
    let out = add(&["--map", "taxid=vat_number"]);
    assert!(
        stderr(&out).contains("tax_id"),
        "the message lists the fields: {}",
        stderr(&out)
    );
    let list = json_of(&run(&db, &["--json", "endpoints", "list"]));
    assert_eq!(list, json!([]), "nothing was saved");
}

/// `endpoints add` with the emulator's token on stdin.
fn add(db: &Path, name: &str, emu: &Emulator, kind: &str, extra: &[&str]) -> Output {
    let url = emu.crm_url();
    let mut args = vec![
        "endpoints",
        "add",
        "--name",
        name,
        "--kind",
        kind,
        "--url",
        &url,
        "--token-stdin",
    ];
    args.extend_from_slice(extra);
    run_with_stdin(db, &args, emu.token())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_is_checked_against_hubspot_when_it_answers() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("a.db");
    let name = unique("map-hubspot");
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    emu.create_hubspot_property(
        "contacts",
        json!({"name": "vat_number", "label": "VAT number", "type": "string",
               "fieldType": "text", "groupName": "contactinformation"}),
    )
    .unwrap();

    let out = add(&db, &name, &emu, "hubspot", &["--map", "tax_id=vat_nummer"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("map: HubSpot has no contact property vat_nummer"),
        "{}",
        stderr(&out)
    );
    let out = add(&db, &name, &emu, "hubspot", &["--map", "notes=createdate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("holds dates and times"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        json_of(&run(&db, &["--json", "endpoints", "list"])),
        json!([])
    );

    let out = add(&db, &name, &emu, "hubspot", &["--map", "tax_id=vat_number"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("could not be checked"),
        "{}",
        stderr(&out)
    );
    let out = run(&db, &["--json", "endpoints", "test", &name]);
    assert!(out.status.success(), "{}", stderr(&out));

    // The property goes away in HubSpot: the next fetch of its metadata
    // (a pull) reports it, and so does the connection test.
    assert!(emu.remove_hubspot_property("contacts", "vat_number"));
    let pulled = run(&db, &["--json", "pull"]);
    assert!(pulled.status.success(), "{}", stderr(&pulled));
    let shown = show(&db, &name);
    assert_eq!(
        shown["map_problems"],
        json!(["HubSpot has no contact property vat_number (tax_id is mapped to it)."])
    );
    assert!(shown["map_checked_at"].is_string());
    let out = run(&db, &["--json", "endpoints", "test", &name]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["outcome"], "misconfigured");
    assert_eq!(result["map_problems"][0]["subject"], "tax_id");
    let err: Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert_eq!(err["fields"][0]["field"], "map");

    // Removing the override makes it fit again.
    let out = run(
        &db,
        &["endpoints", "set", "--name", &name, "--unmap", "tax_id"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(run(&db, &["endpoints", "test", &name]).status.success());
    remove_secrets(&db, &name);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_rest_field_is_refused_and_a_mapped_tax_id_is_delivered() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("a.db");
    let name = unique("map-rest");
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    for (field, writable) in [("vat_number", true), ("vat_checked", false)] {
        emu.define_rest_field(RestCustomField {
            name: field.into(),
            kind: "string".into(),
            label: None,
            writable,
            options: vec![],
        })
        .unwrap();
    }
    let out = add(
        &db,
        &name,
        &emu,
        "generic-rest",
        &["--map", "tax_id=vat_checked"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("The CRM's field vat_checked is read-only"),
        "{}",
        stderr(&out)
    );
    let out = add(
        &db,
        &name,
        &emu,
        "generic-rest",
        &["--map", "tax_id=vat_number"],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let out = run(
        &db,
        &[
            "customers",
            "add",
            "--last-name",
            "Ito",
            "--tax-id",
            "DE123456789",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let synced = json_of(&run(&db, &["--json", "sync", "--once"]));
    assert_eq!(synced["delivered"], 1, "{synced}");
    let record = emu
        .records()
        .into_iter()
        .find(|r| r.key.as_deref() == Some(key.as_str()))
        .unwrap();
    assert_eq!(record.record["vat_number"], "DE123456789");
    remove_secrets(&db, &name);
    emu.shutdown().await;
}

/// The keyring outlives the test's database: remove what it stored.
fn remove_secrets(db: &Path, name: &str) {
    let _ = run(db, &["endpoints", "remove", name]);
}

/// Endpoint names are keyring keys shared by every database on the machine.
fn unique(tag: &str) -> String {
    format!("{tag}-{}", std::process::id())
}
