//! The model's hyperparameters with scikit-learn's names and defaults, and every rule they must
//! satisfy: [`ModelParams::check`] turns them into [`ValidModelParams`], the only form the fit
//! accepts (linfa's `Params` -> `check()` -> `ValidParams` pattern).
//!
//! May touch: `named`, `text`.

use std::ops::Deref;

use crate::named::named_enum;
use crate::text::{display_number, round_up_one_digit};

named_enum! {
    /// How ten classes are handled.
    pub enum MultiClass {
        /// One softmax model over all classes (`MultiLogisticRegression`).
        Multinomial = "multinomial",
        /// One binary model per class, predicted by the largest decision value.
        Ovr = "ovr",
    }
}

named_enum! {
    /// The floating-point type the fit runs in.
    pub enum Dtype {
        F64 = "f64",
        F32 = "f32",
    }
}

named_enum! {
    /// The optimiser, as scikit-learn names it. `max_iter` counts its iterations: L-BFGS
    /// iterations, or epochs (passes over the training images) for sag and saga.
    #[derive(Default)]
    pub enum Solver {
        /// L-BFGS-B on the full objective (the patched linfa-logistic's `MultiLogisticRegression`).
        #[default]
        Lbfgs = "lbfgs",
        /// Stochastic average gradient (`linfa_logistic::sag`, patch 6); l2 only.
        Sag = "sag",
        /// SAGA: the only solver with an l1 part (`l1_ratio` > 0).
        Saga = "saga",
        /// Full-batch gradient descent with a fixed `learning_rate` (notebook C's method; the
        /// engine's `optim/gd.rs`, patch 10): one pass over the data per iteration.
        Gd = "gd",
    }
}

/// The units a fit reads the training matrix in (`preprocessing::initial_fit_scale` turns them
/// into the matrix's divisor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitUnits {
    /// Divided by a fit scale where the dtype needs one (f32: the features brought into [-1, 1]);
    /// the weights are returned in the features' units.
    Scaled,
    /// The features' own units: gradient descent's path (a fit scale would change the step each
    /// weight takes).
    Features,
}

impl Solver {
    /// The units this solver's fit reads the training matrix in.
    pub fn fit_units(self) -> FitUnits {
        match self {
            Solver::Gd => FitUnits::Features,
            Solver::Lbfgs | Solver::Sag | Solver::Saga => FitUnits::Scaled,
        }
    }

    /// Who fits the same run in `scripts/sklearn_reference.py`: scikit-learn, or for gradient
    /// descent (which scikit-learn does not have) the script's numpy descent.
    pub fn reference_side(self) -> &'static str {
        match self {
            Solver::Gd => "numpy's gradient descent",
            Solver::Lbfgs | Solver::Sag | Solver::Saga => "scikit-learn",
        }
    }

    /// Whether the solver draws samples in an order `random_state` fixes.
    pub fn is_stochastic(self) -> bool {
        matches!(self, Solver::Sag | Solver::Saga)
    }

    /// The solver in words, for charts: "L-BFGS", "sag", "saga", "gradient descent".
    pub fn label(self) -> &'static str {
        match self {
            Solver::Lbfgs => "L-BFGS",
            Solver::Sag => "sag",
            Solver::Saga => "saga",
            Solver::Gd => "gradient descent",
        }
    }

    /// What `max_iter` counts, in words: "L-BFGS iteration", "sag epoch", ...
    pub fn step_label(self) -> String {
        let step = if self.is_stochastic() {
            "epoch"
        } else {
            "iteration"
        };
        format!("{} {step}", self.label())
    }
}

/// Model hyperparameters, with scikit-learn's names and defaults. Any value can be written here;
/// [`ModelParams::check`] says whether a fit can use it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelParams {
    pub multi_class: MultiClass,
    /// Inverse regularisation strength; infinite: no penalty.
    #[serde(rename = "C", with = "crate::text::number_or_inf")]
    pub c: f64,
    pub max_iter: u64,
    /// Stop when the largest gradient component of the mean objective is at most this.
    pub tol: f64,
    pub fit_intercept: bool,
    pub dtype: Dtype,
    #[serde(default)]
    pub solver: Solver,
    /// The penalty's l1 share: 0 is l2, 1 is l1, between is elastic net (saga only).
    #[serde(default)]
    pub l1_ratio: f64,
    /// The seed of sag's and saga's sample order (scikit-learn's `random_state`); `None` for
    /// lbfgs, which draws nothing (a config's sag runs default to the split's seed).
    #[serde(default)]
    pub random_state: Option<u32>,
    /// Gradient descent's step (solver "gd" only; 0: not set). Absent from records that do not
    /// set it, so theirs stay as they were.
    #[serde(default, skip_serializing_if = "is_unset")]
    pub learning_rate: f64,
}

fn is_unset(learning_rate: &f64) -> bool {
    *learning_rate == 0.0
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            multi_class: MultiClass::Multinomial,
            c: 1.0,
            max_iter: 100,
            tol: 1e-4,
            fit_intercept: true,
            dtype: Dtype::F64,
            solver: Solver::Lbfgs,
            l1_ratio: 0.0,
            random_state: None,
            learning_rate: 0.0,
        }
    }
}

