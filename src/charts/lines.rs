//! Line charts with markers, optional log axes, reference lines and a legend beside the plot.
//!
//! May touch: `error`.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{canvas, chart_error, Title, FONT};
use crate::error::Result;

/// One line of a [`LineChart`].
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub style: Style,
    /// (x, y) points; drawn in x order.
    pub points: Vec<(f64, f64)>,
    /// Per point (same order as `points`): the (low, high) ends of an error bar, or none.
    pub errors: Vec<(f64, f64)>,
    /// Per point (same order as `points`), or none: points ringed in magenta (e.g. runs that did
    /// not converge); the legend says what the ring means (`LineChart::ring_label`).
    pub ringed: Vec<bool>,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Solid line, filled circles (e.g. test accuracy).
    Solid,
    /// Dashed line, hollow circles (e.g. training accuracy next to the solid test line).
    Dashed,
    /// Dotted line, filled squares (e.g. cross-validation scores).
    Dotted,
    /// Crosses on the points, no line: another side's numbers at the same x (e.g. scikit-learn's
    /// accuracy on the same test images), visible even where they coincide with a line.
    Crosses,
}

/// Where a legend label starts, and the margin it keeps from the image's right edge.
const LABEL_X: i32 = 70;
const LABEL_MARGIN: i32 = 12;

/// Draws a legend label at `y`, wrapped at spaces so that no line runs past the legend's right
/// edge (a word longer than the width is cut with an ellipsis); returns the height it took.
fn wrapped_label<DB: DrawingBackend>(
    legend: &DrawingArea<DB, plotters::coord::Shift>,
    path: &Path,
    label: &str,
    y: i32,
) -> Result<i32> {
    let font = (FONT, 18).into_font().color(&BLACK);
    let room = legend.dim_in_pixel().0 as i32 - LABEL_X - LABEL_MARGIN;
    let width = |s: &str| {
        legend
            .estimate_text_size(s, &font)
            .map(|(w, _)| w as i32)
            .unwrap_or(i32::MAX)
    };
    let mut lines = super::wrap_words(label, "", |s| width(s) <= room);
    for line in lines.iter_mut() {
        if width(line) > room {
            while width(&format!("{line}…")) > room && line.chars().count() > 1 {
                line.pop();
            }
            line.push('…');
        }
    }
    for (i, line) in lines.iter().enumerate() {
        legend
            .draw_text(line, &font, (LABEL_X, y - 9 + 22 * i as i32))
            .map_err(|e| chart_error(path, e))?;
    }
    Ok(32 + 22 * (lines.len() as i32 - 1))
}

/// The colour of the vertical marks (`LineChart::x_marks`).
const X_MARK: RGBColor = RGBColor(200, 150, 0);

/// The colour of the rings around flagged points: magenta, in no line's hue (the palette's red
/// marks a line).
const RING: RGBColor = RGBColor(200, 0, 200);

/// Series with more points than this are drawn without markers.
const MAX_MARKERS: usize = 40;

/// A line chart: the data and how to label it.
#[derive(Debug, Clone)]
pub struct LineChart {
    pub x_label: String,
    pub y_label: String,
    /// Logarithmic x axis (all x must be positive).
    pub x_log: bool,
    /// Logarithmic y axis (all y must be positive).
    pub y_log: bool,
    pub series: Vec<Series>,
    /// Horizontal dashed lines at y with a label (e.g. the tolerance).
    pub reference_lines: Vec<(f64, String)>,
    /// How y tick values are written.
    pub y_format: fn(f64) -> String,
    /// The y axis starts at 0 (for amounts such as seconds), not at the smallest value.
    pub y_from_zero: bool,
    /// What a red ring around a point means, for the legend (when any point is ringed).
    pub ring_label: String,
    /// Vertical lines at x with a legend label (e.g. the setting cross-validation chose).
    pub x_marks: Vec<(f64, String)>,
    /// The y axis starts here (linear axes only): points below it are drawn on it as "▼ value"
    /// in their line's colour, so that a few far-off points do not squash the rest.
    pub y_floor: Option<f64>,
}

impl Default for LineChart {
    /// No series, linear axes without descriptions, y ticks written [`compact`]ly.
    fn default() -> Self {
        LineChart {
            x_label: String::new(),
            y_label: String::new(),
            x_log: false,
            y_log: false,
            series: Vec::new(),
            reference_lines: Vec::new(),
            y_format: compact,
            y_from_zero: false,
            ring_label: String::new(),
            x_marks: Vec::new(),
            y_floor: None,
        }
    }
}

