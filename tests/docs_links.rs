//! The README and the pages in `docs/` name only what exists: every relative link resolves to a
//! file or folder of the repository (and an anchor to a heading of its page), and every
//! repository path written in backticks (`src/...`, `experiments/...`, ...) exists.

use std::path::{Path, PathBuf};

/// Where a path written in backticks starts when it is a path of this repository.
const ROOTS: &[&str] = &[
    "src/",
    "tests/",
    "scripts/",
    "experiments/",
    "results/",
    "docs/",
    "vendor/",
    "examples/",
    "data/",
    ".ci/",
];

/// What the README's quick start has the reader create: named, not committed.
const CREATED_BY_THE_QUICK_START: &[&str] = &["experiments/mine.toml", "results/mine/"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pages checked: README.md and every docs/*.md.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("a docs/ folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

/// The targets of `[text](target)` links, outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// Lines outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|l| {
            if l.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// Repository paths written in backticks: `src/model/mod.rs`, `results/lbfgs/`, ... (not
/// patterns: nothing with `<`, `*`, `{`, `$` or a space).
fn code_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 0 || span.contains(['<', '*', '{', '$', ' ', '=']) {
                continue;
            }
            if ROOTS.iter().any(|r| span.starts_with(r)) {
                out.push(span.trim_end_matches([':', ',', '.']).to_string());
            }
        }
    }
    out
}

#[test]
fn every_link_and_path_in_the_readme_and_docs_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let dir = page.parent().unwrap();
        let name = page.strip_prefix(repo()).unwrap().display().to_string();
        for target in links(&text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                page.clone()
            } else {
                dir.join(path)
            };
            if !file.exists() {
                missing.push(format!("{name}: link {target}"));
                continue;
            }
            if let Some(anchor) = anchor {
                let heads = anchors(&std::fs::read_to_string(&file).unwrap_or_default());
                if !heads.iter().any(|h| h == anchor) {
                    missing.push(format!("{name}: link {target}: no such heading"));
                }
            }
        }
        for path in code_paths(&text) {
            if CREATED_BY_THE_QUICK_START
                .iter()
                .any(|c| path.starts_with(c))
            {
                continue;
            }
            checked += 1;
            if !Path::new(&repo().join(&path)).exists() {
                missing.push(format!("{name}: path `{path}`"));
            }
        }
    }
    assert!(checked > 100, "only {checked} links and paths found");
    assert!(
        missing.is_empty(),
        "{} missing:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn the_readme_is_at_most_450_lines_and_starts_with_a_quick_start() {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 450, "README.md has {} lines", lines.len());
    let quick = lines
        .iter()
        .position(|l| l.starts_with("## Quick start"))
        .expect("a quick start section");
    assert!(quick < 20, "the quick start begins at line {}", quick + 1);
}

/// The quick start's config is one the harness takes, and it runs three settings chosen by
/// cross-validation on a subsample.
#[test]
fn the_quick_start_config_is_valid() {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = text.find("```toml").expect("a TOML block") + "```toml".len();
    let end = start + text[start..].find("```").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mine.toml");
    std::fs::write(&path, &text[start..end]).unwrap();
    let config = mnist_logreg::config::Config::load(&path).unwrap();
    assert_eq!(config.name, "mine");
    assert_eq!(config.runs.len(), 3);
    assert_eq!(config.data.subsample, Some(10_000));
    assert!(config.selection.is_some());
}
