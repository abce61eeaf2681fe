//! The table of run parameters: every parameter a config can set or a grid can vary, stated once
//! with its section, how a TOML value becomes its value, where it lives in [`RunParams`], and how
//! it is shown. Grid expansion, run ids, `--dry-run`, the CSV columns, chart legends, one-line
//! descriptions and the scikit-learn reference (`sweep --plan`) all read [`PARAMS`].
//!
//! Adding a parameter: add its field to the type that uses it (`ModelParams`, `SplitSpec`, ...),
//! one entry here, and its place in [`GRID_ORDER`]; leave `ID_ORDER` alone, so that it enters
//! run ids only where it differs from its default and every existing run id stays valid.
//!
//! May touch: `model`, `preprocessing`, `split` (their parameter types and rules).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Value as Toml;

pub use super::value::ParamValue;
use super::value::{choice, flag, number, seed, size, whole, ValueResult};

use crate::model::{Dtype, ModelParams, MultiClass, Solver};
use crate::preprocessing::Scaler;
use crate::split::SplitSpec;

/// All parameters of one run, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunParams {
    pub split: SplitSpec,
    pub scaler: Scaler,
    pub model: ModelParams,
}

impl RunParams {
    /// These parameters with the split's seed blanked: the same for every run of one setting
    /// fitted on several splits (`[split] repeats`, or a list of `random_state` values).
    pub fn setting_across_splits(&self) -> RunParams {
        let mut p = self.clone();
        p.split.random_state = 0;
        p
    }

    /// The engine that fits a run with these parameters ([`crate::model::engine_for`]): a
    /// record written by another is refitted.
    pub fn engine(&self) -> &'static str {
        crate::model::engine_for(&self.model, self.scaler.has_offsets())
    }
}

/// One point of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Stable identifier: a hash of the resolved parameters and the data subsample.
    pub id: String,
    pub params: RunParams,
}

/// The config section a parameter is written in (a `[[grid]]` may vary any of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Split,
    Preprocessing,
    Model,
}

impl Section {
    /// Every section, in the order a config usually lists them.
    pub const ALL: [Section; 3] = [Section::Split, Section::Preprocessing, Section::Model];

    /// The section's name in a config (`[split]`).
    pub fn name(self) -> &'static str {
        match self {
            Section::Split => "split",
            Section::Preprocessing => "preprocessing",
            Section::Model => "model",
        }
    }

    /// The keys of this section that say how the grid is built rather than set a run's
    /// parameter ([`REPEATS`] in `[split]`).
    pub fn settings(self) -> &'static [&'static str] {
        match self {
            Section::Split => &[REPEATS],
            Section::Preprocessing | Section::Model => &[],
        }
    }

    /// Every key this section takes: its parameters in table order, then its settings.
    pub fn keys(self) -> Vec<&'static str> {
        PARAMS
            .iter()
            .filter(|p| p.section == self)
            .map(|p| p.key())
            .chain(self.settings().iter().copied())
            .collect()
    }
}

/// `[split] repeats = N`: every setting is fitted on N splits, seeds random_state,
/// random_state + 1, ... (`Axes::repeat_splits`).
pub const REPEATS: &str = "repeats";

/// How a parameter appears in a run's one-line description and in the READMEs' run tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// The value alone (`multinomial`).
    Value,
    /// `name=value` (`C=1`).
    Named,
    /// Not shown (charts' legends and the CSV still show it).
    Hidden,
    /// `name=value` where it is not at its default (a setting most configs leave alone, such as
    /// the solver): in a run table where any run sets it, in a description where this run does.
    Set,
}

/// One run parameter.
pub struct Param {
    /// Its name in CSV headers, legends and `[[grid]]`s (scikit-learn's where it has one); a
    /// name that another section also uses is qualified by its section (`model.random_state`).
    pub name: &'static str,
    pub section: Section,
    /// How it appears in one-line descriptions and run tables.
    pub summary: Summary,
    /// Whether a chart's subtitle names it when every line shares it (off for settings nobody
    /// reads a chart for).
    pub in_subtitle: bool,
    /// The value a config that does not set it gets.
    pub default: fn() -> ParamValue,
    /// Reads one TOML value (one element of a list), checking the rule of the type that owns it.
    read: fn(&Toml) -> ValueResult<ParamValue>,
    /// Where it lives in a run's parameters.
    get: fn(&RunParams) -> ParamValue,
    set: fn(&mut RunParams, ParamValue),
}

impl Param {
    /// This parameter's value in `params`.
    pub fn get(&self, params: &RunParams) -> ParamValue {
        (self.get)(params)
    }

