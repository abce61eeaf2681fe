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
            scalar => vec![param.read(scalar)?],
        };
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
/// used); one that shuffles must have a seed; the sizes must fit `n` images.
pub(super) fn resolve(mut point: Vec<ParamValue>, n: usize) -> Result<RunParams, Unresolved> {
    let seed = index_of("random_state");
    if point[seed].seed().is_none() {
        match point[index_of("shuffle")] {
            ParamValue::Flag(false) => point[seed] = ParamValue::Seed(Some(0)),
            _ => return Err(Unresolved::NoSeed),
        }
    }
    let params = RunParams::from_values(&point);
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
}
