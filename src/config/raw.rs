//! The config file as TOML gives it: sections with their spans (for line numbers in messages),
//! before any value is checked, and the hints that turn serde's messages into fixes.
//!
//! May touch: `config::{params, sections}`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::{Spanned, Value};

use super::params::{Param, Section, PARAMS};
use super::sections::{Published, RawData, RawSelection};

pub(super) type Table = BTreeMap<Spanned<String>, Spanned<Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) name: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) data: RawData,
    #[serde(default)]
    pub(super) output: RawOutput,
    #[serde(default)]
    pub(super) split: Table,
    #[serde(default)]
    pub(super) preprocessing: Table,
    #[serde(default)]
    pub(super) model: Table,
    #[serde(default)]
    pub(super) grid: Vec<Table>,
    pub(super) published: Option<Published>,
    pub(super) selection: Option<RawSelection>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    #[serde(default)]
    pub(super) predictions: bool,
    pub(super) run_charts: Option<Spanned<Value>>,
    pub(super) equivalence_margin_pp: Option<Spanned<Value>>,
    #[serde(default)]
    pub(super) animation: bool,
}

/// 1-based line number of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

impl RawConfig {
    /// The parameter sections as written, each with its table.
    pub(super) fn sections(&self) -> [(Section, &Table); 3] {
        [
            (Section::Split, &self.split),
            (Section::Preprocessing, &self.preprocessing),
            (Section::Model, &self.model),
        ]
    }
}

/// serde's message for a config TOML cannot read, on one line, with a fix where one is known: a
/// parameter at the top level belongs in its section; an unknown section lists the real ones.
/// serde's and toml's messages name no key; `written` is the config line the error is on.
pub(super) fn hint(message: &str, written: &str) -> String {
    let message = message.trim().replace('\n', " ");
    let written = written.split('#').next().unwrap_or_default().trim();
    if written.starts_with("[grid]") {
        return "[grid] is written [[grid]] (double brackets): each [[grid]] is one sub-grid"
            .into();
    }
    if let Some((key, value)) = written.split_once('=') {
        let (key, value) = (key.trim(), value.trim());
        // toml 0.8 cannot give a dotted key's span (`model.random_state = 3`).
        if let Some((section, inner)) = key.split_once('.') {
            return format!(
                "{key} = {value}: write it {section} = {{ {inner} = {value} }} (a dotted key cannot be read here)"
            );
        }
        let integer = [
            "expected i64",
            "expected u64",
            "expected usize",
            "expected u32",
        ];
        let what = if integer.iter().any(|t| message.contains(t)) {
            Some(if value.parse::<f64>().is_ok() {
                "expected a whole number, written without a decimal point (1000, not 1000.0)"
                    .to_string()
            } else {
                "expected a whole number".to_string()
            })
        } else if message.contains("too large to fit") || message.contains("out of range") {
            Some("too large a number for this key".to_string())
        } else if message.starts_with("invalid type") {
            Some(message.replace("invalid type: ", "wrong type: "))
        } else {
            None
        };
        if let Some(what) = what {
            return format!("{key} = {value}: {what}");
        }
    }
    let field = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_default();
    if let Some(param) = PARAMS.iter().find(|p| p.key() == field) {
        format!("{message}; `{field}` belongs in [{}]", param.section.name())
    } else if message.starts_with("unknown field") && message.contains("`grid`") {
        format!(
            "{message}; the sections are [data], [output], [split], [preprocessing], [model], [[grid]], [selection] and [published]"
        )
    } else {
        message
    }
}

/// The parameter `key`, written in `[section]`; the message says where it belongs otherwise.
pub(super) fn check_section_key(section: Section, key: &str) -> Result<&'static Param, String> {
    if let Some(p) = Param::in_section(section, key) {
        return Ok(p);
    }
    match PARAMS.iter().find(|p| p.key() == key) {
        Some(p) => Err(format!(
            "unknown key `{key}` in [{}]: it belongs in [{}]",
            section.name(),
            p.section.name()
        )),
        None => Err(format!(
            "unknown key `{key}` in [{0}]: [{0}] takes {1}",
            section.name(),
            section.keys().join(", ")
        )),
    }
}

/// The parameter a `[[grid]]` key names: its name, or a section's key written `section.key`
/// (which TOML reads as a table `section` holding `key`; `inner` is that key).
pub(super) fn check_grid_key(key: &str, inner: Option<&str>) -> Result<&'static Param, String> {
    let found = match inner {
        None => Param::named(key),
        Some(inner) => Section::ALL
            .iter()
            .find(|s| s.name() == key)
            .and_then(|&s| Param::in_section(s, inner)),
    };
    let written = inner.map_or_else(|| key.to_string(), |inner| format!("{key}.{inner}"));
    found.ok_or_else(|| {
        let all: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
        format!(
            "unknown key `{written}` in [[grid]]: a grid varies {}",
            all.join(", ")
        )
    })
}
