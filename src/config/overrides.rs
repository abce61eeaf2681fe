//! Overrides on the command line: `sweep CONFIG model.C=0.1,1,10 split.train_size=0.5`, each
//! `SECTION.KEY=VALUE` setting a key of a base section (or of `[output]`, `[data]` or
//! `[selection]`) as if it were written in the file. The config's text is edited in place
//! (toml_edit keeps every other line as written), then validated like any config; a mistake in an
//! override is reported with the override, not a line of the edited text.
//!
//! May touch: nothing else in the crate.

use std::str::FromStr;

use toml_edit::{DocumentMut, Item, Table, Value};

/// The sections an override may name.
pub const SECTIONS: [&str; 6] = [
    "split",
    "preprocessing",
    "model",
    "data",
    "output",
    "selection",
];

/// One `SECTION.KEY=VALUE` as given.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub section: String,
    pub key: String,
    /// The value as written after `=`.
    pub value: String,
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}={}", self.section, self.key, self.value)
    }
}

/// An override that is not `SECTION.KEY=VALUE` with a known section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("override {given:?}: {problem}")]
pub struct OverrideError {
    pub given: String,
    pub problem: String,
}

impl FromStr for Override {
    type Err = OverrideError;

    fn from_str(s: &str) -> Result<Self, OverrideError> {
        let fail = |problem: String| OverrideError {
            given: s.to_string(),
            problem,
        };
        let usage = "write SECTION.KEY=VALUE, e.g. model.C=0.1,1,10 or split.train_size=0.5";
        let (path, value) = s.split_once('=').ok_or_else(|| fail(usage.into()))?;
        let (section, key) = path
            .trim()
            .split_once('.')
            .ok_or_else(|| fail(usage.into()))?;
        if !SECTIONS.contains(&section) {
            return Err(fail(format!(
                "unknown section `{section}`: use one of {}",
                SECTIONS.join(", ")
            )));
        }
        if key.is_empty() || value.trim().is_empty() {
            return Err(fail(usage.into()));
        }
        Ok(Override {
            section: section.into(),
            key: key.trim().into(),
            value: value.trim().into(),
        })
    }
}

impl Override {
    /// The value as TOML: as written if it is TOML (`0.5`, `"unit"`, `[1, 2]`,
    /// `{ logspace = [-4, 2], num = 7 }`), a list if it has commas (`0.1,1,10`, `f32,f64`),
    /// else text (`unit`).
    fn toml(&self) -> Value {
        let v = self.value.as_str();
        let mut value = match v.parse::<Value>() {
            Ok(value) => value,
            Err(_) => {
                let items: Vec<Value> = v.split(',').map(|item| bare(item.trim())).collect();
                if items.len() > 1 {
                    Value::Array(items.into_iter().collect())
                } else {
                    bare(v)
                }
            }
        };
        value.decor_mut().clear();
        if let Value::Array(items) = &mut value {
            items.fmt();
        }
        value
    }
}

/// A bare word as a TOML value: itself if it is one (`0.5`, `true`), else a string (`unit`).
fn bare(word: &str) -> Value {
    word.parse::<Value>().unwrap_or_else(|_| Value::from(word))
}

/// `text` with the overrides applied, and the 1-based line each override's key ends up on.
pub fn apply(text: &str, overrides: &[Override]) -> Result<(String, Vec<usize>), OverrideError> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| OverrideError {
            given: overrides
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
            problem: format!("the config itself does not parse: {}", e.message()),
        })?;
    for o in overrides {
        // A key a [[grid]] sets keeps the grid's values in those runs: the override would be
        // silently half-applied.
        if let Some(grids) = doc.get("grid").and_then(Item::as_array_of_tables) {
            if grids.iter().any(|g| grid_sets(g, o)) {
                return Err(OverrideError {
                    given: o.to_string(),
                    problem: format!(
                        "a [[grid]] of this config sets {} too, so the override would not reach \
                         its runs: edit the config, or override a key no [[grid]] sets",
                        o.key
                    ),
                });
            }
        }
        let section = doc
            .entry(&o.section)
            .or_insert_with(|| Item::Table(Table::new()));
        let Some(table) = section.as_table_mut() else {
            return Err(OverrideError {
                given: o.to_string(),
                problem: format!("`{}` is not a section in this config", o.section),
            });
        };
        table.insert(&o.key, Item::Value(o.toml()));
    }
    let edited = doc.to_string();
    let lines = overrides
        .iter()
        .map(|o| line_of_key(&edited, &o.section, &o.key).unwrap_or(0))
        .collect();
    Ok((edited, lines))
}

/// Whether a `[[grid]]` table sets the parameter the override sets. A grid names most
/// parameters by their key alone; a key two sections share is the split's when written alone
/// (`random_state`) and the model's inside `model = { ... }`.
fn grid_sets(grid: &Table, o: &Override) -> bool {
    let nested = grid
        .get(&o.section)
        .and_then(|item| match item {
            Item::Table(t) => Some(t.contains_key(&o.key)),
            Item::Value(Value::InlineTable(t)) => Some(t.contains_key(&o.key)),
            _ => None,
        })
        .unwrap_or(false);
    let shared = SHARED_KEYS.contains(&o.key.as_str());
    let plain = grid.contains_key(&o.key) && (!shared || o.section == "split");
    nested || plain
}

/// Keys that more than one section has: written alone in a `[[grid]]`, the split's.
const SHARED_KEYS: [&str; 1] = ["random_state"];