/// A model parameter that breaks its rule: the message names the key and the value and says what
/// to use instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParamError {
    /// The parameter at fault, as a config names it.
    pub key: &'static str,
    pub message: String,
}

impl ParamError {
    fn new(key: &'static str, message: String) -> Self {
        ParamError { key, message }
    }
}

/// Model parameters that passed [`ModelParams::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidModelParams(ModelParams);

impl Deref for ValidModelParams {
    type Target = ModelParams;
    fn deref(&self) -> &ModelParams {
        &self.0
    }
}

impl ValidModelParams {
    /// The same parameters with another iteration limit (at least 1, so still valid).
    pub fn with_max_iter(self, max_iter: u64) -> Self {
        ValidModelParams(ModelParams {
            max_iter: max_iter.max(1),
            ..self.0
        })
    }
}

impl ModelParams {
    /// The rule for `C` on its own.
    pub fn check_c(c: f64) -> Result<f64, ParamError> {
        if c > 0.0 && !c.is_nan() {
            Ok(c)
        } else {
            Err(ParamError::new(
                "C",
                format!(
                    "C = {}: must be a positive number, or inf for no penalty (the inverse regularisation strength; 1.0 is scikit-learn's default)",
                    display_number(c)
                ),
            ))
        }
    }

    /// The rule for `l1_ratio` on its own.
    pub fn check_l1_ratio(l1_ratio: f64) -> Result<f64, ParamError> {
        if (0.0..=1.0).contains(&l1_ratio) {
            Ok(l1_ratio)
        } else {
            Err(ParamError::new(
                "l1_ratio",
                format!(
                    "l1_ratio = {}: must be from 0 (l2) to 1 (l1); between is elastic net",
                    display_number(l1_ratio)
                ),
            ))
        }
    }

    /// The rule for `learning_rate` on its own.
    pub fn check_learning_rate(learning_rate: f64) -> Result<f64, ParamError> {
        if learning_rate > 0.0 && learning_rate.is_finite() {
            Ok(learning_rate)
        } else {
            Err(ParamError::new(
                "learning_rate",
                format!(
                    "learning_rate = {}: must be a positive number (gradient descent's step, e.g. 0.5 on pixels/255)",
                    display_number(learning_rate)
                ),
            ))
        }
    }

    /// Which combinations of solver, penalty, classes and dtype exist (scikit-learn's rules, and
    /// what this engine builds).
    fn check_combination(&self) -> Result<(), ParamError> {
        let solver = self.solver;
        if self.l1_ratio > 0.0 && solver != Solver::Saga {
            return Err(ParamError::new(
                "l1_ratio",
                format!(
                    "l1_ratio = {} with solver = \"{solver}\": an l1 part needs solver = \"saga\" (scikit-learn's only solver for l1 and elastic net), or l1_ratio = 0",
                    display_number(self.l1_ratio)
                ),
            ));
        }
        if self.l1_ratio > 0.0 && self.c.is_infinite() {
            return Err(ParamError::new(
                "l1_ratio",
                format!(
                    "l1_ratio = {} with C = inf: there is no penalty to split; give a finite C or l1_ratio = 0",
                    display_number(self.l1_ratio)
                ),
            ));
        }
        if solver == Solver::Gd && self.learning_rate == 0.0 {
            return Err(ParamError::new(
                "learning_rate",
                "solver = \"gd\" needs a learning_rate (gradient descent's fixed step, e.g. 0.5 on pixels/255): add learning_rate = ... to [model]".to_string(),
            ));
        }
        if solver != Solver::Gd && self.learning_rate != 0.0 {
            return Err(ParamError::new(
                "learning_rate",
                format!(
                    "learning_rate = {} with solver = \"{solver}\": only gradient descent takes a learning rate; use solver = \"gd\" or remove learning_rate",
                    display_number(self.learning_rate)
                ),
            ));
        }
        if solver.is_stochastic() && self.multi_class != MultiClass::Multinomial {
            return Err(ParamError::new(
                "solver",
                format!(
                    "solver = \"{solver}\" with multi_class = \"{}\": this engine's sag and saga fit the multinomial model only; use multi_class = \"multinomial\" or solver = \"lbfgs\"",
                    self.multi_class
                ),
            ));
        }
        if solver.is_stochastic() && self.dtype != Dtype::F64 {
            return Err(ParamError::new(
                "solver",
                format!(
                    "solver = \"{solver}\" with dtype = \"{}\": the harness runs sag and saga in f64 only (their f32 path is not checked against scikit-learn); use dtype = \"f64\"",
                    self.dtype
                ),
            ));
        }
        Ok(())
    }

