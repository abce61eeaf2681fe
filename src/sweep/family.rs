//! One fit for a family of runs (the same settings but `max_iter`): the engine keeps the model
//! after each run's iteration count, so the family costs one fit of its longest run. Shared by
//! the runs' own fits (`execute`) and cross-validation's fold fits (`cv`).
//!
//! May touch: `config`, `error`, `model`, `preprocessing`.

use crate::config::Run;
use crate::error::{Error, Result};
use crate::model::{self, Float};
use crate::preprocessing::PreparedData;

/// One fit for a family of runs (they differ only in max_iter): an outcome per run, in order.
pub(super) fn fit_family<F: Float>(
    family: &[&Run],
    data: &PreparedData<F>,
    observer: model::Observer,
) -> Result<Vec<model::FitOutcome>> {
    let first = &family[0];
    let params = first
        .params
        .model
        .check()
        .map_err(|e| Error::fit(&first.id, e))?;
    let max_iters: Vec<u64> = family.iter().map(|r| r.params.model.max_iter).collect();
    model::fit_max_iters(&data.x_fit, &data.y_train, &params, &max_iters, observer)
        .map_err(|e| Error::fit(&first.id, e))
}
