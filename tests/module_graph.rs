//! The library's module headers and import graph, read from `src/`: every module's "May touch:"
//! line names exactly the crate's top-level modules its code (tests aside) imports (a folder's
//! `mod.rs`: the whole folder's), and the modules import one way (no loop between two modules
//! that are not parent and child).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path below the crate root, e.g. `["model", "engine"]`.
type ModPath = Vec<String>;

struct Module {
    file: PathBuf,
    /// The code with comments and tests removed.
    code: String,
    /// The top-level modules the header allows, or `None` without a header.
    header: Option<BTreeSet<String>>,
}

/// Every library module by path (the crate root and the binaries aside).
fn modules() -> BTreeMap<ModPath, Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "bin" {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path == src.join("lib.rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let mut segments: ModPath = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segments.last().is_some_and(|s| s == "mod") {
                segments.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.insert(
                segments,
                Module {
                    header: header(&text),
                    code: code(&text),
                    file: path,
                },
            );
        }
    }
    out
}

/// The top-level modules named in backticks in the "May touch:" paragraph of the module docs.
fn header(text: &str) -> Option<BTreeSet<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("//! May touch:"))?;
    let mut paragraph = String::new();
    for line in &lines[start..] {
        match line.strip_prefix("//!") {
            Some(rest) if !rest.trim().is_empty() => paragraph.push_str(rest),
            _ => break,
        }
    }
    Some(
        paragraph
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|name| name.split("::").next().unwrap().to_string())
            .collect(),
    )
}

/// The code of a file without its comments, string contents and unit tests.
fn code(text: &str) -> String {
    let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..cut]
        .lines()
        .map(|l| {
            let l = l.trim_start();
            if l.starts_with("//") {
                String::new()
            } else {
                // Paths do not contain quotes: drop string literals' contents.
                l.split('"').step_by(2).collect::<Vec<_>>().join("\"\"")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path the code names from `crate`, `super` or `self`, use trees flattened.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .any(|p| rest.starts_with(p));
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts && boundary {
            let (tree, used) = use_tree(rest);
            out.extend(tree);
            i += used.max(1);
        } else {
            i += rest.chars().next().unwrap().len_utf8();
        }
    }
    out
}

/// Parses a path or use tree at the start of `s` (`a::b::{c, d::{e}}`): the flattened paths and
/// the bytes read.
fn use_tree(s: &str) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut i = 0;
    let b = s.as_bytes();
    loop {
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i > start {
            prefix.push(s[start..i].to_string());
        }
        if s[i..].starts_with("::") {
            i += 2;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i] == b'{' {
                i += 1;
                let mut out = Vec::new();
                loop {
                    while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                        i += 1;
                    }
                    if i >= b.len() || b[i] == b'}' {
                        i += 1;
                        break;
                    }
                    let (inner, used) = use_tree(&s[i..]);
                    for p in inner {
                        out.push(prefix.iter().cloned().chain(p).collect());
                    }
                    i += used.max(1);
                }
                return (out, i);
            }
            continue;
        }
        return (vec![prefix], i);
    }
}

/// The module a path from module `at` reaches: the deepest module file on the path.
fn resolve(at: &ModPath, path: &[String], all: &BTreeMap<ModPath, Module>) -> Option<ModPath> {
    let (mut base, rest): (ModPath, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (at.clone(), &path[1..]),
        "super" => {
            // A mod.rs is its folder's module, so its `super` is the folder's parent, as for a file.
            let mut base = at.clone();
            base.pop();
            (base, &path[1..])
        }
        _ => return None,
    };
    for segment in rest {
        let mut next = base.clone();
        next.push(segment.clone());
        if all.contains_key(&next) {
            base = next;
        } else {
            break;
        }
    }
    (!base.is_empty()).then_some(base)
}

/// The modules each module imports (itself aside).
fn edges(all: &BTreeMap<ModPath, Module>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    all.iter()
        .map(|(at, m)| {
            let targets = paths(&m.code)
                .iter()
                .filter_map(|p| resolve(at, p, all))
                .filter(|t| t != at)
                .collect();
            (at.clone(), targets)
        })
        .collect()
}

#[test]
fn every_module_header_names_exactly_the_modules_it_imports() {
    let all = modules();
    let edges = edges(&all);
    let mut wrong = Vec::new();
    for (at, m) in &all {
        let file = m.file.display();
        let Some(allowed) = &m.header else {
            wrong.push(format!("{file}: no \"May touch:\" line"));
            continue;
        };
        let own = &at[0];
        // A folder's mod.rs speaks for the whole folder.
        let folder = m.file.file_name().unwrap() == "mod.rs";
        let used: BTreeSet<String> = edges
            .iter()
            .filter(|(from, _)| *from == at || (folder && from.starts_with(at)))
            .flat_map(|(_, targets)| targets.iter().map(|t| t[0].clone()))
            .filter(|t| t != own)
            .collect();
        // Names in backticks that are not modules (keys, types, flags) say nothing here.
        let allowed: BTreeSet<String> = allowed
            .iter()
            .filter(|a| *a != own && all.contains_key(&vec![a.to_string()]))
            .cloned()
            .collect();
        let missing: Vec<_> = used.difference(&allowed).collect();
        let stale: Vec<_> = allowed.difference(&used).collect();
        if !missing.is_empty() || !stale.is_empty() {
            wrong.push(format!(
                "{file}: imports but does not name {missing:?}; names but does not import {stale:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn modules_import_one_way() {
    let all = modules();
    let edges = edges(&all);
    // Parent and child may use each other (a folder's mod.rs re-exports and its files use it).
    let related = |a: &ModPath, b: &ModPath| a.starts_with(b) || b.starts_with(a);
    let mut loops = Vec::new();
    for (from, targets) in &edges {
        for to in targets.iter().filter(|to| !related(from, to)) {
            // Is `from` reachable from `to` without parent-child steps?
            let mut seen = BTreeSet::new();
            let mut stack = vec![to.clone()];
            while let Some(at) = stack.pop() {
                if !seen.insert(at.clone()) {
                    continue;
                }
                for next in edges.get(&at).into_iter().flatten() {
                    if related(&at, next) {
                        continue;
                    }
                    if next == from {
                        loops.push(format!("{} <-> {}", from.join("::"), to.join("::")));
                    }
                    stack.push(next.clone());
                }
            }
        }
    }
    loops.sort();
    loops.dedup();
    assert!(loops.is_empty(), "import loops:\n{}", loops.join("\n"));
}

/// The parser itself: use trees flatten, paths resolve to the deepest module.
#[test]
fn use_trees_flatten_and_resolve() {
    let found =
        paths("use crate::model::{params::Dtype, engine::{a, b}};\nlet x = super::figure();");
    let expected: Vec<Vec<String>> = [
        "crate model params Dtype",
        "crate model engine a",
        "crate model engine b",
        "super figure",
    ]
    .iter()
    .map(|p| p.split(' ').map(String::from).collect())
    .collect();
    assert_eq!(found, expected);
    assert_eq!(
        header("//! May touch: `model::{params, linear}`, `digits`\n//! and `error`.\n\nuse x;"),
        Some(
            ["model", "digits", "error"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        )
    );
}
