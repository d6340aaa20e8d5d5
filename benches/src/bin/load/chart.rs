//! The report as an SVG chart (plotters): one panel per group of figures,
//! a bar per hub at its median with a line from its min to its max, and
//! our goal as a red mark where there is one.

use std::path::Path;

use plotters::prelude::*;

use crate::hubs::HubKind;
use crate::report::{Report, Row};

const PANEL: (u32, u32) = (560, 340);

fn color(hub: HubKind) -> RGBColor {
    match hub {
        HubKind::Ours => RGBColor(0x1f, 0x77, 0xb4),
        HubKind::Nchan => RGBColor(0x2c, 0xa0, 0x2c),
        HubKind::Node => RGBColor(0xff, 0x7f, 0x0e),
        HubKind::FloorVec => RGBColor(0x7f, 0x7f, 0x7f),
        HubKind::FloorTask => RGBColor(0x94, 0x67, 0xbd),
        HubKind::FloorHyper => RGBColor(0x8c, 0x56, 0x4b),
    }
}

/// The rows of each panel, in the order the panels first appear.
fn panels(report: &Report) -> Vec<(String, bool, Vec<&Row>)> {
    let mut panels: Vec<(String, bool, Vec<&Row>)> = Vec::new();
    for row in &report.rows {
        let Some((title, log)) = &row.spec.panel else {
            continue;
        };
        match panels.iter_mut().find(|(t, _, _)| t == title) {
            Some((_, _, rows)) => rows.push(row),
            None => panels.push((title.clone(), *log, vec![row])),
        }
    }
    panels
}

/// Writes the chart; nothing when no figure has a panel.
pub(crate) fn write_svg(report: &Report, title: &str, path: &Path) -> Result<(), String> {
    let panels = panels(report);
    if panels.is_empty() {
        return Ok(());
    }
    let columns = panels.len().min(2);
    let rows = panels.len().div_ceil(columns);
    // One panel alone gets the width of the title.
    let width = if columns == 1 { 760 } else { PANEL.0 * 2 };
    let size = (width, PANEL.1 * rows as u32 + 40);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(title, ("sans-serif", 17))
        .map_err(|e| e.to_string())?;
    let areas = root.split_evenly((rows, columns));
    for (area, (title, log, rows)) in areas.iter().zip(&panels) {
        draw_panel(area, report, title, *log, rows).map_err(|e| format!("chart: {e}"))?;
    }
    root.present().map_err(|e| e.to_string())
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw_panel(
    area: &Area<'_>,
    report: &Report,
    title: &str,
    log: bool,
    rows: &[&Row],
) -> Result<(), Box<dyn std::error::Error>> {
    let hubs: Vec<HubKind> = report
        .present_hubs()
        .into_iter()
        .filter(|hub| rows.iter().any(|row| row.values.contains_key(hub)))
        .collect();
    // A panel exists because a row named it: never empty.
    let unit = rows[0].spec.unit;
    // Values as drawn: in the row's unit, as log10 on a log axis.
    let shown = |value: f64| {
        let value = unit.scaled(value);
        if log { value.max(1e-3).log10() } else { value }
    };
    let mut top = f64::MIN;
    let mut bottom = f64::MAX;
    for row in rows {
        for hub in &hubs {
            if let Some(s) = row.spread(*hub) {
                top = top.max(shown(s.max));
                bottom = bottom.min(shown(s.min));
            }
        }
        if let Some((Some(goal), _)) = report.verdict(row) {
            top = top.max(shown(goal));
            bottom = bottom.min(shown(goal));
        }
    }
    if top == f64::MIN {
        return Ok(());
    }
    // Room at the top for the legend.
    let (low, high) = if log {
        (bottom.floor(), (top + 0.7).ceil())
    } else {
        (0.0, if top > 0.0 { top * 1.45 } else { 1.0 })
    };
    let categories: Vec<String> = rows.iter().map(|row| row.spec.category.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(56)
        // Category i is centred on x = i: with one label per unit, the
        // default key points fall on the centres.
        .build_cartesian_2d(-0.5f64..rows.len() as f64 - 0.5, low..high)?;
    let label_y = |y: &f64| {
        let value = if log { 10f64.powf(*y) } else { *y };
        if value >= 1e6 {
            format!("{:.1}M", value / 1e6)
        } else if value >= 1e4 {
            format!("{:.0}k", value / 1e3)
        } else if value >= 10.0 || value.fract() == 0.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.2}")
        }
    };
    let label_x = |x: &f64| {
        let index = x.round();
        if (x - index).abs() < 1e-6 && index >= 0.0 {
            categories.get(index as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len())
        .y_labels(if log {
            ((high - low) as usize + 1).min(8)
        } else {
            6
        })
        .y_label_formatter(&label_y)
        .x_label_formatter(&label_x)
        .y_desc(unit.suffix())
        .label_style(("sans-serif", 12))
        .draw()?;

    let width = 0.8 / hubs.len().max(1) as f64;
    for (j, &hub) in hubs.iter().enumerate() {
        let color = color(hub);
        let mut bars = Vec::new();
        let mut whiskers = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let Some(s) = row.spread(hub) else { continue };
            let x0 = i as f64 - 0.4 + j as f64 * width;
            let x1 = x0 + width * 0.9;
            bars.push(Rectangle::new(
                [(x0, low), (x1, shown(s.median))],
                color.filled(),
            ));
            let mid = (x0 + x1) / 2.0;
            whiskers.push(PathElement::new(
                vec![(mid, shown(s.min)), (mid, shown(s.max))],
                BLACK.stroke_width(1),
            ));
        }
        chart
            .draw_series(bars)?
            .label(hub.name())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
        chart.draw_series(whiskers)?;
    }
    let goals: Vec<_> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, row)| match report.verdict(row) {
            Some((Some(goal), _)) => Some(PathElement::new(
                vec![
                    (i as f64 - 0.45, shown(goal)),
                    (i as f64 + 0.45, shown(goal)),
                ],
                RED.stroke_width(2),
            )),
            _ => None,
        })
        .collect();
    if !goals.is_empty() {
        chart
            .draw_series(goals)?
            .label(format!("goal ({})", report.subject.name()))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 10, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 11))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
