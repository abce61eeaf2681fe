//! `predict MODEL IMAGE... [--raw] [--chart FILE] [--animation FILE] [--json] [--save-prepared DIR]`: a saved
//! model's prediction for each image, one line each (a JSON object each with --json).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mnist_logreg::{cli, predict};

/// Predict the digit in each IMAGE with a model saved by `sweep`: prints one line per image with
/// the predicted digit and the three most probable digits. Images are brought to MNIST form first
/// (grey, inverted if the ink is dark, cropped to the ink, scaled into 20x20, centred by mass in
/// 28x28) unless --raw is given.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// A sweep's results folder (results/<name>/: its reference run, the one cross-validation
    /// chose, else the base configuration; it says which), a run folder
    /// (results/<name>/runs/<run_id>/) or its model.npz.
    model: PathBuf,
    /// Images of one digit each: PNG, JPEG, GIF, BMP, TIFF, PNM or WebP.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Take the images as they are: 28x28, light ink on black, like MNIST's own.
    #[arg(long)]
    raw: bool,
    /// Also draw each image as the model sees it next to its ten probabilities (a .png file; at
    /// most 40 images).
    #[arg(long, value_name = "FILE.png", value_parser = png_path)]
    chart: Option<PathBuf>,
    /// Also write the same panels as an animated GIF, one image per second (at most 40 images).
    #[arg(long, value_name = "FILE.gif", value_parser = gif_path)]
    animation: Option<PathBuf>,
    /// Each image's true digit is the last character of its file name (paper-7.png: 7): the
    /// chart colours each prediction right (green) or wrong (red), and the closing line counts
    /// them.
    #[arg(long)]
    truth_from_names: bool,
    /// Print one JSON object per image instead of a line of text: the image, the prepared
    /// image's path (with --save-prepared), the digit, every digit's probability, the warnings.
    #[arg(long)]
    json: bool,
    /// Save each image as the model sees it (28x28, light ink on black, as MNIST's own) in DIR,
    /// as <n>-<name>.png.
    #[arg(long, value_name = "DIR")]
    save_prepared: Option<PathBuf>,
}

fn png_path(s: &str) -> Result<PathBuf, String> {
    ending_in(s, "png", "the chart is a PNG")
}

fn gif_path(s: &str) -> Result<PathBuf, String> {
    ending_in(s, "gif", "the animation is a GIF")
}

/// `s` as a path when its extension is `ext` (any case), else an error that says so.
fn ending_in(s: &str, ext: &str, what: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    match path.extension() {
        Some(e) if e.eq_ignore_ascii_case(ext) => Ok(path),
        _ => Err(format!("{s}: {what}: give a file name ending in .{ext}")),
    }
}

fn main() -> ExitCode {
    let args: Args = match cli::parse("predict") {
        Ok(args) => args,
        Err(code) => return code,
    };
    for (flag, asked) in [
        ("--chart", args.chart.is_some()),
        ("--animation", args.animation.is_some()),
    ] {
        if asked && args.images.len() > predict::MAX_CHART_IMAGES {
            eprintln!(
                "error: {flag} draws at most {} images, and {} were given: draw fewer, or drop {flag}",
                predict::MAX_CHART_IMAGES,
                args.images.len()
            );
            return ExitCode::from(2);
        }
    }
    let (model_path, model) = match predict::load_model(&args.model) {
        Ok((path, model, why)) => {
            if let Some(why) = why {
                eprintln!("model: {} ({why})", path.display());
            }
            (path, model)
        }
        Err(e) => return cli::fail(&e),
    };
    // Every image is read before anything is printed or drawn, so that each bad one gets its
    // line and a chart is drawn only when every image could be read.
    let mut prepared = Vec::new();
    let mut warnings = Vec::new();
    let mut failures = Vec::new();
    for image in &args.images {
        match predict::prepare(image, args.raw) {
            Ok((pixels, warning)) => {
                if let Some(warning) = &warning {
                    eprintln!(
                        "warning: {}: {warning}",
                        mnist_logreg::text::escaped(&image.display().to_string())
                    );
                }
                prepared.push((image.clone(), pixels));
                warnings.push(warning.into_iter().collect::<Vec<String>>());
            }
            Err(e) => failures.push(e),
        }
    }
    let predictions = match predict::score(&model_path, &model, prepared) {
        Ok(predictions) => predictions,
        Err(e) => return cli::fail(&e),
    };
    let saved = match &args.save_prepared {
        Some(dir) => match predict::save_prepared(dir, &predictions) {
            Ok(paths) => paths.into_iter().map(Some).collect(),
            Err(e) => return cli::fail(&e),
        },
        None => vec![None; predictions.len()],
    };
    for ((p, saved), warnings) in predictions.iter().zip(&saved).zip(&warnings) {
        if args.json {
            println!("{}", p.json(saved.as_deref(), warnings));
        } else {
            println!("{}", p.line());
        }
    }
    if let Some(first) = failures.first() {
        for e in &failures {
            eprintln!("error: {}", e.one_line());
        }
        if args.chart.is_some() || args.animation.is_some() {
            eprintln!("error: no chart drawn: fix or drop the images above");
        }
        return ExitCode::from(first.exit_code() as u8);
    }
    let truth = match args.truth_from_names {
        true => match predictions
            .iter()
            .map(|p| predict::truth_from_name(&p.image))
            .collect::<Result<Vec<u8>, _>>()
        {
            Ok(truth) => {
                let right = predictions
                    .iter()
                    .zip(&truth)
                    .filter(|(p, t)| p.digit() == i64::from(**t))
                    .count();
                eprintln!(
                    "{right} of {} right (true digits from the file names)",
                    truth.len()
                );
                Some(truth)
            }
            Err(e) => return cli::fail(&e),
        },
        false => None,
    };
    for (chart, animated) in [(&args.chart, false), (&args.animation, true)] {
        let Some(chart) = chart else { continue };
        if let Err(e) = predict::chart(
            chart,
            &model_path,
            &model,
            &predictions,
            truth.as_deref(),
            args.raw,
            animated,
        ) {
            return cli::fail(&e);
        }
        // On stderr, so that stdout stays one line per image.
        eprintln!(
            "{}: {}",
            if animated { "animation" } else { "chart" },
            chart.display()
        );
    }
    ExitCode::SUCCESS
}
