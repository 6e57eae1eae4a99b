//! The CLI when its database cannot be used: a file that is not Outpost's
//! (exit 1, `code` `not_outpost_database` or `newer_database`, the file named
//! and left unchanged) and a full disk (exit 1, `code` `disk_full`, "the disk
//! is full: nothing was saved"; creations work again when space returns).

use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;
use common::outpost;

#[path = "../crates/outpost-core/tests/common/small_disk.rs"]
mod small_disk;
use small_disk::SmallDisk;

fn run(db: &Path, args: &[&str]) -> Output {
    outpost(db).args(args).output().unwrap()
}

/// The `--json` error object on stderr.
fn error_of(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON error on stderr: {text}"));
    serde_json::from_str(line).unwrap()
}

fn add(db: &Path, first: &str) -> Output {
    run(
        db,
        &[
            "--json",
            "customers",
            "add",
            "--first-name",
            first,
            "--last-name",
            "Diskfull",
        ],
    )
}

#[test]
fn a_file_that_is_not_outposts_is_refused_by_name_and_left_unchanged() {
    let dir = tempfile::TempDir::new().unwrap();
    let random = dir.path().join("photo.jpg");
    std::fs::write(
        &random,
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let other = dir.path().join("other-app.db");
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE notes (body TEXT)'); c.execute(\"INSERT INTO notes VALUES ('keep')\"); c.commit()")
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());

    for (path, what) in [
        (&random, "it is not an SQLite database file"),
        (
            &other,
            "another application's SQLite database (tables notes)",
        ),
    ] {
        let before = std::fs::read(path).unwrap();
        let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
        for args in [
            &["--json", "status"][..],
            &["--json", "customers", "add", "--first-name", "Ida"],
        ] {
            let out = run(path, args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let err = error_of(&out);
            assert_eq!(err["code"], "not_outpost_database", "{err}");
            let message = err["message"].as_str().unwrap();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains(what), "{message}");
            assert!(message.contains("It was left unchanged."), "{message}");
        }
        // For a person: the same words.
        let out = run(path, &["status"]);
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains(&format!(
                "error: {} is not an Outpost database",
                path.display()
            )),
            "{text}"
        );
        assert_eq!(
            std::fs::read(path).unwrap(),
            before,
            "{} was written",
            path.display()
        );
        assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), mtime);
    }
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "nothing created beside them: {names:?}");
}

#[test]
fn a_database_from_a_newer_outpost_is_refused_and_not_migrated() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("outpost.db");
    assert!(add(&db, "Kept").status.success());
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (29991231000001, 'later', 1, x'00', 1)\"); c.commit(); c.close()")
        .arg(&db)
        .status()
        .unwrap();
    assert!(status.success());
    let before = std::fs::read(&db).unwrap();
    let out = run(&db, &["--json", "status"]);
    assert_eq!(out.status.code(), Some(1));
    let err = error_of(&out);
    assert_eq!(err["code"], "newer_database", "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(message.contains(&db.display().to_string()), "{message}");
    assert!(
        message
            .contains("written by a newer version of Outpost (its schema version 29991231000001"),
        "{message}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_full_disk_refuses_a_creation_in_words_and_creations_work_again_after() {
    let Some(disk) = SmallDisk::mount(4) else {
        return;
    };
    let db = disk.path().join("outpost.db");
    assert!(add(&db, "Before").status.success());

    let filler = disk.fill();
    let out = add(&db, "Refused");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = error_of(&out);
    assert_eq!(err["code"], "disk_full", "{err}");
    assert_eq!(err["message"], "the disk is full: nothing was saved");
    let out = run(&db, &["customers", "add", "--first-name", "Refused"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error: the disk is full: nothing was saved"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    filler.free();
    assert!(add(&db, "After").status.success());
    let out = run(&db, &["--json", "status"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (status["customers"].as_u64(), status["pending"].as_u64()),
        (Some(2), Some(2))
    );
    let out = run(
        &db,
        &["--json", "customers", "search", "Refused", "--local"],
    );
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found.as_array().map(Vec::len), Some(0), "{found}");
}