impl Default for Series {
    /// An empty solid black line without error bars or rings.
    fn default() -> Self {
        Series {
            label: String::new(),
            color: BLACK,
            style: Style::Solid,
            points: Vec::new(),
            errors: Vec::new(),
            ringed: Vec::new(),
        }
    }
}

/// A tick or label value, short: `0.915`, `40k`, `1e-5`; the default y tick format.
pub fn compact(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        format!("{v:.0e}")
    } else if v.abs() >= 10_000.0 && (v / 1000.0).fract() == 0.0 {
        format!("{}k", v / 1000.0)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The plotted range of `values` (in axis units), padded by 8 % on each side.
fn padded(values: impl Iterator<Item = f64>, min_span: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if hi - lo < min_span {
        let mid = (lo + hi) / 2.0;
        (mid - min_span / 2.0, mid + min_span / 2.0)
    } else {
        (lo, hi)
    };
    let pad = (hi - lo) * 0.08;
    (lo - pad, hi + pad)
}

/// A log axis spanning fewer decades than this gets labels between the powers of ten.
const SHORT_LOG_SPAN: f64 = 2.0;

/// Tick label for a log axis at `v` = log10(value) on an axis spanning `span` decades: whole
/// powers of ten, and on a short axis the values between them (two significant digits), so that
/// every log axis carries at least three labelled ticks.
fn log_label(v: f64, span: f64) -> String {
    if (v - v.round()).abs() <= 1e-6 {
        return compact(10f64.powi(v.round() as i32));
    }
    if span < SHORT_LOG_SPAN {
        let value = 10f64.powf(v);
        let digits = (1 - value.log10().floor() as i32).max(0) as usize;
        return format!("{value:.digits$}");
    }
    String::new()
}

/// How many labels plotters places on a log10 range: one per power of ten, or more on a short
/// axis.
fn log_labels(lo: f64, hi: f64) -> usize {
    if hi - lo < SHORT_LOG_SPAN {
        6
    } else {
        ((hi.floor() - lo.ceil()) as usize + 1).max(2)
    }
}

/// The plotted ranges, in axis units (log10 of the values on a log axis).
struct Axes {
    x: (f64, f64),
    y: (f64, f64),
    x_log: bool,
    y_log: bool,
}

impl Axes {
    fn of(chart: &LineChart) -> Self {
        let (x_log, y_log) = (chart.x_log, chart.y_log);
        let ty = |v: f64| if y_log { v.log10() } else { v };
        let points = || chart.series.iter().flat_map(|s| s.points.iter());
        let x = padded(
            points().map(|p| if x_log { p.0.log10() } else { p.0 }),
            1e-9,
        );
        let bars = chart
            .series
            .iter()
            .flat_map(|s| s.errors.iter().flat_map(|e| [e.0, e.1]));
        let ys = points()
            .map(|p| ty(p.1))
            .chain(bars.map(ty))
            .chain(chart.reference_lines.iter().map(|r| ty(r.0)));
        let (y0, y1) = padded(ys, if y_log { 1.0 } else { 1e-9 });
        let y0 = if chart.y_from_zero && !y_log { 0.0 } else { y0 };
        Axes {
            x,
            y: (y0, y1),
            x_log,
            y_log,
        }
    }

    fn tx(&self, v: f64) -> f64 {
        if self.x_log {
            v.log10()
        } else {
            v
        }
    }

    fn ty(&self, v: f64) -> f64 {
        if self.y_log {
            v.log10()
        } else {
            v
        }
    }
}

type Plot<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws `chart` to `path` (1280 x 700 pixels plus the title block), with the legend in a
/// column on the right.
pub fn line_chart(path: &Path, title: &Title, chart: &LineChart) -> Result<Vec<u8>> {
    let (clamped, below) = clamp_below(chart);
    let chart = &clamped;
    let axes = Axes::of(chart);
    let height = 700 + title.height(1280);
    canvas(path, (1280, height), title, |area| {
        let (plot, legend) = area.split_horizontally(880);
        let mut ctx = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(axes.x.0..axes.x.1, axes.y.0..axes.y.1)
            .map_err(|e| chart_error(path, e))?;
        draw_mesh(&mut ctx, path, chart, &axes)?;
        draw_marks(&mut ctx, path, chart, &axes)?;
        // Reference marks (crosses) first, so that the data drawn after them stays visible.
        let order = chart
            .series
            .iter()
            .filter(|s| s.style == Style::Crosses)
            .chain(chart.series.iter().filter(|s| s.style != Style::Crosses));
        for s in order {
            draw_error_bars(&mut ctx, path, s, &axes)?;
            draw_series(&mut ctx, path, s, &axes)?;
        }
        // The values of the points below the floor, on a white ground, stacked upward where
        // they share an x.
        let mut stacked: Vec<(f64, i32)> = Vec::new();
        for (x, y, color, what) in &below {
            let level = match stacked.iter_mut().find(|(sx, _)| sx == x) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    stacked.push((*x, 0));
                    0
                }
            };
            let text = format!("▼ {what} {y:.1}");
            let width = 9 * text.chars().count() as i32;
            let top = -24 - 22 * level;
            let label = EmptyElement::at((axes.tx(*x), axes.y.0))
                + Rectangle::new([(6, top), (10 + width, top + 20)], WHITE.filled())
                + Text::new(text, (8, top + 1), (FONT, 16).into_font().color(color));
            ctx.draw_series(std::iter::once(label))
                .map_err(|e| chart_error(path, e))?;
        }
        draw_legend(&legend, path, chart)
    })
}

