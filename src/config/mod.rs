//! Experiment configs: TOML in, a validated list of runs out.
//!
//! A config names the experiment, the data, base parameters in `[split]`, `[preprocessing]` and
//! `[model]`, and optional `[[grid]]` sub-grids. Every parameter takes a scalar or a list. Each
//! sub-grid overrides the base parameters it names and expands to their Cartesian product; the
//! runs are the union of all sub-grids (like scikit-learn's list-of-dicts `param_grid`), each
//! identified by a `run_id` hashed from its resolved parameters. Every check happens here, so the
//! rest of the pipeline can trust a [`Config`].
//!
//! Modules: [`params`] (the table of run parameters, run ids), `grid` (expansion), `raw` (the
//! TOML as written), `sections` (`[data]`, `[output]`, `[selection]`, `[published]`); this file
//! puts them together.
//!
//! May touch: `folder` (results files and inputs through one handle), `error`, `model`,
//! `preprocessing` and `split` (parameter types and rules), `digits`, `named`, `stats` (grouping),
//! `text`.

mod grid;
pub mod overrides;
pub mod params;
mod raw;
mod sections;
mod value;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use grid::{resolve, Axes, Unresolved};
pub use overrides::{Override, OverrideError};

/// Whether `text` has the form of a run id: 12 lowercase hex digits (see
/// [`RunParams::run_id`]).
pub fn is_run_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
pub use params::{
    setting_label, summary_params, varying_params, Param, ParamValue, Run, RunParams, Section,
    Summary, PARAMS, REPEATS,
};
use raw::{check_grid_key, check_section_key, hint, line_of, RawConfig};
use sections::{check_name, parse_data, parse_margin, parse_run_charts, parse_selection};
pub use sections::{
    DataConfig, OutputConfig, Published, PublishedReport, RunCharts, Scoring, Selection,
    SelectionRule,
};

/// A validated experiment config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The config text as given (recorded in the manifest).
    pub source: String,
    /// The experiment's name: results go to `<out>/<name>/`.
    pub name: String,
    /// Whether `name` was set in the config (otherwise it is the file's name).
    pub named: bool,
    pub data: DataConfig,
    pub output: OutputConfig,
    /// The published result this config reproduces, if any (for the parity report).
    pub published: Option<Published>,
    /// How runs on the same split are chosen between (`[selection]`), if at all.
    pub selection: Option<Selection>,
    /// How `[selection]` chooses among the scored settings.
    pub selection_rule: SelectionRule,
    /// The run the base sections describe (every base value a single value), if it is in the
    /// grid: what the other runs on its split are compared with when nothing is selected.
    pub base_run: Option<String>,
    /// The expanded grid: every distinct run, in config order.
    pub runs: Vec<Run>,
}

impl Config {
    /// The runs grouped by split (same training and test images), in config order: the groups
    /// a `[selection]` chooses within.
    pub fn split_groups(&self) -> Vec<Vec<&Run>> {
        crate::stats::group_in_order(&self.runs, |run| run.params.split)
    }

    /// Whether `run` gets cross-validation scores: a `[selection]` is set and the run shares its
    /// split with another run (a group of one has nothing to choose between).
    pub fn cross_validates(&self, run: &Run) -> Option<&Selection> {
        let selection = self.selection.as_ref()?;
        let others = self
            .runs
            .iter()
            .filter(|r| r.params.split == run.params.split)
            .count();
        (others > 1).then_some(selection)
    }
}

