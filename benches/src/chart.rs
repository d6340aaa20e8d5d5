//! The README's charts, one SVG per table, drawn with plotters' SVG backend
//! (no font files: the viewer renders the text). Each value is the median
//! of the rounds, with a bar from the lowest to the highest round so the
//! noise is in the picture too.

use std::error::Error;
use std::path::Path;

use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::prelude::*;

/// A figure over several rounds: their median, lowest and highest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The median of the rounds.
    pub median: f64,
    /// The lowest round.
    pub min: f64,
    /// The highest round.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (`None` when there are none).
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }

    /// Each figure transformed by `f`, which keeps order (a positive scale,
    /// or the reciprocal with min and max swapped by the caller).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Self {
        let (a, b) = (f(self.min), f(self.max));
        Self {
            median: f(self.median),
            min: a.min(b),
            max: a.max(b),
        }
    }
}

const WIDTH: u32 = 1280;
const FONT: &str = "sans-serif";
/// The categorical axis in integer steps (plotters formats integer axes
/// with key points of our choosing, not float ones): a group is this wide.
const STEP: i32 = 1000;

/// The position of category `i`.
fn at(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX / STEP) * STEP
}

/// The category at position `x`.
fn category(x: i32) -> usize {
    usize::try_from((x + STEP / 2).div_euclid(STEP)).unwrap_or(usize::MAX)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// The chart's area and, below it, a line for the caption.
fn with_footer<'a>(root: &Area<'a>) -> (Area<'a>, Area<'a>) {
    let height = i32::try_from(root.dim_in_pixel().1).unwrap_or(i32::MAX);
    root.split_vertically(height - 28)
}

/// A grouped bar chart: `groups` along the x axis, one bar per series in
/// each, on a logarithmic y axis; `values[group][series]`.
pub fn grouped_bars(
    path: &Path,
    title: &str,
    caption: &str,
    y_desc: &str,
    groups: &[String],
    series: &[&str],
    values: &[Vec<Option<Spread>>],
) -> Result<(), Box<dyn Error>> {
    let positive = values
        .iter()
        .flatten()
        .flatten()
        .map(|s| s.min)
        .filter(|v| *v > 0.0);
    let low = positive.clone().fold(f64::INFINITY, f64::min);
    let high = values
        .iter()
        .flatten()
        .flatten()
        .map(|s| s.max)
        .fold(0.0, f64::max);
    if !low.is_finite() || high <= 0.0 {
        return Err("nothing to draw".into());
    }
    // A decade of room above the tallest bar for the legend.
    let (low, high) = (low / 2.0, high * 10.0);
    let width = WIDTH.max(120 * u32::try_from(groups.len()).unwrap_or(u32::MAX / 120));
    let root = SVGBackend::new(path, (width, 620)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 22))?;
    let (root, footer) = with_footer(&root);
    footer.draw_text(caption, &(FONT, 13).into_text_style(&footer), (10, 8))?;
    let centres: Vec<i32> = (0..groups.len()).map(at).collect();
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (-STEP / 2..at(groups.len()) - STEP / 2).with_key_points(centres),
            (low..high).log_scale(),
        )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| groups.get(category(*x)).cloned().unwrap_or_default())
        .x_label_style((FONT, 12))
        .y_desc(y_desc)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    let width = STEP * 8 / 10 / i32::try_from(series.len().max(1)).unwrap_or(1);
    for (s, name) in series.iter().enumerate() {
        let colour = Palette99::pick(s).mix(0.9);
        let bars = values.iter().enumerate().filter_map(|(g, row)| {
            let spread = row.get(s).copied().flatten()?;
            let left = at(g) - STEP * 4 / 10 + i32::try_from(s).ok()? * width;
            Some((left, spread))
        });
        let bars: Vec<(i32, Spread)> = bars.collect();
        chart
            .draw_series(bars.iter().map(|&(left, spread)| {
                Rectangle::new(
                    [(left, low), (left + width, spread.median)],
                    colour.filled(),
                )
            }))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
        chart.draw_series(bars.iter().map(|&(left, spread)| {
            ErrorBar::new_vertical(
                left + width / 2,
                spread.min,
                spread.median,
                spread.max,
                BLACK.stroke_width(1),
                4,
            )
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()?;
    root.present()?;
    Ok(())
}

/// A horizontal bar per row: the measured value divided by its goal, so
/// that a bar past the line at 1 meets it; a logarithmic x axis.
pub fn goals(
    path: &Path,
    title: &str,
    caption: &str,
    rows: &[(String, Option<Spread>)],
) -> Result<(), Box<dyn Error>> {
    let values = rows.iter().filter_map(|(_, s)| *s);
    let low = values.clone().map(|s| s.min).fold(1.0, f64::min) / 1.5;
    let high = values.map(|s| s.max).fold(1.0, f64::max) * 1.5;
    let height = 120 + 22 * rows.len() as u32;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT, 22))?;
    let (root, footer) = with_footer(&root);
    footer.draw_text(caption, &(FONT, 13).into_text_style(&footer), (10, 8))?;
    let keys: Vec<i32> = (0..rows.len()).map(at).collect();
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(430)
        .build_cartesian_2d(
            (low..high).log_scale(),
            (-STEP / 2..at(rows.len()) - STEP / 2).with_key_points(keys),
        )?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_label_formatter(&|y| {
            // The first row at the top.
            let row = rows.len().checked_sub(1 + category(*y));
            row.and_then(|r| rows.get(r))
                .map(|(name, _)| name.clone())
                .unwrap_or_default()
        })
        .y_label_style((FONT, 12))
        .x_desc("measured ÷ goal (1 = the goal; right of the line: met)")
        .x_labels(8)
        .x_label_formatter(&|x| format!("{x:.2}"))
        .draw()?;
    for (r, (_, spread)) in rows.iter().enumerate() {
        let Some(spread) = *spread else { continue };
        let y = at(rows.len() - 1 - r);
        let colour = if spread.median >= 1.0 { GREEN } else { RED };
        chart.draw_series([Rectangle::new(
            [
                (low, y - STEP * 35 / 100),
                (spread.median, y + STEP * 35 / 100),
            ],
            colour.mix(0.6).filled(),
        )])?;
        chart.draw_series([ErrorBar::new_horizontal(
            y,
            spread.min,
            spread.median,
            spread.max,
            BLACK.stroke_width(1),
            6,
        )])?;
    }
    chart.draw_series(LineSeries::new(
        [(1.0, -STEP / 2), (1.0, at(rows.len()) - STEP / 2)],
        BLACK.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn spreads_take_the_median_of_the_rounds() {
        let s = Spread::of(&[3.0, 1.0, 2.0, 10.0, 4.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 10.0));
        assert_eq!(Spread::of(&[1.0, 2.0]).unwrap().median, 1.5);
        assert_eq!(Spread::of(&[]), None);
        let inverse = s.map(|v| 1.0 / v);
        assert_eq!((inverse.min, inverse.max), (0.1, 1.0));
    }
}