/// `chart` with every y below its floor (points and error bars) raised to the floor, and the
/// points that were below it: (x, their value, their colour, the first word of what their
/// series shows). Reference crosses are left out of the list (their line's point says it).
#[allow(clippy::type_complexity)]
fn clamp_below(chart: &LineChart) -> (LineChart, Vec<(f64, f64, RGBColor, String)>) {
    let mut clamped = chart.clone();
    let mut below = Vec::new();
    let Some(floor) = chart.y_floor.filter(|_| !chart.y_log) else {
        return (clamped, below);
    };
    for s in &mut clamped.series {
        for p in &mut s.points {
            if p.1 < floor {
                if s.style != Style::Crosses {
                    let what = s.label.rsplit(": ").next().unwrap_or_default();
                    let word = what.split(' ').next().unwrap_or_default().to_string();
                    below.push((p.0, p.1, s.color, word));
                }
                p.1 = floor;
            }
        }
        for e in &mut s.errors {
            e.0 = e.0.max(floor);
            e.1 = e.1.max(floor);
        }
    }
    (clamped, below)
}

/// The grid, the axes' ticks and their descriptions.
fn draw_mesh(ctx: &mut Plot, path: &Path, chart: &LineChart, axes: &Axes) -> Result<()> {
    let ((x0, x1), (y0, y1)) = (axes.x, axes.y);
    let y_format = chart.y_format;
    let x_fmt = |v: &f64| {
        if chart.x_log {
            log_label(*v, x1 - x0)
        } else {
            compact(*v)
        }
    };
    let y_fmt = |v: &f64| {
        if chart.y_log {
            log_label(*v, y1 - y0)
        } else {
            y_format(*v)
        }
    };
    ctx.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        // On a log axis, one grid line per power of ten (more on a short axis).
        .x_labels(if chart.x_log { log_labels(x0, x1) } else { 8 })
        .y_labels(if chart.y_log { log_labels(y0, y1) } else { 8 })
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FONT, 18))
        .axis_desc_style((FONT, 20))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(|e| chart_error(path, e))
}

/// The horizontal reference lines and the vertical marks.
fn draw_marks(ctx: &mut Plot, path: &Path, chart: &LineChart, axes: &Axes) -> Result<()> {
    let ((x0, x1), (y0, y1)) = (axes.x, axes.y);
    for (y, _) in &chart.reference_lines {
        let y = axes.ty(*y);
        ctx.draw_series(DashedLineSeries::new(
            [(x0, y), (x1, y)],
            8,
            6,
            BLACK.stroke_width(2),
        ))
        .map_err(|e| chart_error(path, e))?;
    }
    for (x, _) in &chart.x_marks {
        let x = axes.tx(*x);
        ctx.draw_series(DashedLineSeries::new(
            [(x, y0), (x, y1)],
            10,
            6,
            X_MARK.stroke_width(3),
        ))
        .map_err(|e| chart_error(path, e))?;
    }
    Ok(())
}

