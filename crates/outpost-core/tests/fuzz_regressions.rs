//! Replays the fuzz targets' seed inputs and every input a fuzz run found
//! (crates/outpost-core/fuzz/{seeds,regressions}/TARGET/) through the same
//! property checks the targets run (`outpost_core::fuzzing`), so a crash
//! once found stays fixed under plain `cargo test`.

use std::path::Path;

use outpost_core::fuzzing;

fn replay(target: &str, run: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for kind in ["seeds", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = dir.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            // A panic names the file: the fuzz target's own message follows.
            eprintln!("replaying {}", file.display());
            run(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no inputs for {target}");
}

#[test]
fn validation() {
    replay("validation", fuzzing::validation);
}

#[test]
fn search_query() {
    replay("search_query", fuzzing::search_query);
}

#[test]
fn generic_rest_response() {
    replay("generic_rest_response", fuzzing::generic_rest_response);
}

#[test]
fn hubspot_response() {
    replay("hubspot_response", fuzzing::hubspot_response);
}

#[test]
fn bottlecrm_response() {
    replay("bottlecrm_response", fuzzing::bottlecrm_response);
}
