//! Moré and Thuente's line search, with the decisions MINPACK-2's `dcsrch` and `dcstep` take
//! inside L-BFGS-B (Moré and Thuente, "Line search algorithms with guaranteed sufficient
//! decrease", ACM TOMS 20(3), 1994; Byrd, Lu, Nocedal and Zhu, 1995).
//!
//! The search looks for a step `stp > 0` along a descent direction that satisfies the strong
//! Wolfe conditions
//!
//! - sufficient decrease: `f(stp) <= f(0) + ftol * stp * f'(0)`;
//! - curvature: `|f'(stp)| <= gtol * |f'(0)|`.
//!
//! It keeps an interval of uncertainty `[stx, sty]` (unordered) that contains such a step once a
//! minimiser is bracketed, and chooses each trial from cubic, quadratic and secant interpolants
//! of the function values and derivatives at the interval's ends ([`safeguarded_step`]). While
//! the trials have only lowered `f` without sufficient decrease (the "first stage"), it works on
//! the auxiliary function `psi(stp) = f(stp) - f(0) - ftol * stp * f'(0)` instead.
//!
//! It is a reverse-communication state machine, like MINPACK-2's routine: [`MoreThuente::start`]
//! gives the first trial step, and [`MoreThuente::step`] takes the function value and derivative
//! at the last trial and says whether to stop or where to evaluate next.

/// Sufficient-decrease constant `ftol` (called `mu` in Moré and Thuente): L-BFGS-B passes 1e-3.
pub(crate) const FTOL: f64 = 1e-3;
/// Curvature constant `gtol` (`eta` in Moré and Thuente): L-BFGS-B passes 0.9.
pub(crate) const GTOL: f64 = 0.9;
/// Relative width of the interval of uncertainty below which the search gives up: L-BFGS-B
/// passes 0.1.
pub(crate) const XTOL: f64 = 0.1;
/// Before bracketing, the next trial lies at least this factor of the last move beyond the
/// current step (MINPACK-2's `xtrapl`).
const EXTRAPOLATE_MIN: f64 = 1.1;
/// ... and at most this factor (MINPACK-2's `xtrapu`).
const EXTRAPOLATE_MAX: f64 = 4.0;
/// Once bracketed, a trial that does not shrink the interval to this share of its width two
/// trials ago is replaced by the midpoint (Moré and Thuente, section 4: bisection safeguard).
const SHRINK: f64 = 0.66;

/// Why the search ended without meeting both conditions; the last trial is accepted anyway, as
/// L-BFGS-B does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Warning {
    /// The trial fell on the edge of the interval of uncertainty: rounding errors prevent
    /// progress.
    Rounding,
    /// The interval of uncertainty is narrower than `xtol` relative to its upper end.
    Xtol,
    /// The step is at `stpmax` and still decreasing.
    AtMax,
    /// The step is at `stpmin` and does not decrease enough.
    AtMin,
}

/// What to do after a trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Next {
    /// Evaluate the function and its derivative at this step and call [`MoreThuente::step`].
    Evaluate(f64),
    /// The last trial satisfies both conditions.
    Converged,
    /// The last trial is the search's answer, with a warning.
    Warning(Warning),
}

/// The arguments of a search are inconsistent (MINPACK-2's `ERROR` exits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputError {
    /// `f'(0) >= 0`: the direction does not descend.
    NotDescent,
    /// The first step lies outside `[stpmin, stpmax]`, or those bounds are inconsistent.
    StepOutOfRange,
}

/// A step with the function value and derivative there.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    stp: f64,
    f: f64,
    g: f64,
}

/// The state of one line search.
#[derive(Debug, Clone)]
pub(crate) struct MoreThuente {
    gtol: f64,
    xtol: f64,
    stpmin: f64,
    stpmax: f64,
    f0: f64,
    g0: f64,
    /// `ftol * f'(0)`: the slope of the sufficient-decrease line.
    gtest: f64,
    /// The end of the interval with the lowest function value so far.
    best: Point,
    /// The other end.
    other: Point,
    bracketed: bool,
    /// The second stage starts once a step has `psi <= 0` and `f' >= 0`.
    second_stage: bool,
    /// Bounds for the next trial.
    lo: f64,
    hi: f64,
    /// The interval's width now and one trial ago (for the bisection safeguard).
    width: f64,
    width_before: f64,
}