/// A series' error bars, with caps.
fn draw_error_bars(ctx: &mut Plot, path: &Path, s: &Series, axes: &Axes) -> Result<()> {
    for (&(x, _), &(low, high)) in s.points.iter().zip(&s.errors) {
        let cap = (axes.x.1 - axes.x.0) * 0.006;
        // Bars of another kind (CV spread, dotted) stand beside the test intervals.
        let dodge = if s.style == Style::Dotted {
            3.0 * cap
        } else {
            0.0
        };
        let (x, low, high) = (axes.tx(x) + dodge, axes.ty(low), axes.ty(high));
        let style = s.color.stroke_width(2);
        ctx.draw_series([
            PathElement::new(vec![(x, low), (x, high)], style),
            PathElement::new(vec![(x - cap, low), (x + cap, low)], style),
            PathElement::new(vec![(x - cap, high), (x + cap, high)], style),
        ])
        .map_err(|e| chart_error(path, e))?;
    }
    Ok(())
}

/// A series' rings, line and markers, in its style.
fn draw_series(ctx: &mut Plot, path: &Path, s: &Series, axes: &Axes) -> Result<()> {
    let err = |e| chart_error(path, e);
    let ringed = s
        .points
        .iter()
        .zip(&s.ringed)
        .filter(|(_, &r)| r)
        .map(|(&(x, y), _)| Circle::new((axes.tx(x), axes.ty(y)), 11, RING.stroke_width(2)));
    ctx.draw_series(ringed).map_err(err)?;
    let mut pts: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|&(x, y)| (axes.tx(x), axes.ty(y)))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let style = s.color.stroke_width(3);
    // Markers only where they can be told apart (not on per-iteration paths).
    let markers = &pts[..if pts.len() <= MAX_MARKERS {
        pts.len()
    } else {
        0
    }];
    match s.style {
        Style::Dotted => {
            ctx.draw_series(DashedLineSeries::new(pts.clone(), 4, 5, style))
                .map_err(err)?;
            ctx.draw_series(markers.iter().map(|&(x, y)| {
                EmptyElement::at((x, y)) + Rectangle::new([(-5, -5), (5, 5)], s.color.filled())
            }))
            .map_err(err)?;
        }
        Style::Dashed => {
            ctx.draw_series(DashedLineSeries::new(pts.clone(), 10, 6, style))
                .map_err(err)?;
            ctx.draw_series(
                markers
                    .iter()
                    .map(|&p| Circle::new(p, 6, s.color.stroke_width(2))),
            )
            .map_err(err)?;
        }
        Style::Solid => {
            ctx.draw_series(LineSeries::new(pts.clone(), style))
                .map_err(err)?;
            ctx.draw_series(markers.iter().map(|&p| Circle::new(p, 6, s.color.filled())))
                .map_err(err)?;
        }
        Style::Crosses => {
            ctx.draw_series(
                pts.iter()
                    .map(|&p| Cross::new(p, 9, s.color.stroke_width(2))),
            )
            .map_err(err)?;
        }
    }
    Ok(())
}

type Legend<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// The legend: one entry per series and reference line, then the marks and the ring, in a
/// column beside the plot; entries that do not fit are counted.
fn draw_legend(legend: &Legend, path: &Path, chart: &LineChart) -> Result<()> {
    let mut y = 40;
    let ringed = chart.series.iter().any(|s| s.ringed.iter().any(|&r| r));
    // Entries stop where the rest (marks, ring, the count of those left off) still fits.
    let last_y =
        legend.dim_in_pixel().1 as i32 - 50 * (chart.x_marks.len() as i32 + i32::from(ringed)) - 80;
    let series = legend_entries(&chart.series);
    let total = series.len() + chart.reference_lines.len();
    let entries = series
        .iter()
        .map(|(label, color, style)| (label.as_str(), *color, *style))
        .chain(
            chart
                .reference_lines
                .iter()
                .map(|r| (r.1.as_str(), BLACK, Style::Dashed)),
        );
    for (drawn, (label, color, style)) in entries.enumerate() {
        if y > last_y {
            let left = format!("and {} more (the README lists them)", total - drawn);
            y += wrapped_label(legend, path, &left, y)?;
            break;
        }
        legend_swatch(legend, color, style, y).map_err(|e| chart_error(path, e))?;
        y += wrapped_label(legend, path, label, y)?;
    }
    for (_, label) in &chart.x_marks {
        for x in [10, 30, 50] {
            legend
                .draw(&PathElement::new(
                    vec![(x + 5, y - 10), (x + 5, y + 10)],
                    X_MARK.stroke_width(3),
                ))
                .map_err(|e| chart_error(path, e))?;
        }
        y += wrapped_label(legend, path, label, y)?;
    }
    if ringed {
        legend
            .draw(&Circle::new((35, y), 11, RING.stroke_width(2)))
            .map_err(|e| chart_error(path, e))?;
        wrapped_label(legend, path, &chart.ring_label, y)?;
    }
    Ok(())
}