/// The line of `key = ...` inside `[section]` of `text`.
fn line_of_key(text: &str, section: &str, key: &str) -> Option<usize> {
    let header = format!("[{section}]");
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == header;
            continue;
        }
        if inside {
            if let Some((k, _)) = t.split_once('=') {
                if k.trim() == key {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

/// The most characters the readable part of an override folder's name takes.
const READABLE_CHARS: usize = 60;

/// The suffix of the folder the overrides' results go to: what was overridden, readable, and a
/// digest that keeps two sets of overrides apart however they read: `C_0.5_1.5_4.5+1a2b3c` for
/// `model.C=0.5,1.5,4.5`. Only letters, digits, `-`, `.` and `_`, each run of anything else one
/// `_`; keys without their section; long values cut.
pub fn folder_suffix(overrides: &[Override]) -> String {
    let mut readable = String::new();
    for o in overrides {
        let text = format!("{}_{}", o.key, o.value);
        if !readable.is_empty() {
            readable.push('+');
        }
        let mut last_was_gap = false;
        for c in text.chars() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                readable.push(c);
                last_was_gap = false;
            } else if !last_was_gap {
                readable.push('_');
                last_was_gap = true;
            }
        }
        while readable.ends_with('_') {
            readable.pop();
        }
    }
    let readable: String = readable.chars().take(READABLE_CHARS).collect();
    format!(
        "{}+{}",
        readable.trim_end_matches(['_', '+']),
        digest(overrides)
    )
}

/// A short digest of the overrides (see [`folder_suffix`]).
pub fn digest(overrides: &[Override]) -> String {
    use sha2::{Digest, Sha256};
    let text: Vec<String> = overrides.iter().map(ToString::to_string).collect();
    let hash = Sha256::digest(text.join("\n").as_bytes());
    hash.iter().take(3).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(s: &str) -> Override {
        s.parse().unwrap()
    }

    #[test]
    fn values_are_toml_lists_or_words() {
        let toml = |s: &str| o(s).toml().to_string().replace(' ', "");
        assert_eq!(toml("model.C=0.1,1,10"), "[0.1,1,10]");
        assert_eq!(toml("model.C=0.5"), "0.5");
        assert_eq!(toml("preprocessing.scaler=unit"), "\"unit\"");
        assert_eq!(toml("model.dtype=f32,f64"), "[\"f32\",\"f64\"]");
        assert_eq!(toml("model.C=[1,2]"), "[1,2]");
        assert_eq!(
            toml("model.C={ logspace = [-4, 2], num = 7 }"),
            "{logspace=[-4,2],num=7}"
        );
    }

    #[test]
    fn overrides_edit_the_text_and_keep_the_rest() {
        let text = "# comment\nname = \"x\"\n[model]\nC = 1 # inverse\nmax_iter = 100\n";
        let (edited, lines) =
            apply(text, &[o("model.C=0.1,1"), o("split.train_size=0.5")]).unwrap();
        assert!(
            edited.starts_with("# comment\nname = \"x\"\n[model]\n"),
            "{edited}"
        );
        assert!(edited.contains("max_iter = 100"), "{edited}");
        assert_eq!(lines[0], 4, "{edited}");
        assert!(edited.contains("[split]\ntrain_size = 0.5"), "{edited}");
        assert!(lines[1] > 5);
    }

    #[test]
    fn keys_a_grid_sets_are_refused() {
        let text = "[model]\nC = 1\n[[grid]]\nC = [0.1, 1]\n";
        let e = apply(text, &[o("model.C=5")]).unwrap_err().to_string();
        assert!(e.contains("a [[grid]] of this config sets C too"), "{e}");
        assert!(apply(text, &[o("model.max_iter=5")]).is_ok());
    }

    /// `random_state` alone in a [[grid]] is the split's seed, `model = { random_state = ... }`
    /// the model's: an override of one is refused only where the grid sets that one.
    #[test]
    fn a_shared_key_is_matched_by_its_section() {
        let split_grid = "[model]\nsolver = \"sag\"\n[[grid]]\nrandom_state = [0, 1]\n";
        let model_grid = "[model]\nsolver = \"sag\"\n[[grid]]\nmodel = { random_state = [0, 1] }\n";
        assert!(apply(split_grid, &[o("model.random_state=3")]).is_ok());
        assert!(apply(split_grid, &[o("split.random_state=3")]).is_err());
        assert!(apply(model_grid, &[o("model.random_state=3")]).is_err());
        assert!(apply(model_grid, &[o("split.random_state=3")]).is_ok());
    }

    #[test]
    fn malformed_overrides_say_how_to_write_one() {
        for (given, says) in [
            ("C=1", "write SECTION.KEY=VALUE"),
            ("model.C", "write SECTION.KEY=VALUE"),
            ("modle.C=1", "unknown section `modle`: use one of split"),
            ("model.C=", "write SECTION.KEY=VALUE"),
        ] {
            let e = given.parse::<Override>().unwrap_err().to_string();
            assert!(e.contains(says), "{given}: {e}");
            assert!(e.starts_with(&format!("override {given:?}")), "{e}");
        }
        assert_ne!(digest(&[o("model.C=1")]), digest(&[o("model.C=2")]));
        let d = digest(&[o("model.C=0.5,1.5,4.5")]);
        assert_eq!(
            folder_suffix(&[o("model.C=0.5,1.5,4.5")]),
            format!("C_0.5_1.5_4.5+{d}")
        );
        let two = [
            o("model.C={ logspace = [-4, 2], num = 7 }"),
            o("preprocessing.scaler=unit"),
        ];
        assert_eq!(
            folder_suffix(&two),
            format!("C_logspace_-4_2_num_7+scaler_unit+{}", digest(&two))
        );
        let long = [o(&format!("model.C={}", vec!["0.125"; 40].join(",")))];
        assert!(folder_suffix(&long).len() <= READABLE_CHARS + 7);
    }
}