/// Builds the config's errors: the file, the line of a span, the message.
struct Messages<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Messages<'_> {
    fn error(&self, line: Option<usize>, message: impl Into<String>) -> Error {
        Error::Config {
            file: self.path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    fn line(&self, span: std::ops::Range<usize>) -> Option<usize> {
        Some(line_of(self.text, span.start))
    }
}

/// The largest config file read (the committed ones are under 10 KB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config> {
        let bytes =
            crate::folder::read_input(path, MAX_CONFIG_BYTES).map_err(|e| Error::Config {
                file: path.to_path_buf(),
                line: None,
                message: match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        "no such config file: check the path (the examples are in experiments/)"
                            .into()
                    }
                    _ => format!("cannot read the config: {e}"),
                },
            })?;
        let text = String::from_utf8(bytes).map_err(|_| Error::Config {
            file: path.to_path_buf(),
            line: None,
            message: "not UTF-8 text: a config is a TOML file (the examples are in experiments/)"
                .into(),
        })?;
        Config::parse(path, &text)
    }

    /// Reads a config and applies command-line overrides ([`Override`]): the values are checked
    /// like the file's, a mistake is reported with the override, and the results go to
    /// `<name>+<what was overridden>+<digest of the overrides>` so that they never mix with the file's own grid.
    pub fn load_with(path: &Path, overrides: &[Override]) -> Result<Config> {
        if overrides.is_empty() {
            return Config::load(path);
        }
        let config = Config::load(path)?;
        let error = |line: Option<usize>, message: String| Error::Config {
            file: path.to_path_buf(),
            line,
            message,
        };
        let (edited, lines) =
            overrides::apply(&config.source, overrides).map_err(|e| error(None, e.to_string()))?;
        let mut config = Config::parse(path, &edited).map_err(|e| match e {
            Error::Config {
                line: Some(line),
                message,
                ..
            } => match lines.iter().position(|&l| l == line) {
                Some(i) => error(
                    None,
                    format!("override {:?}: {message}", overrides[i].to_string()),
                ),
                None => error(None, format!("with the overrides: {message}")),
            },
            other => other,
        })?;
        config.name = format!("{}+{}", config.name, overrides::folder_suffix(overrides));
        Ok(config)
    }

    /// Validates config text; `path` is used in messages and for the default name.
    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let m = Messages { path, text };
        let at = |span: std::ops::Range<usize>| m.line(span);
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().and_then(at);
            let written = line
                .and_then(|l| text.lines().nth(l - 1))
                .unwrap_or_default();
            m.error(line, hint(e.message(), written))
        })?;
        let name = experiment_name(&raw, &m)?;
        let data = parse_data(&raw.data, &at).map_err(|(line, msg)| m.error(line, msg))?;

        let base = base_axes(&raw, &m)?;
        let mut grids = grid_axes(&raw, &base, &m)?;
        if let Some((n, line)) = split_repeats(&raw, &m)? {
            for (axes, grid_line) in &mut grids {
                axes.repeat_splits(n)
                    .map_err(|msg| m.error(grid_line.or(Some(line)), msg))?;
            }
        }
        let runs = expand(&grids, &data, &m)?;
        let base_run = base_run(&base, &data, &runs);

        let (selection, selection_rule) = match &raw.selection {
            None => (None, SelectionRule::Best),
            Some(sel) => {
                let (selection, rule) =
                    parse_selection(sel, &at).map_err(|(line, msg)| m.error(line, msg))?;
                (Some(selection), rule)
            }
        };
        let run_charts = match &raw.output.run_charts {
            None => RunCharts::default(),
            Some(value) => {
                parse_run_charts(value.get_ref()).map_err(|msg| m.error(at(value.span()), msg))?
            }
        };
        if let RunCharts::Ids(ids) = &run_charts {
            if let Some(unknown) = ids.iter().find(|id| !runs.iter().any(|r| &r.id == *id)) {
                let span = raw.output.run_charts.as_ref().map(|v| v.span());
                return Err(m.error(
                    span.and_then(at),
                    format!(
                        "[output] run_charts names run {unknown:?}, which is not in this config's grid: list the ids with `sweep --dry-run`"
                    ),
                ));
            }
        }

        let equivalence_margin = match &raw.output.equivalence_margin_pp {
            None => OutputConfig::default().equivalence_margin,
            Some(value) => {
                parse_margin(value.get_ref()).map_err(|msg| m.error(at(value.span()), msg))?
            }
        };

        if raw.output.animation && !raw.output.predictions {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("animation"))
                .map(|i| i + 1);
            return Err(m.error(
                line,
                "[output] animation = true draws from the runs' predictions.csv: add predictions = true to [output]".to_string(),
            ));
        }

        if let Some(published) = &raw.published {
            published.check().map_err(|msg| {
                let line = text
                    .lines()
                    .position(|l| l.trim() == "[published]")
                    .map(|i| i + 1);
                m.error(line, format!("[published] {msg}"))
            })?;
        }

        Ok(Config {
            path: path.to_path_buf(),
            source: text.to_string(),
            name,
            named: raw.name.is_some(),
            data,
            output: OutputConfig {
                predictions: raw.output.predictions,
                run_charts,
                equivalence_margin,
                animation: raw.output.animation,
            },
            published: raw.published,
            selection,
            selection_rule,
            base_run,
            runs,
        })
    }
}

