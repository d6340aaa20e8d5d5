//! Every suite function runs: `behaviour_suite!` lists each one by name, and
//! a function missing from that list would never run anywhere. This reads
//! the sources and checks that the macro lists exactly the suite functions
//! there are, the async ones under `run` and the plain ones under `call`.

use std::collections::BTreeSet;
use std::path::Path;

/// (suite, function, async?) for each suite function in `src/suites/`.
fn defined() -> BTreeSet<(String, String, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/suites");
    let mut found = BTreeSet::new();
    // A suite is `src/suites/<suite>.rs` and the files of `src/suites/<suite>/`.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let suite = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                files.push((suite.clone(), entry.unwrap().path()));
            }
        } else {
            files.push((suite, path));
        }
    }
    for (suite, path) in files {
        // rustfmt puts a long name's generics on lines of their own.
        let source = std::fs::read_to_string(&path)
            .unwrap()
            .replace("<\n    R: TestRuntime,\n>", "<R: TestRuntime>")
            .replace(
                "<\n    R: TestRuntime,\n    T: TestTransport<R::Rt>,\n>",
                "<R: TestRuntime>",
            )
            .replace(
                "<R: TestRuntime, T: TestTransport<R::Rt>>",
                "<R: TestRuntime>",
            );
        for line in source.lines() {
            let (rest, is_async) = if let Some(rest) = line.strip_prefix("pub async fn ") {
                (rest, true)
            } else if let Some(rest) = line.strip_prefix("pub fn ") {
                (rest, false)
            } else {
                continue;
            };
            if let Some((name, _)) = rest.split_once("<R: TestRuntime>()") {
                found.insert((suite.clone(), name.to_string(), is_async));
            }
        }
    }
    found
}

/// (suite, function, listed under `run`?) for each name in the macro.
fn listed() -> BTreeSet<(String, String, bool)> {
    let source = include_str!("../src/suites.rs");
    let start = source.find("macro_rules! behaviour_suite").unwrap();
    let end = source.find("macro_rules! __suite_tests").unwrap();
    let mut found = BTreeSet::new();
    let (mut suite, mut run) = (None, false);
    for line in source[start..end].lines().map(str::trim) {
        // `{ $runtime, source,` or `{ $runtime, $transport, source,`.
        if let Some(rest) = line.strip_prefix("$crate::__suite_tests! { $runtime, ") {
            let name = rest.trim_end_matches(',').rsplit(", ").next().unwrap();
            suite = Some(name.to_string());
        } else if line.starts_with("run [") {
            run = true;
        } else if line.starts_with("call [") {
            run = false;
        } else if line == "}" {
            suite = None;
        } else if let (Some(suite), Some(name)) = (&suite, line.strip_suffix(',')) {
            found.insert((suite.clone(), name.to_string(), run));
        }
    }
    found
}

#[test]
fn the_macro_runs_every_suite_function() {
    let defined = defined();
    let listed = listed();
    assert!(defined.len() > 30, "found only {defined:?}");
    let missing: Vec<_> = defined.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&defined).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "not listed in behaviour_suite! (or under the wrong list): {missing:#?}\n\
         listed but not a suite function: {unknown:#?}"
    );
}
