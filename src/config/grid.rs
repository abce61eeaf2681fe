//! Grid expansion: the values each parameter takes in a sub-grid, their Cartesian product in
//! [`GRID_ORDER`], and each grid point resolved into a [`RunParams`].
//!
//! May touch: `config::params`, `split` (size rules).

use toml::Value as Toml;

use super::params::{ParamValue, RunParams, GRID_ORDER, PARAMS};
use super::value::ValueResult;
use crate::split::resolve_sizes;

/// The values each parameter takes (one list per entry of [`PARAMS`]); a sub-grid is their
/// Cartesian product.
#[derive(Debug, Clone)]
pub(super) struct Axes(Vec<Vec<ParamValue>>);

impl Default for Axes {
    /// Every parameter at its default.
    fn default() -> Self {
        Axes(PARAMS.iter().map(|p| vec![(p.default)()]).collect())
    }
}

impl Axes {
    /// Sets the values of one parameter (a name from [`PARAMS`]) from a TOML scalar or list.
    pub fn set(&mut self, key: &str, value: &Toml) -> ValueResult<()> {
        // Keys are checked against PARAMS before they are set.
        let index = index_of(key);
        let param = &PARAMS[index];
        self.0[index] = match value {
            Toml::Array(items) if items.is_empty() => {
                return Err(format!(
                    "{key} = []: an empty list gives no runs; give at least one value"
                ))
            }
            Toml::Array(items) => items
                .iter()
                .map(|v| param.read(v))
                .collect::<ValueResult<_>>()?,
            Toml::Table(spec) => range(key, spec)?
                .iter()
                .map(|v| param.read(v))
                .collect::<ValueResult<_>>()?,
            scalar => vec![param.read(scalar)?],
        };
        Ok(())
    }

    /// `[split] repeats = n`: the split's one seed s becomes s, s + 1, ..., s + n - 1, so that
    /// every setting is fitted and scored on n splits.
    pub fn repeat_splits(&mut self, n: u32) -> ValueResult<()> {
        let index = index_of("random_state");
        let first = match self.0[index].as_slice() {
            [ParamValue::Seed(Some(s))] => *s,
            [ParamValue::Seed(None)] => {
                return Err(format!(
                    "repeats = {n} needs the first split's seed: set random_state = 0 (any integer) in [split]"
                ))
            }
            _ => {
                return Err(format!(
                    "repeats = {n} draws random_state, random_state + 1, ...: give random_state one value (the first split's seed), or list the seeds and drop repeats"
                ))
            }
        };
        let last = first.checked_add(n - 1).ok_or_else(|| {
            format!(
                "repeats = {n} from random_state = {first} runs past the largest seed, {}",
                u32::MAX
            )
        })?;
        self.0[index] = (first..=last).map(|s| ParamValue::Seed(Some(s))).collect();
        Ok(())
    }

    /// How many combinations [`Axes::product`] gives (saturating: never overflows).
    pub fn size(&self) -> u128 {
        self.0
            .iter()
            .fold(1u128, |n, values| n.saturating_mul(values.len() as u128))
    }

    /// Every combination of the values, one value per entry of [`PARAMS`], in the product order
    /// of [`GRID_ORDER`] (the last varies fastest).
    pub fn product(&self) -> Vec<Vec<ParamValue>> {
        let order: Vec<usize> = GRID_ORDER.iter().map(|name| index_of(name)).collect();
        let total: usize = order.iter().map(|&i| self.0[i].len()).product();
        (0..total)
            .map(|mut k| {
                let mut point = vec![ParamValue::Flag(false); PARAMS.len()];
                for &i in order.iter().rev() {
                    let len = self.0[i].len();
                    point[i] = self.0[i][k % len];
                    k /= len;
                }
                point
            })
            .collect()
    }
}

/// How a range is written, for messages.
const RANGE_EXAMPLE: &str =
    "{ logspace = [-4, 2], num = 7 } (10^-4 to 10^2) or { linspace = [0.2, 0.8], num = 4 }";

/// The most values one range may give.
const MAX_RANGE: i64 = 1000;

/// A range as the list of values it stands for: `{ logspace = [a, b], num = n }` is n values from
/// 10^a to 10^b evenly spaced in the exponent (numpy's `logspace`), `{ linspace = [a, b], num =
/// n }` n values from a to b (numpy's `linspace`), both ends included. Values are rounded to 12
/// significant digits, so that the range's 10^-4 is the 0.0001 written by hand (the same run
/// id), and whole values become integers (a range of `max_iter` or `train_size` counts).
fn range(key: &str, spec: &toml::Table) -> ValueResult<Vec<Toml>> {
    let written = Toml::Table(spec.clone());
    let fail = |problem: &str| format!("{key} = {written}: {problem}; a range is {RANGE_EXAMPLE}");
    let (log, ends) = match (spec.get("logspace"), spec.get("linspace")) {
        (Some(ends), None) => (true, ends),
        (None, Some(ends)) => (false, ends),
        _ => return Err(fail("give exactly one of logspace and linspace")),
    };
    if let Some(other) = spec
        .keys()
        .find(|k| !matches!(k.as_str(), "logspace" | "linspace" | "num"))
    {
        return Err(fail(&format!("unknown key `{other}`")));
    }
    let end = |v: &Toml| match v {
        Toml::Integer(i) => Some(*i as f64),
        Toml::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    };
    let (a, b) = match ends.as_array().map(|a| a.as_slice()) {
        Some([a, b]) => end(a)
            .zip(end(b))
            .ok_or_else(|| fail("its two ends must be numbers"))?,
        _ => return Err(fail("it needs its two ends, [start, stop]")),
    };
    let num = match spec.get("num").and_then(Toml::as_integer) {
        Some(n) if (1..=MAX_RANGE).contains(&n) => n as usize,
        _ => {
            return Err(fail(&format!(
                "num must be a whole number from 1 to {MAX_RANGE}"
            )))
        }
    };
    (0..num)
        .map(|i| {
            let t = if num == 1 {
                a
            } else {
                a + (b - a) * i as f64 / (num - 1) as f64
            };
            let v = if log { 10f64.powf(t) } else { t };
            if !v.is_finite() || (log && v == 0.0) {
                return Err(fail(&format!(
                    "10^{t} is beyond what a 64-bit float holds: keep the exponents between -300 and 300"
                )));
            }
            let v: f64 = format!("{v:.11e}").parse().unwrap_or(v);
            Ok(if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Toml::Integer(v as i64)
            } else {
                Toml::Float(v)
            })
        })
        .collect()
}

