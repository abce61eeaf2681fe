//! `runs/<run_id>/examples.gif` and its contact sheet `examples.png`, for each reference run when
//! `[output] animation = true`: [`FRAMES`] test images drawn at random, one per frame, each beside
//! its ten class probabilities with the true and predicted digit in the title (green when right,
//! red when wrong), as notebook C renders its examples into a video. The images are the rows
//! `np.random.RandomState(random_state).permutation(n_test)[:60]` of the run's `predictions.csv`
//! (the split's seed), so the frames are the same on every redraw.
//!
//! May touch: `charts`, `error`, `split` (the seeded permutation), `store`, `tables`,
//! `report::{Figure, figure, run_charts}`.

use ndarray::Array2;

use super::{figure, run_charts, Figure};
use crate::charts::{probability_animation, probability_panels, Panel, Title};
use crate::error::Result;
use crate::store::{ResultsDir, RunResult};

/// Frames of the animation (notebook C renders 60 examples).
pub(super) const FRAMES: usize = 60;
/// Seconds each frame shows.
const SECONDS_PER_FRAME: f64 = 1.0;
const GIF: &str = "examples.gif";
const SHEET: &str = "examples.png";

/// Draws the animation and the contact sheet of run `r`; returns them in README order.
pub(super) fn draw(dir: &ResultsDir, r: &RunResult, images: &Array2<u8>) -> Result<Vec<Figure>> {
    let path = dir.predictions_csv(&r.run.id);
    let rows: Vec<crate::store::ProbabilityRow> = crate::tables::read(
        dir,
        &path,
        "[output] animation draws from it: rerun the sweep with [output] predictions = true",
    )?;
    let order = crate::split::permutation(rows.len(), r.run.params.split.random_state);
    let panels = order
        .iter()
        .take(FRAMES)
        .map(|&i| {
            let row = &rows[i];
            Ok(Panel {
                pixels: run_charts::pixels(images, row.index, &path)?,
                label: Some(row.label),
                name: None,
                probabilities: row.probabilities().to_vec(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let lines = vec![
        r.run.params.describe(),
        super::split_text(r),
        format!(
            "{} test images drawn at random (RandomState({}).permutation of the test rows); predicted digit in green (right) or red (wrong), true digit outlined",
            panels.len(),
            r.run.params.split.random_state
        ),
    ];
    let id = &r.run.id;
    let heading = format!(
        "{} random test images, one per frame, with their class probabilities",
        panels.len()
    );
    let title = Title {
        title: &heading,
        lines: &lines,
    };
    let gif = figure(dir, format!("runs/{id}/{GIF}"), heading.clone(), |path| {
        probability_animation(path, &title, &panels, SECONDS_PER_FRAME)
    })?;
    let sheet_heading = format!("The same {} images at once (contact sheet)", panels.len());
    let sheet_title = Title {
        title: &sheet_heading,
        lines: &lines,
    };
    let sheet = figure(
        dir,
        format!("runs/{id}/{SHEET}"),
        sheet_heading.clone(),
        |path| probability_panels(path, &sheet_title, &panels),
    )?;
    Ok(vec![gif, sheet])
}

/// Removes a run's animation and contact sheet (the config no longer asks for them).
pub(super) fn remove(dir: &ResultsDir, run_id: &str) -> Result<()> {
    for file in [GIF, SHEET] {
        dir.remove(&dir.run_dir(run_id).join(file))?;
    }
    Ok(())
}
