//! The optimisers: scipy's L-BFGS-B without bounds (`lbfgsb.rs`) with Moré and Thuente's line
//! search (`line_search.rs`), and gradient descent with a fixed step (`gd.rs`), on plain `f64`
//! slices. Nothing here knows about logistic
//! regression: the fit hands over the objective as a closure.

pub(crate) mod gd;
pub(crate) mod lbfgsb;
pub(crate) mod line_search;