/// The legend's entries for `series`: one per series, or, where every label reads "line: what"
/// with one colour per line and one style per what (several lines, each drawn several ways),
/// one entry per line in its colour and one per what in black: 3 + 4 entries, not 12.
fn legend_entries(series: &[Series]) -> Vec<(String, RGBColor, Style)> {
    let one_each = || {
        series
            .iter()
            .map(|s| (s.label.clone(), s.color, s.style))
            .collect()
    };
    let parts: Option<Vec<(&str, &str)>> =
        series.iter().map(|s| s.label.rsplit_once(": ")).collect();
    let Some(parts) = parts else {
        return one_each();
    };
    let mut lines: Vec<(&str, RGBColor)> = Vec::new();
    let mut whats: Vec<(&str, Style)> = Vec::new();
    for (s, (line, what)) in series.iter().zip(&parts) {
        match lines.iter().find(|(l, _)| l == line) {
            Some((_, c)) if *c != s.color => return one_each(),
            Some(_) => {}
            None => lines.push((line, s.color)),
        }
        match whats.iter().find(|(w, _)| w == what) {
            Some((_, st)) if *st != s.style => return one_each(),
            Some(_) => {}
            None => whats.push((what, s.style)),
        }
    }
    if lines.len() < 2 || whats.len() < 2 || lines.len() + whats.len() >= series.len() {
        return one_each();
    }
    lines
        .into_iter()
        .map(|(l, c)| (l.to_string(), c, Style::Solid))
        .chain(whats.into_iter().map(|(w, st)| (w.to_string(), BLACK, st)))
        .collect()
}