    /// Reads one TOML value for this parameter; the message names the key and the value.
    pub(super) fn read(&self, value: &Toml) -> ValueResult<ParamValue> {
        (self.read)(value)
    }

    /// The parameter of this name.
    pub fn named(name: &str) -> Option<&'static Param> {
        PARAMS.iter().find(|p| p.name == name)
    }

    /// Its key in its section: the name without a section qualifier.
    pub fn key(&self) -> &'static str {
        self.name.rsplit('.').next().unwrap_or(self.name)
    }

    /// The parameter written as `key` in `section`.
    pub fn in_section(section: Section, key: &str) -> Option<&'static Param> {
        PARAMS
            .iter()
            .find(|p| p.section == section && p.key() == key)
    }

    /// Whether a chart's subtitle names this parameter when every line has `value` (a [`Summary::Set`]
    /// parameter only where it is not at its default).
    pub fn in_subtitle_at(&self, value: ParamValue) -> bool {
        self.in_subtitle && (self.summary != Summary::Set || value != (self.default)())
    }
}

/// Every run parameter, in the order of the CSV columns, legends and descriptions.
pub const PARAMS: &[Param] = &[
    Param {
        name: "multi_class",
        section: Section::Model,
        summary: Summary::Value,
        in_subtitle: true,
        default: || ParamValue::Name(ModelParams::default().multi_class.as_str()),
        read: |v| choice::<MultiClass>("multi_class", v),
        get: |p| ParamValue::Name(p.model.multi_class.as_str()),
        set: |p, v| p.model.multi_class = v.named(),
    },
    Param {
        name: "C",
        section: Section::Model,
        summary: Summary::Named,
        in_subtitle: true,
        default: || ParamValue::Number(ModelParams::default().c),
        read: |v| {
            let c = number("C", v)?;
            ModelParams::check_c(c).map_err(|e| e.message)?;
            Ok(ParamValue::Number(c))
        },
        get: |p| ParamValue::Number(p.model.c),
        set: |p, v| p.model.c = v.number(),
    },
    Param {
        name: "max_iter",
        section: Section::Model,
        summary: Summary::Named,
        in_subtitle: true,
        default: || ParamValue::Count(ModelParams::default().max_iter),
        read: |v| {
            let n = whole("max_iter", v)?;
            Ok(ParamValue::Count(
                ModelParams::check_max_iter(n).map_err(|e| e.message)?,
            ))
        },
        get: |p| ParamValue::Count(p.model.max_iter),
        set: |p, v| p.model.max_iter = v.count(),
    },
    Param {
        name: "tol",
        section: Section::Model,
        summary: Summary::Hidden,
        in_subtitle: false,
        default: || ParamValue::Number(ModelParams::default().tol),
        read: |v| {
            let tol = number("tol", v)?;
            ModelParams::check_tol(tol).map_err(|e| e.message)?;
            Ok(ParamValue::Number(tol))
        },
        get: |p| ParamValue::Number(p.model.tol),
        set: |p, v| p.model.tol = v.number(),
    },
    Param {
        name: "fit_intercept",
        section: Section::Model,
        summary: Summary::Set,
        in_subtitle: false,
        default: || ParamValue::Flag(ModelParams::default().fit_intercept),
        read: |v| flag("fit_intercept", v),
        get: |p| ParamValue::Flag(p.model.fit_intercept),
        set: |p, v| p.model.fit_intercept = v.flag(),
    },
    Param {
        name: "scaler",
        section: Section::Preprocessing,
        summary: Summary::Named,
        in_subtitle: true,
        default: || ParamValue::Name(Scaler::None.as_str()),
        read: |v| choice::<Scaler>("scaler", v),
        get: |p| ParamValue::Name(p.scaler.as_str()),
        set: |p, v| p.scaler = v.named(),
    },
    Param {
        name: "dtype",
        section: Section::Model,
        summary: Summary::Value,
        in_subtitle: true,
        default: || ParamValue::Name(ModelParams::default().dtype.as_str()),
        read: |v| choice::<Dtype>("dtype", v),
        get: |p| ParamValue::Name(p.model.dtype.as_str()),
        set: |p, v| p.model.dtype = v.named(),
    },
    Param {
        name: "train_size",
        section: Section::Split,
        summary: Summary::Hidden,
        in_subtitle: true,
        default: || ParamValue::Size(None),
        read: |v| size("train_size", v),
        get: |p| ParamValue::Size(p.split.train_size),
        set: |p, v| p.split.train_size = v.size(),
    },
    Param {
        name: "test_size",
        section: Section::Split,
        summary: Summary::Hidden,
        in_subtitle: true,
        default: || ParamValue::Size(None),
        read: |v| size("test_size", v),
        get: |p| ParamValue::Size(p.split.test_size),
        set: |p, v| p.split.test_size = v.size(),
    },
    Param {
        name: "random_state",
        section: Section::Split,
        summary: Summary::Hidden,
        in_subtitle: true,
        // None: a split that shuffles must be given one (see `grid::resolve`).
        default: || ParamValue::Seed(None),
        read: |v| seed("random_state", v),
        get: |p| ParamValue::Seed(Some(p.split.random_state)),
        set: |p, v| p.split.random_state = v.seed().unwrap_or(0),
    },
    Param {
        name: "shuffle",
        section: Section::Split,
        summary: Summary::Hidden,
        in_subtitle: true,
        default: || ParamValue::Flag(true),
        read: |v| flag("shuffle", v),
        get: |p| ParamValue::Flag(p.split.shuffle),
        set: |p, v| p.split.shuffle = v.flag(),
    },
    Param {
        name: "solver",
        section: Section::Model,
        summary: Summary::Set,
        in_subtitle: true,
        default: || ParamValue::Name(ModelParams::default().solver.as_str()),
        read: |v| choice::<Solver>("solver", v),
        get: |p| ParamValue::Name(p.model.solver.as_str()),
        set: |p, v| p.model.solver = v.named(),
    },
    Param {
        name: "l1_ratio",
        section: Section::Model,
        summary: Summary::Set,
        in_subtitle: true,
        default: || ParamValue::Number(ModelParams::default().l1_ratio),
        read: |v| {
            let r = number("l1_ratio", v)?;
            ModelParams::check_l1_ratio(r).map_err(|e| e.message)?;
            Ok(ParamValue::Number(r))
        },
        get: |p| ParamValue::Number(p.model.l1_ratio),
        set: |p, v| p.model.l1_ratio = v.number(),
    },
    Param {
        // scikit-learn's `LogisticRegression(random_state=...)`: sag's and saga's sample order.
        // None: the split's seed for sag and saga (see `grid::resolve`), unused by lbfgs.
        name: "model.random_state",
        section: Section::Model,
        summary: Summary::Set,
        in_subtitle: true,
        default: || ParamValue::Seed(ModelParams::default().random_state),
        read: |v| seed("random_state", v),
        get: |p| ParamValue::Seed(p.model.random_state),
        set: |p, v| p.model.random_state = v.seed(),
    },
    Param {
        // Gradient descent's step (solver "gd"); 0 in the run's parameters: not set ("-").
        name: "learning_rate",
        section: Section::Model,
        summary: Summary::Set,
        in_subtitle: true,
        default: || ParamValue::Rate(None),
        read: |v| {
            let r = number("learning_rate", v)?;
            ModelParams::check_learning_rate(r).map_err(|e| e.message)?;
            Ok(ParamValue::Rate(Some(r)))
        },
        get: |p| ParamValue::Rate(Some(p.model.learning_rate).filter(|&r| r != 0.0)),
        set: |p, v| p.model.learning_rate = v.rate(),
    },
];