/// The `name` key, else the file's name; either must make a folder name.
fn experiment_name(raw: &RawConfig, m: &Messages) -> Result<String> {
    match &raw.name {
        Some(name) => check_name(name.get_ref()).map_err(|why| {
            m.error(
                m.line(name.span()),
                format!("name = {:?}: {why}", name.get_ref()),
            )
        }),
        None => {
            let stem = m
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            check_name(&stem).map_err(|why| {
                m.error(
                    None,
                    format!(
                        "the results folder is named after the file, and {stem:?} cannot be: {why}; set name = \"...\" in the config or rename the file"
                    ),
                )
            })
        }
    }
}

/// The most splits `repeats` may ask for.
const MAX_REPEATS: i64 = 1000;

/// `[split] repeats = N`: how many splits each setting is fitted on (seeds random_state,
/// random_state + 1, ...), with its line; none when absent.
fn split_repeats(raw: &RawConfig, m: &Messages) -> Result<Option<(u32, usize)>> {
    let Some((_, value)) = raw.split.iter().find(|(k, _)| k.get_ref() == REPEATS) else {
        return Ok(None);
    };
    let line = m.line(value.span()).unwrap_or(1);
    match value.get_ref() {
        toml::Value::Integer(n) if (1..=MAX_REPEATS).contains(n) => Ok(Some((*n as u32, line))),
        other => Err(m.error(
            Some(line),
            format!(
                "[split] repeats = {other}: expected a whole number of splits from 1 to {MAX_REPEATS} (each setting is fitted on random_state, random_state + 1, ...)"
            ),
        )),
    }
}

/// The base values: defaults, overridden by `[split]`, `[preprocessing]` and `[model]`.
fn base_axes(raw: &RawConfig, m: &Messages) -> Result<Axes> {
    let mut base = Axes::default();
    for (section, table) in raw.sections() {
        for (key, value) in table {
            if section.settings().contains(&key.get_ref().as_str()) {
                continue;
            }
            let param = check_section_key(section, key.get_ref())
                .map_err(|msg| m.error(m.line(key.span()), msg))?;
            base.set(param.name, value.get_ref())
                .map_err(|msg| m.error(m.line(value.span()), msg))?;
        }
    }
    Ok(base)
}

/// Each `[[grid]]` as the base values with its own overrides, and the line it starts on; the base
/// alone without one.
fn grid_axes(raw: &RawConfig, base: &Axes, m: &Messages) -> Result<Vec<(Axes, Option<usize>)>> {
    let mut grids = Vec::new();
    for (number, table) in raw.grid.iter().enumerate() {
        if table.is_empty() {
            return Err(m.error(
                None,
                format!(
                    "[[grid]] number {} is empty: give it at least one parameter to vary, or remove it",
                    number + 1
                ),
            ));
        }
        let first_line = table.keys().map(|k| line_of(m.text, k.span().start)).min();
        let mut axes = base.clone();
        for (key, value) in table {
            let key_line = m.line(key.span());
            let value_line = m.line(value.span());
            // `model.random_state = [...]` is TOML for a table `model` holding `random_state`.
            let qualified: Vec<(Option<&str>, &toml::Value)> = match value.get_ref() {
                toml::Value::Table(inner)
                    if Section::ALL.iter().any(|s| s.name() == key.get_ref()) =>
                {
                    inner.iter().map(|(k, v)| (Some(k.as_str()), v)).collect()
                }
                other => vec![(None, other)],
            };
            for (inner, value) in qualified {
                let param =
                    check_grid_key(key.get_ref(), inner).map_err(|msg| m.error(key_line, msg))?;
                axes.set(param.name, value)
                    .map_err(|msg| m.error(value_line, msg))?;
            }
        }
        grids.push((axes, first_line));
    }
    if grids.is_empty() {
        grids.push((base.clone(), None));
    }
    Ok(grids)
}