/// A legend entry's sample of a series' style, at height `y`.
fn legend_swatch<'a>(
    legend: &Legend<'a>,
    color: RGBColor,
    style: Style,
    y: i32,
) -> std::result::Result<(), DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>>
{
    let stroke = color.stroke_width(3);
    let segment =
        |from: i32, to: i32| legend.draw(&PathElement::new(vec![(from, y), (to, y)], stroke));
    match style {
        Style::Crosses => legend.draw(&Cross::new((35, y), 9, color.stroke_width(2))),
        Style::Dotted => (10..60).step_by(9).try_for_each(|x| segment(x, x + 4)),
        Style::Dashed => segment(10, 22)
            .and_then(|_| segment(30, 42))
            .and_then(|_| segment(50, 60)),
        Style::Solid => segment(10, 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::fixture::inspect;

    /// A legend label far longer than the legend is wrapped: nothing is drawn in the image's last
    /// columns, and the label's lines stack below each other.
    #[test]
    fn long_legend_labels_are_wrapped_not_clipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("legend.png");
        let long = "multi_class=multinomial, C=0.0001, scaler=min_max, dtype=f32, train_size=0.8, test_size=0.2, random_state=12345: 5-fold CV (mean ± sd)";
        let chart = LineChart {
            ring_label: "did not converge (max_iter reached), and a long explanation after it"
                .into(),
            x_marks: vec![(1.0, format!("chosen by 5-fold CV: {long}"))],
            x_label: "C".into(),
            y_label: "accuracy".into(),
            series: vec![Series {
                ringed: vec![true, false],
                errors: Vec::new(),
                style: Style::Solid,
                label: long.into(),
                color: crate::charts::PALETTE[0],
                points: vec![(1.0, 0.9), (2.0, 0.91)],
            }],
            ..Default::default()
        };
        let title = Title {
            title: "t",
            lines: &[],
        };
        std::fs::write(&path, line_chart(&path, &title, &chart).unwrap()).unwrap();
        let image = image::open(&path).unwrap().to_rgb8();
        let (w, h) = image.dimensions();
        let right_edge_ink = (w - 8..w)
            .flat_map(|x| (0..h).map(move |y| (x, y)))
            .filter(|&(x, y)| image.get_pixel(x, y).0 != [255, 255, 255])
            .count();
        assert_eq!(right_edge_ink, 0, "a legend label reaches the right edge");
        // The wrapped label takes several lines in the legend column.
        let legend_rows = (0..h)
            .filter(|&y| (950..w - 8).any(|x| image.get_pixel(x, y).0 != [255, 255, 255]))
            .count();
        assert!(legend_rows > 100, "{legend_rows} rows of legend text");
    }

    /// 10,000 lines (the largest grid a config may have) and a title of 10,000 lines: drawn
    /// without panicking, within the canvas limit, the legend and title cut to what fits.
    #[test]
    fn ten_thousand_lines_stay_within_the_canvas() {
        let series: Vec<Series> = (0..10_000)
            .map(|i| Series {
                ringed: vec![false, true],
                label: format!("C={i}"),
                color: crate::charts::PALETTE[i % 10],
                points: vec![(1.0, 0.5), (2.0, 0.6 + (i % 7) as f64 * 0.01)],
                ..Default::default()
            })
            .collect();
        let chart = LineChart {
            ring_label: "did not converge".into(),
            x_label: "max_iter".into(),
            y_label: "accuracy".into(),
            series,
            ..Default::default()
        };
        let lines: Vec<String> = (0..10_000)
            .map(|i| format!("line {i} of the title"))
            .collect();
        let title = Title {
            title: "t",
            lines: &lines,
        };
        let png = line_chart(Path::new("big.png"), &title, &chart).unwrap();
        let image = image::load_from_memory(&png).unwrap();
        assert!(image.width() <= crate::charts::MAX_CANVAS.0);
        assert!(image.height() <= crate::charts::MAX_CANVAS.1);
        assert!(png.len() < 2 << 20, "{} bytes", png.len());
    }

    #[test]
    fn log_axes_and_reference_lines_render() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.png");
        let chart = LineChart {
            x_label: "C".into(),
            y_label: "max |gradient|".into(),
            x_log: true,
            y_log: true,
            series: vec![
                Series {
                    ringed: Vec::new(),
                    errors: Vec::new(),
                    style: Style::Solid,
                    label: "test".into(),
                    color: crate::charts::PALETTE[0],
                    points: vec![(0.01, 1e-2), (1.0, 1e-3), (100.0, 2e-5)],
                },
                Series {
                    ringed: Vec::new(),
                    errors: Vec::new(),
                    style: Style::Dashed,
                    label: "train".into(),
                    color: crate::charts::PALETTE[1],
                    points: vec![(0.01, 2e-2), (100.0, 3e-5)],
                },
            ],
            reference_lines: vec![(1e-4, "tol = 1e-4".into())],
            ..Default::default()
        };
        std::fs::write(
            &path,
            line_chart(
                &path,
                &Title {
                    title: "t",
                    lines: &[],
                },
                &chart,
            )
            .unwrap(),
        )
        .unwrap();
        let (w, _, colours) = inspect(&path);
        assert_eq!(w, 1280);
        assert!(colours > 10);
    }

    #[test]
    fn crosses_mark_the_points_without_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let colour = RGBColor(230, 85, 13);
        let pixels_of = |style: Style| {
            let path = dir.path().join(format!("{style:?}.png"));
            let chart = LineChart {
                x_label: "C".into(),
                y_label: "accuracy".into(),
                series: vec![Series {
                    ringed: Vec::new(),
                    errors: Vec::new(),
                    style,
                    label: "scikit-learn".into(),
                    color: colour,
                    points: vec![(0.0, 0.0), (10.0, 10.0)],
                }],
                ..Default::default()
            };
            let title = Title {
                title: "t",
                lines: &[],
            };
            std::fs::write(&path, line_chart(&path, &title, &chart).unwrap()).unwrap();
            image::open(&path)
                .unwrap()
                .to_rgb8()
                .pixels()
                .filter(|p| p.0 == [colour.0, colour.1, colour.2])
                .count()
        };
        let (crosses, solid) = (pixels_of(Style::Crosses), pixels_of(Style::Solid));
        assert!(crosses > 0, "the crosses are drawn");
        assert!(
            crosses * 2 < solid,
            "no line between the crosses: {crosses} pixels against {solid} with a line"
        );
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(log_label(-2.0, 5.0), "0.01");
        assert_eq!(log_label(2.0, 5.0), "100");
        assert_eq!(log_label(-5.0, 5.0), "1e-5");
        // Between powers of ten: only on a short axis.
        assert_eq!(log_label(0.5, 5.0), "");
        assert_eq!(log_label(-0.6, 1.0), "0.25");
        assert_eq!(log_label(0.5, 1.0), "3.2");
        assert_eq!(compact(40000.0), "40k");
        assert_eq!(compact(0.915), "0.915");
        assert_eq!(compact(100.0), "100");
    }
}
