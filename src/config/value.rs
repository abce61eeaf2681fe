//! A run parameter's value: the kinds of value the table in [`super::params`] holds, how each is
//! read from TOML (its type only; a value's rule belongs to the type that owns the parameter),
//! written into run ids, shown to people, and serialised into CSV and JSON.
//!
//! May touch: `named`, `split` (sizes), `text`.

use serde::{Serialize, Serializer};
use toml::Value as Toml;

use crate::named::Named;
use crate::split::Size;
use crate::text::display_number;

/// One parameter's value in one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue {
    /// A real number (`C`, `tol`).
    Number(f64),
    /// A whole number (`max_iter`).
    Count(u64),
    /// `true` or `false`.
    Flag(bool),
    /// A `train_size` or `test_size`; `None`: not given (scikit-learn's default applies).
    Size(Option<Size>),
    /// A seed; `None` only before a grid is resolved (a config that shuffles must give one).
    Seed(Option<u32>),
    /// One of an enum's names (`"ovr"`).
    Name(&'static str),
    /// A number only some runs take (`learning_rate`: gradient descent's); `None`: not set.
    Rate(Option<f64>),
}

impl ParamValue {
    /// The text a run id hashes. Frozen: changing it for any value changes run ids.
    pub(super) fn canonical(self) -> String {
        match self {
            ParamValue::Number(v) => format!("{v:?}"),
            ParamValue::Count(v) => v.to_string(),
            ParamValue::Flag(v) => v.to_string(),
            ParamValue::Size(Some(s)) => s.to_string(),
            ParamValue::Size(None) | ParamValue::Seed(None) => "none".into(),
            ParamValue::Seed(Some(v)) => v.to_string(),
            ParamValue::Name(v) => v.into(),
            // Frozen as the number 0 it was stored as before it had a variant of its own.
            ParamValue::Rate(v) => format!("{:?}", v.unwrap_or(0.0)),
        }
    }

    /// The value as people read it: `--dry-run`, READMEs, chart legends and titles. A size that
    /// is not given is `-`.
    pub fn display(self) -> String {
        match self {
            ParamValue::Number(v) | ParamValue::Rate(Some(v)) => display_number(v),
            ParamValue::Size(None) | ParamValue::Seed(None) | ParamValue::Rate(None) => "-".into(),
            other => other.canonical(),
        }
    }

    pub(super) fn number(self) -> f64 {
        match self {
            ParamValue::Number(v) => v,
            other => unreachable!("{other:?} is not a number: PARAMS reads and sets the same kind"),
        }
    }

    /// A rate that is not set is 0 in the run's parameters.
    pub(super) fn rate(self) -> f64 {
        match self {
            ParamValue::Rate(v) => v.unwrap_or(0.0),
            other => unreachable!("{other:?} is not a rate: PARAMS reads and sets the same kind"),
        }
    }

    pub(super) fn count(self) -> u64 {
        match self {
            ParamValue::Count(v) => v,
            other => unreachable!("{other:?} is not a count: PARAMS reads and sets the same kind"),
        }
    }

    pub(super) fn flag(self) -> bool {
        match self {
            ParamValue::Flag(v) => v,
            other => unreachable!("{other:?} is not a flag: PARAMS reads and sets the same kind"),
        }
    }

    pub(super) fn size(self) -> Option<Size> {
        match self {
            ParamValue::Size(v) => v,
            other => unreachable!("{other:?} is not a size: PARAMS reads and sets the same kind"),
        }
    }

    /// The seed of a resolved run.
    pub(super) fn seed(self) -> Option<u32> {
        match self {
            ParamValue::Seed(v) => v,
            other => unreachable!("{other:?} is not a seed: PARAMS reads and sets the same kind"),
        }
    }

    pub(super) fn named<T: Named>(self) -> T {
        match self {
            ParamValue::Name(v) => T::parse(v).unwrap_or_else(|| {
                unreachable!(
                    "{v:?} was read by the same type's names: PARAMS reads and sets the same kind"
                )
            }),
            other => unreachable!("{other:?} is not a name: PARAMS reads and sets the same kind"),
        }
    }
}

/// In CSV and JSON: numbers as numbers (an infinite `C` as `"inf"`), names as text, a size that is not given as an empty
/// field (CSV) or `null` (JSON).
impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            ParamValue::Number(v) => crate::text::number_or_inf::serialize(&v, s),
            ParamValue::Count(v) => s.serialize_u64(v),
            ParamValue::Flag(v) => s.serialize_bool(v),
            ParamValue::Size(Some(Size::Fraction(v))) => s.serialize_f64(v),
            ParamValue::Size(Some(Size::Count(v))) => s.serialize_u64(v as u64),
            ParamValue::Seed(Some(v)) => s.serialize_u32(v),
            ParamValue::Size(None) | ParamValue::Seed(None) => s.serialize_none(),
            ParamValue::Name(v) => s.serialize_str(v),
            // Not set: 0, as the column has always held (every reader knows 0 as unset).
            ParamValue::Rate(v) => s.serialize_f64(v.unwrap_or(0.0)),
        }
    }
}

/// A message about one value, before the config file and line are attached.
pub(super) type ValueResult<T> = std::result::Result<T, String>;

pub(super) fn number(key: &str, v: &Toml) -> ValueResult<f64> {
    match v {
        // -0.0 is 0.0: one value, one run (a TOML list could otherwise hold both).
        Toml::Float(f) if *f == 0.0 => Ok(0.0),
        Toml::Float(f) => Ok(*f),
        Toml::Integer(i) => Ok(*i as f64),
        other => Err(format!("{key} = {other}: expected a number")),
    }
}

pub(super) fn whole(key: &str, v: &Toml) -> ValueResult<i64> {
    v.as_integer()
        .ok_or_else(|| format!("{key} = {v}: expected a whole number"))
}

pub(super) fn flag(key: &str, v: &Toml) -> ValueResult<ParamValue> {
    v.as_bool()
        .map(ParamValue::Flag)
        .ok_or_else(|| format!("{key} = {v}: expected true or false"))
}

pub(super) fn choice<T: Named>(key: &str, v: &Toml) -> ValueResult<ParamValue> {
    v.as_str()
        .and_then(T::parse)
        .map(|t| ParamValue::Name(t.as_str()))
        .ok_or_else(|| {
            format!(
                "{key} = {v}: expected one of \"{}\"",
                T::NAMES.join("\", \"")
            )
        })
}

pub(super) fn size(key: &str, v: &Toml) -> ValueResult<ParamValue> {
    match v {
        Toml::Float(f) if *f > 0.0 && *f < 1.0 => Ok(ParamValue::Size(Some(Size::Fraction(*f)))),
        Toml::Integer(i) if *i >= 1 => Ok(ParamValue::Size(Some(Size::Count(*i as usize)))),
        other => Err(format!(
            "{key} = {other}: expected a fraction strictly between 0 and 1 (e.g. 0.8) or a positive count of images"
        )),
    }
}

pub(super) fn seed(key: &str, v: &Toml) -> ValueResult<ParamValue> {
    match v.as_integer() {
        Some(i) if (0..=u32::MAX as i64).contains(&i) => Ok(ParamValue::Seed(Some(i as u32))),
        _ => Err(format!(
            "{key} = {v}: expected an integer from 0 to {}",
            u32::MAX
        )),
    }
}