/// The most runs a config may expand to: at a second per fit (a small subsample) that is hours
/// of fitting, and each run keeps a record; larger grids are refused before anything is
/// expanded, so that even `--dry-run` answers at once.
pub const MAX_RUNS: usize = 10_000;

/// Every distinct run of the grids, in config order, each checked against the data and the
/// model's rules.
fn expand(grids: &[(Axes, Option<usize>)], data: &DataConfig, m: &Messages) -> Result<Vec<Run>> {
    let n = data.n_samples();
    let size = grids
        .iter()
        .fold(0u128, |total, (axes, _)| total.saturating_add(axes.size()));
    if size > MAX_RUNS as u128 {
        return Err(m.error(
            grids.first().and_then(|(_, line)| *line),
            format!(
                "the grid expands to {size} runs, more than the {MAX_RUNS} one config may hold: \
                 shorten its lists, or split the study into several configs"
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut runs = Vec::new();
    for (axes, line) in grids {
        for point in axes.product() {
            let params = resolve(point, n).map_err(|why| match why {
                Unresolved::NoSeed => m.error(
                    *line,
                    "random_state is not set: scikit-learn's default draws a different split every time; \
                     set random_state = 0 (any integer) in [split] for a reproducible one",
                ),
                Unresolved::Sizes(message) => m.error(*line, message),
            })?;
            params
                .model
                .check()
                .map_err(|e| m.error(*line, e.message))?;
            let id = params.run_id(data.subsample);
            if seen.insert(id.clone()) {
                runs.push(Run { id, params });
            }
        }
    }
    Ok(runs)
}

/// The run the base sections describe, when every base value is a single value and it is in the
/// grid.
fn base_run(base: &Axes, data: &DataConfig, runs: &[Run]) -> Option<String> {
    let [point] = base.product().try_into().ok()?;
    let params = resolve(point, data.n_samples()).ok()?;
    let id = params.run_id(data.subsample);
    runs.iter().any(|r| r.id == id).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelParams;
    use crate::preprocessing::Scaler;
    use crate::split::Size;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(Path::new("exp.toml"), text)
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    const NOTEBOOK: &str = r#"
name = "nb"
[split]
train_size = 0.8
random_state = 0
[model]
C = 1
max_iter = 100
"#;

    #[test]
    fn notebook_config_gives_one_run_with_scikit_learn_defaults() {
        let config = parse(NOTEBOOK).unwrap();
        assert_eq!(config.name, "nb");
        assert_eq!(config.runs.len(), 1);
        let p = &config.runs[0].params;
        assert_eq!(p.split.train_size, Some(Size::Fraction(0.8)));
        assert_eq!(p.split.test_size, None);
        assert!(p.split.shuffle);
        assert_eq!(p.scaler, Scaler::None);
        assert_eq!(p.model, ModelParams::default());
        assert_eq!(p.model.tol, 1e-4);
        assert_eq!(config.data.dir, PathBuf::from("data/mnist"));
    }

    #[test]
    fn selection_rule_and_equivalence_margin_are_read_and_checked() {
        let config = parse(NOTEBOOK).unwrap();
        assert_eq!(config.selection_rule, SelectionRule::Best);
        assert!((config.output.equivalence_margin - 0.002).abs() < 1e-15);
        let text = format!(
            "{NOTEBOOK}[selection]\ncv = 5\nrule = \"one_se\"\n[output]\nequivalence_margin_pp = 0.5\n"
        );
        let config = parse(&text).unwrap();
        assert_eq!(config.selection_rule, SelectionRule::OneSe);
        assert!((config.output.equivalence_margin - 0.005).abs() < 1e-15);
        let e = error(&format!(
            "{NOTEBOOK}[selection]\ncv = 5\nrule = \"worst\"\n"
        ));
        assert!(
            e.contains("line 11: [selection] rule = \"worst\" is unknown: use best or one_se"),
            "{e}"
        );
        let e = error(&format!("{NOTEBOOK}[output]\nanimation = true\n"));
        assert!(
            e.contains("line 10: [output] animation = true draws from the runs' predictions.csv: add predictions = true"),
            "{e}"
        );
        let e = error(&format!("{NOTEBOOK}[output]\nequivalence_margin_pp = -1\n"));
        assert!(
            e.contains("line 10: [output] equivalence_margin_pp = -1: the margin must be above 0"),
            "{e}"
        );
        let e = error(&format!(
            "{NOTEBOOK}[output]\nequivalence_margin_pp = \"small\"\n"
        ));
        assert!(e.contains("write a number of percentage points"), "{e}");
    }

    #[test]
    fn sub_grids_are_products_and_their_union_is_deduplicated() {
        let text = format!(
            "{NOTEBOOK}\n[[grid]]\nmax_iter = [50, 100]\nC = [0.1, 1.0]\n[[grid]]\ntrain_size = [0.6, 0.8]\n"
        );
        let config = parse(&text).unwrap();
        // 4 from the first grid; the second adds 0.6 only (0.8 is the first grid's C=1, max_iter=100).
        assert_eq!(config.runs.len(), 5);
        let ids: HashSet<_> = config.runs.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), 5);
    }

    #[test]
    fn run_ids_are_stable_and_ignore_how_a_number_is_written() {
        let a = parse(NOTEBOOK).unwrap();
        let b = parse(&NOTEBOOK.replace("C = 1", "C = 1.0")).unwrap();
        assert_eq!(a.runs[0].id, b.runs[0].id);
        assert_eq!(a.runs[0].id.len(), 12);
        let c = parse(&NOTEBOOK.replace("C = 1", "C = 2")).unwrap();
        assert_ne!(a.runs[0].id, c.runs[0].id);
        let d = parse(&format!("{NOTEBOOK}\n[data]\nsubsample = 1000\n")).unwrap();
        assert_ne!(a.runs[0].id, d.runs[0].id);
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let e = error(&NOTEBOOK.replace("max_iter = 100", "max_iters = 100"));
        assert_eq!(e, "exp.toml line 8: unknown key `max_iters` in [model]: [model] takes multi_class, C, max_iter, tol, fit_intercept, dtype, solver, l1_ratio, random_state, learning_rate");
        let e = error(&NOTEBOOK.replace("C = 1", "scaler = \"unit\""));
        assert!(
            e.contains("line 7: unknown key `scaler` in [model]: it belongs in [preprocessing]"),
            "{e}"
        );
        let e = error("[modle]\nC = 1\n");
        assert!(
            e.starts_with("exp.toml line 1: unknown field `modle`"),
            "{e}"
        );
        let e = error(&format!("{NOTEBOOK}[[grid]]\nalpha = [1]\n"));
        assert!(
            e.contains("line 10: unknown key `alpha` in [[grid]]"),
            "{e}"
        );
    }

    /// Each `(from, to, expected)`: the notebook config with `from` replaced by `to` is refused
    /// with a message containing `expected`.
    fn refused_with(cases: &[(&str, &str, &str)]) {
        for (from, to, expected) in cases {
            let e = error(&NOTEBOOK.replace(from, to));
            assert!(e.contains(expected), "{to}: got {e}");
        }
    }

    #[test]
    fn bad_model_values_are_named_with_their_line_and_a_fix() {
        refused_with(&[
            (
                "C = 1",
                "C = 0",
                "line 7: C = 0: must be a positive number, or inf for no penalty",
            ),
            ("C = 1", "C = -1.5", "line 7: C = -1.5: must be a positive"),
            ("C = 1", "C = nan", "line 7: C = NaN: must be a positive"),
            ("C = 1", "C = -inf", "line 7: C = -inf: must be a positive"),
            (
                "C = 1",
                "l1_ratio = 0.5",
                "l1_ratio = 0.5 with solver = \"lbfgs\": an l1 part needs solver = \"saga\"",
            ),
            (
                "C = 1",
                "l1_ratio = 1.5",
                "line 7: l1_ratio = 1.5: must be from 0 (l2) to 1 (l1)",
            ),
            (
                "C = 1",
                "C = inf\nsolver = \"saga\"\nl1_ratio = 1",
                "l1_ratio = 1 with C = inf: there is no penalty to split",
            ),
            (
                "C = 1",
                "solver = \"sag\"\nmulti_class = \"ovr\"",
                "solver = \"sag\" with multi_class = \"ovr\": this engine's sag and saga fit the multinomial model only",
            ),
            (
                "C = 1",
                "solver = \"saga\"\ndtype = \"f32\"",
                "solver = \"saga\" with dtype = \"f32\": the harness runs sag and saga in f64 only",
            ),
            (
                "C = 1",
                "solver = \"newton-cg\"",
                "line 7: solver = \"newton-cg\": expected one of \"lbfgs\", \"sag\", \"saga\", \"gd\"",
            ),
            (
                "C = 1",
                "solver = \"gd\"",
                "solver = \"gd\" needs a learning_rate (gradient descent's fixed step",
            ),
            (
                "C = 1",
                "learning_rate = 0.5",
                "learning_rate = 0.5 with solver = \"lbfgs\": only gradient descent takes a learning rate",
            ),
            (
                "C = 1",
                "solver = \"gd\"\nlearning_rate = -1",
                "learning_rate = -1: must be a positive number",
            ),
            (
                "C = 1",
                "random_state = -1",
                "line 7: random_state = -1: expected an integer from 0",
            ),
            (
                "C = 1",
                "C = \"big\"",
                "line 7: C = \"big\": expected a number",
            ),
            (
                "max_iter = 100",
                "max_iter = 0",
                "line 8: max_iter = 0: must be a whole number",
            ),
            (
                "max_iter = 100",
                "max_iter = 2.5",
                "line 8: max_iter = 2.5: expected a whole number",
            ),
            (
                "C = 1",
                "tol = -1e-4",
                "line 7: tol = -0.0001: must be a finite number >= 0",
            ),
        ]);
    }

    #[test]
    fn bad_sizes_seeds_and_choices_are_named_with_their_line_and_a_fix() {
        refused_with(&[
            (
                "train_size = 0.8",
                "train_size = 1.5",
                "line 4: train_size = 1.5: expected a fraction",
            ),
            (
                "train_size = 0.8",
                "train_size = 0",
                "line 4: train_size = 0: expected a fraction",
            ),
            (
                "train_size = 0.8",
                "train_size = []",
                "line 4: train_size = []: an empty list",
            ),
            (
                "random_state = 0",
                "random_state = -1",
                "line 5: random_state = -1: expected an integer",
            ),
            (
                "C = 1",
                "multi_class = \"softmax\"",
                "line 7: multi_class = \"softmax\": expected one of \"multinomial\", \"ovr\"",
            ),
            (
                "C = 1",
                "dtype = \"f16\"",
                "line 7: dtype = \"f16\": expected one of \"f64\", \"f32\"",
            ),
        ]);
        let e =
            error(&NOTEBOOK.replace("[model]", "[preprocessing]\nscaler = \"zscore\"\n[model]"));
        assert!(e.contains("line 7: scaler = \"zscore\": expected one of \"none\", \"unit\", \"standard\", \"min_max\", \"max_abs\""), "{e}");
    }

    /// sag's seed defaults to the split's, lbfgs drops one (scikit-learn ignores it), a grid
    /// varies it as `model = { random_state = ... }`, and existing run ids keep their hash.
    #[test]
    fn solvers_seeds_and_penalties_resolve_as_scikit_learn_reads_them() {
        let lbfgs_id = parse(NOTEBOOK).unwrap().runs[0].id.clone();
        let with = |extra: &str| parse(&NOTEBOOK.replace("C = 1", &format!("C = 1\n{extra}")));
        // An explicit default keeps the id; lbfgs drops a seed it would not use.
        assert_eq!(
            with("solver = \"lbfgs\"\nl1_ratio = 0").unwrap().runs[0].id,
            lbfgs_id
        );
        let seeded = with("random_state = [1, 2]").unwrap();
        assert_eq!(seeded.runs.len(), 1);
        assert_eq!(seeded.runs[0].id, lbfgs_id);
        let sag = with("solver = \"sag\"").unwrap();
        assert_eq!(sag.runs[0].params.model.random_state, Some(0));
        assert_ne!(sag.runs[0].id, lbfgs_id);
        assert_eq!(
            sag.runs[0].params.describe(),
            "multinomial, C=1, max_iter=100, scaler=none, f64, solver=sag, model.random_state=0"
        );
        let grid = with(
            "solver = \"saga\"\n[[grid]]\nl1_ratio = [0.5, 1]\nmodel = { random_state = [3, 4] }",
        )
        .unwrap();
        let seeds: Vec<(f64, Option<u32>)> = grid
            .runs
            .iter()
            .map(|r| (r.params.model.l1_ratio, r.params.model.random_state))
            .collect();
        assert_eq!(
            seeds,
            [
                (0.5, Some(3)),
                (0.5, Some(4)),
                (1.0, Some(3)),
                (1.0, Some(4))
            ]
        );
        let e = with("solver = \"saga\"\n[[grid]]\nmodel.random_state = [3, 4]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("write it model = { random_state = [3, 4] }"),
            "{e}"
        );
        let e = with("[[grid]]\nmodel = { seed = 1 }")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown key `model.seed` in [[grid]]"), "{e}");
        // No penalty: C = inf, kept through JSON records as "inf".
        let free = with("C = inf").unwrap_err().to_string();
        assert!(free.contains("duplicate key"), "{free}");
        let free = parse(&NOTEBOOK.replace("C = 1", "C = inf")).unwrap();
        let params = &free.runs[0].params;
        assert!(params.model.c.is_infinite());
        let json = serde_json::to_string(params).unwrap();
        assert!(json.contains("\"C\":\"inf\""), "{json}");
        assert_eq!(&serde_json::from_str::<RunParams>(&json).unwrap(), params);
    }

    #[test]
    fn sizes_are_checked_against_the_data() {
        let e = error(&NOTEBOOK.replace("train_size = 0.8", "train_size = 0.8\ntest_size = 0.3"));
        assert!(e.contains("train_size + test_size = 1.1"), "{e}");
        let e = error(
            &format!("{NOTEBOOK}\n[data]\nsubsample = 100\n")
                .replace("train_size = 0.8", "train_size = 200"),
        );
        assert!(
            e.contains("train_size = 200 must be a count between 1 and 99"),
            "{e}"
        );
        let e = error(&format!("{NOTEBOOK}\n[data]\nsubsample = 80000\n"));
        assert!(
            e.contains("subsample = 80000: MNIST has 70000 images"),
            "{e}"
        );
    }

    #[test]
    fn syntax_errors_and_wrong_types_give_one_line_with_the_line_number() {
        let e = error("name = \"x\"\n[model\nC = 1\n");
        assert!(e.starts_with("exp.toml line 2: "), "{e}");
        assert!(!e.contains('\n'));
        let e = error("[data]\nsubsample = \"all\"\n");
        assert!(
            e.starts_with("exp.toml line 2: subsample = \"all\": expected a whole number"),
            "{e}"
        );
        let e = error("[data]\nsubsample = 1000.0\n");
        assert!(
            e.contains("subsample = 1000.0: expected a whole number, written without"),
            "{e}"
        );
        let e = error("[grid]\nC = [1.0]\n");
        assert!(e.contains("[grid] is written [[grid]]"), "{e}");
        let e = error("[model]\nmax_iter = 99999999999999999999\n");
        assert!(
            e.contains("max_iter = 99999999999999999999: too large"),
            "{e}"
        );
    }

    #[test]
    fn repeats_fits_every_setting_on_consecutive_split_seeds() {
        let config = parse(
            "[split]\ntrain_size = 0.8\nrandom_state = 7\nrepeats = 3\n[[grid]]\nC = [0.1, 1.0]\n",
        )
        .unwrap();
        let seeds: Vec<(u32, f64)> = config
            .runs
            .iter()
            .map(|r| (r.params.split.random_state, r.params.model.c))
            .collect();
        assert_eq!(seeds.len(), 6);
        for s in [7, 8, 9] {
            assert!(
                seeds.contains(&(s, 0.1)) && seeds.contains(&(s, 1.0)),
                "{seeds:?}"
            );
        }
        // The same runs as the seeds written out: the same ids.
        let listed = parse(
            "[split]\ntrain_size = 0.8\nrandom_state = [7, 8, 9]\n[[grid]]\nC = [0.1, 1.0]\n",
        )
        .unwrap();
        let ids = |c: &Config| {
            let mut ids: Vec<String> = c.runs.iter().map(|r| r.id.clone()).collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&config), ids(&listed));
        for (text, message) in [
            ("random_state = 0\nrepeats = 0", "line 3: [split] repeats = 0: expected a whole number of splits from 1 to 1000"),
            ("random_state = 0\nrepeats = \"ten\"", "repeats = \"ten\": expected a whole number"),
            ("random_state = [0, 1]\nrepeats = 3", "give random_state one value (the first split's seed)"),
            ("shuffle = false\nrepeats = 3", "repeats = 3 needs the first split's seed"),
            ("random_state = 4294967295\nrepeats = 2", "runs past the largest seed"),
            ("random_state = 0\nrepeat = 2", "unknown key `repeat` in [split]: [split] takes train_size, test_size, random_state, shuffle, repeats"),
        ] {
            let e = error(&format!("[split]\n{text}\n"));
            assert!(e.contains(message), "{text}: {e}");
            assert!(!e.contains('\n'));
        }
    }

    #[test]
    fn a_missing_random_state_or_empty_grid_is_an_error() {
        let e = error("[split]\ntrain_size = 0.8\n");
        assert!(e.contains("random_state is not set"), "{e}");
        assert!(parse("[split]\ntrain_size = 0.8\nshuffle = false\n").is_ok());
        let e = error(&format!("{NOTEBOOK}[[grid]]\n"));
        assert!(e.contains("[[grid]] number 1 is empty"), "{e}");
    }

    #[test]
    fn a_missing_config_file_says_where_the_examples_are() {
        let e = Config::load(Path::new("experiments/nope.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "experiments/nope.toml: no such config file: check the path (the examples are in experiments/)");
    }

    /// `[published]` holds what a notebook could have printed.
    #[test]
    fn published_numbers_must_be_printable() {
        let base = "[split]\nrandom_state = 0\n[published]\n";
        let e = error(&format!("{base}accuracy = 1.7\n"));
        assert!(
            e.contains("[published] accuracy = 1.7: a proportion from 0 to 1"),
            "{e}"
        );
        let e = error(&format!("{base}confusion = [[1, 2], [3]]\n"));
        assert!(e.contains("confusion has 2 rows of [2, 1] cells"), "{e}");
        assert!(e.starts_with("exp.toml line 3: "), "{e}");
        assert!(parse(&format!("{base}accuracy = 0.9172\n")).is_ok());
    }
}