/// The parameter columns of a table of these runs, in table order: those a one-line description
/// shows, a [`Summary::Set`] one where any run sets it.
pub fn summary_params<'a>(runs: impl IntoIterator<Item = &'a RunParams>) -> Vec<&'static Param> {
    let runs: Vec<&RunParams> = runs.into_iter().collect();
    PARAMS
        .iter()
        .filter(|p| match p.summary {
            Summary::Hidden => false,
            Summary::Set => runs.iter().any(|r| p.get(r) != (p.default)()),
            Summary::Value | Summary::Named => true,
        })
        .collect()
}

/// The parameters whose values differ between `runs`, in table order: what tells them apart.
pub fn varying_params<'a>(runs: impl IntoIterator<Item = &'a RunParams>) -> Vec<&'static Param> {
    let runs: Vec<&RunParams> = runs.into_iter().collect();
    PARAMS
        .iter()
        .filter(|p| runs.iter().any(|r| p.get(r) != p.get(runs[0])))
        .collect()
}

/// `name=value` of each of `params` in `run`: "C=0.1, max_iter=100" (the parameters a run does
/// not take, shown "-", are left out).
pub fn setting_label(run: &RunParams, params: &[&Param]) -> String {
    params
        .iter()
        .map(|p| (p.name, p.get(run).display()))
        .filter(|(_, v)| v != "-")
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The order a sub-grid's Cartesian product takes the parameters in (the last varies fastest):
/// the order of the runs in every sweep. Changing it reorders results, not run ids.
pub const GRID_ORDER: &[&str] = &[
    "train_size",
    "test_size",
    "random_state",
    "shuffle",
    "scaler",
    "multi_class",
    "C",
    "max_iter",
    "tol",
    "fit_intercept",
    "dtype",
    "solver",
    "l1_ratio",
    "model.random_state",
    "learning_rate",
];

/// The parameters every run id hashes, in this order, before the subsample. Frozen: the ids of
/// every committed result depend on it. A parameter added later is not listed; it is appended to
/// the hashed text only where it differs from its default.
const ID_ORDER: &[&str] = &[
    "multi_class",
    "C",
    "max_iter",
    "tol",
    "fit_intercept",
    "dtype",
    "scaler",
    "train_size",
    "test_size",
    "random_state",
    "shuffle",
];

fn param(name: &str) -> &'static Param {
    Param::named(name).unwrap_or_else(|| unreachable!("{name:?} is not in PARAMS"))
}