    /// The rule for `max_iter` on its own.
    pub fn check_max_iter(max_iter: i64) -> Result<u64, ParamError> {
        u64::try_from(max_iter)
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                ParamError::new(
                    "max_iter",
                    format!("max_iter = {max_iter}: must be a whole number of iterations, at least 1 (100 is scikit-learn's default)"),
                )
            })
    }

    /// The rule for `tol` on its own.
    pub fn check_tol(tol: f64) -> Result<f64, ParamError> {
        if tol >= 0.0 && tol.is_finite() {
            Ok(tol)
        } else {
            Err(ParamError::new(
                "tol",
                format!(
                    "tol = {}: must be a finite number >= 0 (scikit-learn's default is 1e-4)",
                    display_number(tol)
                ),
            ))
        }
    }

    /// Checks every rule, including what the fit derives from the parameters, so a run cannot
    /// fail halfway through a sweep: linfa's `alpha = 1/C` and the tolerance must be representable
    /// in the fit's dtype.
    pub fn check(&self) -> Result<ValidModelParams, ParamError> {
        Self::check_c(self.c)?;
        Self::check_tol(self.tol)?;
        Self::check_l1_ratio(self.l1_ratio)?;
        if self.learning_rate != 0.0 {
            Self::check_learning_rate(self.learning_rate)?;
        }
        self.check_combination()?;
        Self::check_max_iter(i64::try_from(self.max_iter).unwrap_or(i64::MAX))?;
        let max = match self.dtype {
            Dtype::F64 => f64::MAX,
            Dtype::F32 => f32::MAX as f64,
        };
        // The largest alpha the fit uses is at fit scale 1.
        let alpha = linfa_alpha(self.c, 1.0);
        if !alpha.is_finite() || alpha > max {
            return Err(ParamError::new(
                "C",
                format!(
                    "C = {} with dtype = \"{}\": the fit's alpha = 1/C overflows {}: use C >= {}{}",
                    display_number(self.c),
                    self.dtype,
                    self.dtype,
                    round_up_one_digit(1.0 / max),
                    if self.dtype == Dtype::F32 {
                        " or dtype = \"f64\""
                    } else {
                        ""
                    }
                ),
            ));
        }
        if self.tol > max {
            return Err(ParamError::new(
                "tol",
                format!(
                    "tol = {} with dtype = \"{}\": overflows {}: use a tol below {}",
                    display_number(self.tol),
                    self.dtype,
                    self.dtype,
                    display_number(max)
                ),
            ));
        }
        Ok(ValidModelParams(*self))
    }
}

/// linfa's `alpha` for scikit-learn's `C` when the features are divided by `fit_scale`.
pub fn linfa_alpha(c: f64, fit_scale: f64) -> f64 {
    1.0 / (c * fit_scale * fit_scale)
}

/// The patched linfa's `max_gradient_tolerance` for scikit-learn's `tol`. Dividing the features
/// by `fit_scale` divides the weights' gradient by `fit_scale` (the intercept's is unchanged), so
/// `tol / fit_scale` guarantees scikit-learn's rule in the original units; at `fit_scale = 1` (every
/// f64 fit) it is exactly scikit-learn's rule.
pub fn linfa_max_gradient_tolerance(tol: f64, fit_scale: f64) -> f64 {
    tol / fit_scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_checked_and_derived_values_fit_the_dtype() {
        let p = |c: f64, tol: f64, dtype: Dtype| ModelParams {
            c,
            tol,
            dtype,
            ..Default::default()
        };
        assert!(p(1.0, 1e-4, Dtype::F32).check().is_ok());
        assert!(p(1e-30, 1e-4, Dtype::F32).check().is_ok());
        let e = p(1e-40, 1e-4, Dtype::F32).check().unwrap_err();
        assert_eq!(e.key, "C");
        assert!(
            e.message.contains("C = 1e-40") && e.message.contains("dtype = \"f64\""),
            "{e}"
        );
        assert!(p(1e-40, 1e-4, Dtype::F64).check().is_ok());
        assert!(p(1e-320, 1e-4, Dtype::F64).check().is_err());
        assert!(p(1.0, 1e39, Dtype::F32).check().is_err());
        assert_eq!(p(0.0, 1e-4, Dtype::F64).check().unwrap_err().key, "C");
        assert_eq!(p(f64::NAN, 1e-4, Dtype::F64).check().unwrap_err().key, "C");
        assert_eq!(p(1.0, -1.0, Dtype::F64).check().unwrap_err().key, "tol");
        let zero_iterations = ModelParams {
            max_iter: 0,
            ..Default::default()
        };
        assert_eq!(zero_iterations.check().unwrap_err().key, "max_iter");
        let valid = ModelParams::default().check().unwrap();
        assert_eq!(valid.with_max_iter(7).max_iter, 7);
        assert_eq!(valid.with_max_iter(7).c, 1.0);
    }

    #[test]
    fn c_maps_to_alpha_and_scale_squares() {
        assert_eq!(linfa_alpha(1.0, 1.0), 1.0);
        assert_eq!(linfa_alpha(0.01, 1.0), 100.0);
        assert_eq!(linfa_alpha(1.0, 255.0), 1.0 / 65025.0);
    }

    #[test]
    fn tol_is_scikit_learns_at_fit_scale_one_and_stricter_above() {
        assert_eq!(linfa_max_gradient_tolerance(1e-4, 1.0), 1e-4);
        assert_eq!(linfa_max_gradient_tolerance(1e-4, 255.0), 1e-4 / 255.0);
    }
}