/// Why a grid point cannot be a run.
pub(super) enum Unresolved {
    /// It shuffles without a seed.
    NoSeed,
    /// Its sizes do not fit the data (the message says which and how).
    Sizes(String),
}

/// The position of a parameter in [`PARAMS`] (every name the grid uses is checked or a test
/// keeps it there).
fn index_of(name: &str) -> usize {
    PARAMS
        .iter()
        .position(|p| p.name == name)
        .unwrap_or_else(|| unreachable!("{name:?} is not in PARAMS"))
}

/// A grid point as a run's parameters: a split that does not shuffle takes seed 0 (it is never
/// used); one that shuffles must have a seed; the sizes must fit `n` images. sag's and saga's
/// sample order defaults to the split's seed, as the notebooks' one `random_state` would;
/// lbfgs draws nothing, so a seed given to it is dropped (as scikit-learn ignores it), and
/// runs that differ only in it are one run.
pub(super) fn resolve(mut point: Vec<ParamValue>, n: usize) -> Result<RunParams, Unresolved> {
    let seed = index_of("random_state");
    if point[seed].seed().is_none() {
        match point[index_of("shuffle")] {
            ParamValue::Flag(false) => point[seed] = ParamValue::Seed(Some(0)),
            _ => return Err(Unresolved::NoSeed),
        }
    }
    let mut params = RunParams::from_values(&point);
    params.model.random_state = match params.model.solver.is_stochastic() {
        true => Some(
            params
                .model
                .random_state
                .unwrap_or(params.split.random_state),
        ),
        false => None,
    };
    resolve_sizes(n, params.split.train_size, params.split.test_size)
        .map_err(|e| Unresolved::Sizes(format!("{e} (the data has {n} images)")))?;
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_varies_the_last_grid_parameter_fastest() {
        let mut axes = Axes::default();
        axes.set("C", &Toml::Array(vec![Toml::Float(0.1), Toml::Float(1.0)]))
            .unwrap();
        axes.set(
            "train_size",
            &Toml::Array(vec![Toml::Float(0.5), Toml::Float(0.8)]),
        )
        .unwrap();
        axes.set("random_state", &Toml::Integer(3)).unwrap();
        let runs: Vec<(String, String)> = axes
            .product()
            .into_iter()
            .map(|point| {
                let p = resolve(point, 1000).ok().unwrap();
                (
                    p.split.train_size.unwrap().to_string(),
                    crate::text::display_number(p.model.c),
                )
            })
            .collect();
        let expected = [("0.5", "0.1"), ("0.5", "1"), ("0.8", "0.1"), ("0.8", "1")];
        assert_eq!(
            runs,
            expected
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        );
    }

    fn ranged(key: &str, spec: &str) -> ValueResult<Vec<ParamValue>> {
        let table: toml::Table = format!("v = {spec}").parse().unwrap();
        let mut axes = Axes::default();
        axes.set(key, &table["v"])?;
        Ok(axes.0[index_of(key)].clone())
    }

    /// Ranges expand as numpy's logspace and linspace, to the values written by hand.
    #[test]
    fn ranges_expand_to_the_values_written_by_hand() {
        let c = ranged("C", "{ logspace = [-4, 2], num = 7 }").unwrap();
        let written = [1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0, 100.0];
        assert_eq!(c, written.map(ParamValue::Number).to_vec());
        let c = ranged("C", "{ linspace = [0.5, 2], num = 4 }").unwrap();
        assert_eq!(c, [0.5, 1.0, 1.5, 2.0].map(ParamValue::Number).to_vec());
        let it = ranged("max_iter", "{ linspace = [100, 400], num = 4 }").unwrap();
        assert_eq!(it, [100, 200, 300, 400].map(ParamValue::Count).to_vec());
        for (spec, says) in [
            (
                "{ logspace = [-4, 2] }",
                "num must be a whole number from 1 to 1000",
            ),
            ("{ logspace = [-4], num = 3 }", "it needs its two ends"),
            (
                "{ logspace = [-4, 400], num = 3 }",
                "beyond what a 64-bit float holds",
            ),
            (
                "{ geomspace = [1, 2], num = 3 }",
                "give exactly one of logspace and linspace",
            ),
            (
                "{ logspace = [-4, 2], num = 7, base = 2 }",
                "unknown key `base`",
            ),
            (
                "{ linspace = [1, \"a\"], num = 3 }",
                "its two ends must be numbers",
            ),
        ] {
            let e = ranged("C", spec).unwrap_err();
            assert!(e.contains(says) && e.starts_with("C = "), "{spec}: {e}");
        }
        // A range of max_iter with steps that are not whole is refused by max_iter's own rule.
        assert!(ranged("max_iter", "{ linspace = [1, 2], num = 3 }")
            .unwrap_err()
            .contains("expected a whole number"));
    }
}