impl RunParams {
    /// A run's parameters from one value per entry of [`PARAMS`] (a resolved grid point).
    pub(super) fn from_values(values: &[ParamValue]) -> RunParams {
        let mut params = RunParams {
            split: SplitSpec {
                train_size: None,
                test_size: None,
                random_state: 0,
                shuffle: true,
            },
            scaler: Scaler::None,
            model: ModelParams::default(),
        };
        for (p, &v) in PARAMS.iter().zip(values) {
            (p.set)(&mut params, v);
        }
        params
    }

    /// Every parameter's value, in table order.
    pub fn values(&self) -> Vec<(&'static str, ParamValue)> {
        PARAMS.iter().map(|p| (p.name, p.get(self))).collect()
    }

    /// The canonical text a run id is hashed from.
    fn canonical(&self, subsample: Option<usize>) -> String {
        let mut parts: Vec<String> = ID_ORDER
            .iter()
            .map(|name| format!("{name}={}", param(name).get(self).canonical()))
            .collect();
        parts.push(format!(
            "subsample={}",
            subsample.map_or_else(|| "all".into(), |n| n.to_string())
        ));
        for p in PARAMS.iter().filter(|p| !ID_ORDER.contains(&p.name)) {
            let value = p.get(self);
            if value != (p.default)() {
                parts.push(format!("{}={}", p.name, value.canonical()));
            }
        }
        parts.join(";")
    }

    /// The run id: the first 12 hex digits of the SHA-256 of the canonical parameters.
    pub fn run_id(&self, subsample: Option<usize>) -> String {
        let digest = Sha256::digest(self.canonical(subsample).as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    /// The parameters on one line (`multinomial, C=1, max_iter=100, scaler=none, f64`), for
    /// titles, logs and tables.
    pub fn describe(&self) -> String {
        PARAMS
            .iter()
            .filter_map(|p| match p.summary {
                Summary::Value => Some(p.get(self).display()),
                Summary::Named => Some(format!("{}={}", p.name, p.get(self).display())),
                Summary::Set if p.get(self) != (p.default)() => {
                    Some(format!("{}={}", p.name, p.get(self).display()))
                }
                Summary::Set | Summary::Hidden => None,
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::Size;

    #[test]
    fn the_orders_name_every_parameter_once() {
        let mut grid: Vec<&str> = GRID_ORDER.to_vec();
        let mut table: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
        grid.sort_unstable();
        table.sort_unstable();
        assert_eq!(grid, table, "GRID_ORDER must list every parameter once");
        for name in ID_ORDER {
            assert!(Param::named(name).is_some(), "{name}");
        }
    }

    #[test]
    fn each_parameter_reads_gets_and_sets_the_same_value() {
        let params =
            RunParams::from_values(&PARAMS.iter().map(|p| (p.default)()).collect::<Vec<_>>());
        for p in PARAMS {
            let v = p.get(&params);
            let mut copy = params.clone();
            (p.set)(&mut copy, v);
            assert_eq!(copy, params, "{}", p.name);
        }
        assert_eq!(params.model, ModelParams::default());
        assert_eq!(
            params.describe(),
            "multinomial, C=1, max_iter=100, scaler=none, f64"
        );
    }

    #[test]
    fn the_canonical_text_is_the_frozen_one() {
        let mut params =
            RunParams::from_values(&PARAMS.iter().map(|p| (p.default)()).collect::<Vec<_>>());
        params.split.train_size = Some(Size::Fraction(0.8));
        assert_eq!(
            params.canonical(None),
            "multi_class=multinomial;C=1.0;max_iter=100;tol=0.0001;fit_intercept=true;dtype=f64;\
             scaler=none;train_size=0.8;test_size=none;random_state=0;shuffle=true;subsample=all"
        );
        assert_eq!(params.run_id(None).len(), 12);
    }
}
