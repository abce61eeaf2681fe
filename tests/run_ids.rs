//! Run ids are the keys of every committed result: the parameter table must give every config in
//! `experiments/` exactly the ids (and the order) its committed `results/<name>/metrics.csv` has.

use std::path::Path;

use mnist_logreg::config::Config;

#[test]
fn every_committed_result_keeps_its_run_ids_and_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("experiments")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let config = Config::load(&path).unwrap();
        let metrics = root.join("results").join(&config.name).join("metrics.csv");
        let Ok(mut reader) = csv::Reader::from_path(&metrics) else {
            continue;
        };
        let committed: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        let ids: Vec<&str> = config.runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, committed, "{}", path.display());
        checked += 1;
    }
    assert!(
        checked >= 8,
        "only {checked} configs have committed results"
    );
}
