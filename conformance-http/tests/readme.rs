//! The README's adapter is `tests/plain_hyper.rs`, which runs: they must not drift.

#[test]
fn the_readme_shows_the_plain_hyper_adapter() {
    let readme = include_str!("../README.md");
    let example = include_str!("plain_hyper.rs");
    assert!(
        readme.contains(example),
        "README.md must quote tests/plain_hyper.rs verbatim (after `cargo fmt`)"
    );
}

#[test]
fn scenario_names_are_unique() {
    let names: std::collections::BTreeSet<&str> = session_conformance_http::scenarios::ALL
        .iter()
        .map(|(_, name)| *name)
        .collect();
    assert_eq!(names.len(), session_conformance_http::scenarios::ALL.len());
}