impl MoreThuente {
    /// Starts a search from `f(0) = f0`, `f'(0) = g0 < 0`, with the first trial step `stp`
    /// within `[stpmin, stpmax]`, and L-BFGS-B's constants. Returns the search and the first step
    /// to evaluate (`stp` itself).
    pub(crate) fn start(
        f0: f64,
        g0: f64,
        stp: f64,
        stpmin: f64,
        stpmax: f64,
    ) -> Result<(Self, f64), InputError> {
        Self::with_constants(f0, g0, stp, stpmin, stpmax, FTOL, GTOL, XTOL)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn with_constants(
        f0: f64,
        g0: f64,
        stp: f64,
        stpmin: f64,
        stpmax: f64,
        ftol: f64,
        gtol: f64,
        xtol: f64,
    ) -> Result<(Self, f64), InputError> {
        // A NaN slope is let through, as MINPACK-2 does; the caller guards against it.
        if g0 >= 0.0 {
            return Err(InputError::NotDescent);
        }
        if stp < stpmin || stp > stpmax || stpmin < 0.0 || stpmax < stpmin {
            return Err(InputError::StepOutOfRange);
        }
        let origin = Point {
            stp: 0.0,
            f: f0,
            g: g0,
        };
        let width = stpmax - stpmin;
        let search = MoreThuente {
            gtol,
            xtol,
            stpmin,
            stpmax,
            f0,
            g0,
            gtest: ftol * g0,
            best: origin,
            other: origin,
            bracketed: false,
            second_stage: false,
            lo: 0.0,
            hi: stp + EXTRAPOLATE_MAX * stp,
            width,
            width_before: width / 0.5,
        };
        Ok((search, stp))
    }

    /// Takes `f` and `f'` at the trial step `stp` (the step the search asked for last) and says
    /// what to do next.
    pub(crate) fn step(&mut self, stp: f64, f: f64, g: f64) -> Next {
        let ftest = self.f0 + stp * self.gtest;
        if !self.second_stage && f <= ftest && g >= 0.0 {
            self.second_stage = true;
        }

        // The tests in MINPACK-2's order: a later one overrides an earlier one, and convergence
        // overrides them all.
        let mut outcome = None;
        if self.bracketed && (stp <= self.lo || stp >= self.hi) {
            outcome = Some(Next::Warning(Warning::Rounding));
        }
        if self.bracketed && self.hi - self.lo <= self.xtol * self.hi {
            outcome = Some(Next::Warning(Warning::Xtol));
        }
        if stp == self.stpmax && f <= ftest && g <= self.gtest {
            outcome = Some(Next::Warning(Warning::AtMax));
        }
        if stp == self.stpmin && (f > ftest || g >= self.gtest) {
            outcome = Some(Next::Warning(Warning::AtMin));
        }
        if f <= ftest && g.abs() <= self.gtol * (-self.g0) {
            outcome = Some(Next::Converged);
        }
        if let Some(outcome) = outcome {
            return outcome;
        }

        let trial = Point { stp, f, g };
        let mut next = if !self.second_stage && f <= self.best.f && f > ftest {
            // First stage, lower but not sufficiently lower: interpolate psi instead of f.
            let gtest = self.gtest;
            let shift = |p: Point| Point {
                stp: p.stp,
                f: p.f - p.stp * gtest,
                g: p.g - gtest,
            };
            let unshift = |p: Point| Point {
                stp: p.stp,
                f: p.f + p.stp * gtest,
                g: p.g + gtest,
            };
            let (mut best, mut other) = (shift(self.best), shift(self.other));
            let next = safeguarded_step(
                &mut best,
                &mut other,
                shift(trial),
                &mut self.bracketed,
                self.lo,
                self.hi,
            );
            self.best = unshift(best);
            self.other = unshift(other);
            next
        } else {
            safeguarded_step(
                &mut self.best,
                &mut self.other,
                trial,
                &mut self.bracketed,
                self.lo,
                self.hi,
            )
        };

        let (stx, sty) = (self.best.stp, self.other.stp);
        if self.bracketed {
            if (sty - stx).abs() >= SHRINK * self.width_before {
                next = stx + 0.5 * (sty - stx);
            }
            self.width_before = self.width;
            self.width = (sty - stx).abs();
            self.lo = stx.min(sty);
            self.hi = stx.max(sty);
        } else {
            self.lo = next + EXTRAPOLATE_MIN * (next - stx);
            self.hi = next + EXTRAPOLATE_MAX * (next - stx);
        }
        next = next.max(self.stpmin).min(self.stpmax);

        // No further progress is possible: fall back to the best step so far.
        if self.bracketed
            && (next <= self.lo || next >= self.hi || self.hi - self.lo <= self.xtol * self.hi)
        {
            next = stx;
        }
        Next::Evaluate(next)
    }
}

/// Moré and Thuente's safeguarded step (their section 4, MINPACK-2's `dcstep`): updates the
/// interval ends `best` (lowest function value, derivative pointing towards the trial) and
/// `other` with the trial `t`, and returns the next trial step, kept within `[lo, hi]` where
/// that applies.
fn safeguarded_step(
    best: &mut Point,
    other: &mut Point,
    t: Point,
    bracketed: &mut bool,
    lo: f64,
    hi: f64,
) -> f64 {
    let (stx, fx, dx) = (best.stp, best.f, best.g);
    let (stp, fp, dp) = (t.stp, t.f, t.g);
    // The sign of dp relative to dx (NaN when dx is 0, which counts as "same sign").
    let sgnd = dp * (dx / dx.abs());

    let next = if fp > fx {
        // Case 1: a higher value. The minimum is bracketed; take the cubic step if it is closer
        // to stx than the quadratic step, else their mean.
        let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        let s = theta.abs().max(dx.abs().max(dp.abs()));
        let mut gamma = s * ((theta / s) * (theta / s) - (dx / s) * (dp / s)).sqrt();
        if stp < stx {
            gamma = -gamma;
        }
        let p = (gamma - dx) + theta;
        let q = ((gamma - dx) + gamma) + dp;
        let cubic = stx + (p / q) * (stp - stx);
        let quadratic = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
        *bracketed = true;
        if (cubic - stx).abs() < (quadratic - stx).abs() {
            cubic
        } else {
            cubic + (quadratic - cubic) / 2.0
        }
    } else if sgnd < 0.0 {
        // Case 2: lower, derivatives of opposite sign. Bracketed; take the cubic step if it is
        // farther from stp than the secant step, else the secant step.
        let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        let s = theta.abs().max(dx.abs().max(dp.abs()));
        let mut gamma = s * ((theta / s) * (theta / s) - (dx / s) * (dp / s)).sqrt();
        if stp > stx {
            gamma = -gamma;
        }
        let p = (gamma - dp) + theta;
        let q = ((gamma - dp) + gamma) + dx;
        let cubic = stp + (p / q) * (stx - stp);
        let secant = stp + (dp / (dp - dx)) * (stx - stp);
        *bracketed = true;
        if (cubic - stp).abs() > (secant - stp).abs() {
            cubic
        } else {
            secant
        }
    } else if dp.abs() < dx.abs() {
        // Case 3: lower, same sign, the derivative's magnitude decreases. The cubic step only if
        // the cubic tends to infinity in the step's direction or its minimum lies beyond stp.
        let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        let s = theta.abs().max(dx.abs().max(dp.abs()));
        let mut gamma = s * (0f64.max((theta / s) * (theta / s) - (dx / s) * (dp / s))).sqrt();
        if stp > stx {
            gamma = -gamma;
        }
        let p = (gamma - dp) + theta;
        let q = (gamma + (dx - dp)) + gamma;
        let r = p / q;
        let cubic = if r < 0.0 && gamma != 0.0 {
            stp + r * (stx - stp)
        } else if stp > stx {
            hi
        } else {
            lo
        };
        let secant = stp + (dp / (dp - dx)) * (stx - stp);
        if *bracketed {
            // Closer of the two, but no further than 0.66 of the way to sty.
            let step = if (cubic - stp).abs() < (secant - stp).abs() {
                cubic
            } else {
                secant
            };
            let limit = stp + SHRINK * (other.stp - stp);
            if stp > stx {
                limit.min(step)
            } else {
                limit.max(step)
            }
        } else {
            let step = if (cubic - stp).abs() > (secant - stp).abs() {
                cubic
            } else {
                secant
            };
            step.min(hi).max(lo)
        }
    } else if *bracketed {
        // Case 4: lower, same sign, the derivative's magnitude does not decrease; bracketed:
        // the cubic step between stp and sty.
        let (sty, fy, dy) = (other.stp, other.f, other.g);
        let theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
        let s = theta.abs().max(dy.abs().max(dp.abs()));
        let mut gamma = s * ((theta / s) * (theta / s) - (dy / s) * (dp / s)).sqrt();
        if stp > sty {
            gamma = -gamma;
        }
        let p = (gamma - dp) + theta;
        let q = ((gamma - dp) + gamma) + dy;
        stp + (p / q) * (sty - stp)
    } else if stp > stx {
        hi
    } else {
        lo
    };

    // The new interval.
    if fp > fx {
        *other = t;
    } else {
        if sgnd < 0.0 {
            *other = *best;
        }
        *best = t;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a search on `phi` (value and derivative along the line) from `stp`, returning every
    /// trial step and the outcome.
    fn search(phi: impl Fn(f64) -> (f64, f64), stp: f64, stpmax: f64) -> (Vec<f64>, Next) {
        let (f0, g0) = phi(0.0);
        let (mut ls, mut stp) = MoreThuente::start(f0, g0, stp, 0.0, stpmax).unwrap();
        let mut trials = Vec::new();
        loop {
            trials.push(stp);
            let (f, g) = phi(stp);
            match ls.step(stp, f, g) {
                Next::Evaluate(next) => stp = next,
                done => return (trials, done),
            }
            assert!(trials.len() < 100, "the search does not end");
        }
    }

    #[test]
    fn a_step_meeting_both_conditions_is_accepted_at_once() {
        // phi(a) = (a - 1)^2: a = 1 is the minimiser.
        let (trials, outcome) = search(|a| ((a - 1.0).powi(2), 2.0 * (a - 1.0)), 1.0, 1e10);
        assert_eq!(trials, vec![1.0]);
        assert_eq!(outcome, Next::Converged);
    }

    #[test]
    fn too_long_a_step_is_brought_back_and_the_result_meets_the_wolfe_conditions() {
        let phi = |a: f64| {
            (
                (a - 1.0).powi(2) + 0.1 * a.powi(4),
                2.0 * (a - 1.0) + 0.4 * a.powi(3),
            )
        };
        let (trials, outcome) = search(phi, 40.0, 1e10);
        assert_eq!(outcome, Next::Converged);
        let a = *trials.last().unwrap();
        let (f0, g0) = phi(0.0);
        let (f, g) = phi(a);
        assert!(f <= f0 + FTOL * a * g0);
        assert!(g.abs() <= GTOL * g0.abs());
        assert!(trials.len() > 1);
        // Every trial after the first lies strictly inside the bracket [0, 40].
        assert!(trials[1..].iter().all(|&t| t > 0.0 && t < 40.0));
    }

    #[test]
    fn too_short_a_step_is_extrapolated_by_at_most_four_times_the_move() {
        let phi = |a: f64| ((a - 100.0).powi(2), 2.0 * (a - 100.0));
        let (trials, outcome) = search(phi, 1.0, 1e10);
        assert_eq!(outcome, Next::Converged);
        for pair in trials.windows(2) {
            assert!(pair[1] > pair[0] && pair[1] <= pair[0] + EXTRAPOLATE_MAX * pair[0] + 1e-9);
        }
    }

    #[test]
    fn a_step_at_stpmax_that_still_decreases_is_a_warning() {
        let (trials, outcome) = search(|a| (-a, -1.0), 1.0, 10.0);
        assert_eq!(outcome, Next::Warning(Warning::AtMax));
        assert_eq!(*trials.last().unwrap(), 10.0);
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(
            MoreThuente::start(0.0, 1.0, 1.0, 0.0, 10.0).unwrap_err(),
            InputError::NotDescent
        );
        assert_eq!(
            MoreThuente::start(0.0, -1.0, 11.0, 0.0, 10.0).unwrap_err(),
            InputError::StepOutOfRange
        );
    }
}
