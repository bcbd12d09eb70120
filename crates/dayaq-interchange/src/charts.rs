//! Charts of the annual national report as server-rendered SVG (issue #15 part 5), drawn with
//! plotters' SVG backend (no bitmap backend, no system fonts: text is emitted as SVG `<text>`
//! and the browser lays it out). Pure: data in, markup out.
//!
//! - [`chart_data`] takes the series (columns) and categories (rows) of a report [`Table`].
//! - [`bar_chart_svg`] draws grouped horizontal bars, [`line_chart_svg`] the trend lines.
//!
//! Every chart carries a `<title>` and a `<desc>` and `role="img"` with `aria-labelledby`
//! naming both; the caller shows the table beside it. A suppressed cell (public variant) is
//! never drawn as a bar or a point: its place holds the suppression mark (`x`, `dayaq_domain::statistics::SUPPRESSED_MARK`) as text.
//! Every published cell gets exactly one bar (`<rect>` in the series colour) or one point
//! (`<circle>`).

use dayaq_domain::statistics::{Cell, Table};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The colours of the series, in order (contrast ≥ 4.5:1 against white).
pub const SERIES_COLOURS: [(u8, u8, u8); 4] = [
    (0x1f, 0x4e, 0x79),
    (0xa8, 0x48, 0x0c),
    (0x3b, 0x6e, 0x22),
    (0x6a, 0x2c, 0x91),
];

/// What went wrong while drawing (a bug or an impossible size, never a data problem).
#[derive(Debug, thiserror::Error)]
#[error("chart: {0}")]
pub struct ChartError(pub String);

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// The numbers of one chart, by key: `values[category][series]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartData {
    /// Row keys of the table (HTCDS value names, fixed keys or years).
    pub categories: Vec<String>,
    /// Column keys of the table.
    pub series: Vec<&'static str>,
    pub values: Vec<Vec<Cell>>,
}

/// The cells of `series` (column keys, in that order; unknown keys are left out) for every row
/// of `table` except those in `skip_rows` (totals, which would dwarf the categories).
pub fn chart_data(table: &Table, series: &[&str], skip_rows: &[&str]) -> ChartData {
    let cols: Vec<(usize, &'static str)> = series
        .iter()
        .filter_map(|s| {
            table
                .columns
                .iter()
                .position(|c| c.key == *s)
                .map(|i| (i, table.columns[i].key))
        })
        .collect();
    let rows: Vec<_> = table
        .rows
        .iter()
        .filter(|r| !skip_rows.contains(&r.key.as_str()))
        .collect();
    ChartData {
        categories: rows.iter().map(|r| r.key.clone()).collect(),
        series: cols.iter().map(|(_, k)| *k).collect(),
        values: rows
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|(i, _)| r.cells.get(*i).copied().unwrap_or(Cell::Value(0)))
                    .collect()
            })
            .collect(),
    }
}

/// One chart with its labels (already translated by the caller).
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// The element id prefix (`[a-z0-9_-]`); `<title id="{id}-title">`, `<desc id="{id}-desc">`.
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    /// Labels of `data.categories`, same order.
    pub category_labels: &'a [String],
    /// Labels of `data.series`, same order.
    pub series_labels: &'a [String],
    /// The text drawn where a suppressed cell would be (`x`).
    pub suppressed_mark: &'a str,
    pub data: &'a ChartData,
}

const WIDTH: u32 = 640;
const LABEL_W: i32 = 190;
const LEGEND_LINE: i32 = 20;
const BAR_H: i32 = 14;
/// Plotters writes `size / 1.24` px: 16 → 13 px.
const FONT_SIZE: u32 = 16;
const GROUP_GAP: i32 = 10;
const AXIS_H: i32 = 30;
const FONT: &str = "sans-serif";

fn colour(i: usize) -> RGBColor {
    let (r, g, b) = SERIES_COLOURS[i % SERIES_COLOURS.len()];
    RGBColor(r, g, b)
}

/// `#RRGGBB` of series `i` as plotters writes it in the SVG.
pub fn series_fill(i: usize) -> String {
    let (r, g, b) = SERIES_COLOURS[i % SERIES_COLOURS.len()];
    format!("#{r:02X}{g:02X}{b:02X}")
}

fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn safe_id(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Adds `role="img"`, `aria-labelledby`, a class and the `<title>`/`<desc>` to plotters' SVG.
fn accessible(svg: String, c: &Chart<'_>) -> Result<String, ChartError> {
    let id = safe_id(c.id);
    let start = svg
        .find("<svg")
        .ok_or_else(|| ChartError("no svg element".into()))?;
    let end = svg[start..]
        .find('>')
        .map(|e| start + e)
        .ok_or_else(|| ChartError("no svg element".into()))?;
    let mut out = String::with_capacity(svg.len() + 512);
    out.push_str(&svg[start..start + 4]);
    out.push_str(&format!(
        " id=\"{id}\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\""
    ));
    out.push_str(&svg[start + 4..=end]);
    out.push_str(&format!(
        "\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>",
        xml_escape(c.title),
        xml_escape(c.desc)
    ));
    out.push_str(&svg[end + 1..]);
    Ok(out)
}

fn max_value(data: &ChartData) -> i64 {
    data.values
        .iter()
        .flatten()
        .filter_map(|c| c.value())
        .max()
        .unwrap_or(0)
        .max(1)
}

/// The height of the legend: a line per series.
fn legend_h(series: usize) -> i32 {
    8 + LEGEND_LINE * series.max(1) as i32
}

/// Draws the legend (a mark — a square, or a line for trend lines — and the label per series),
/// a line per series above the plot, starting at `x`.
fn legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    labels: &[String],
    line: bool,
    x: i32,
) -> Result<(), ChartError> {
    for (i, l) in labels.iter().enumerate() {
        let col = colour(i);
        let y = 4 + LEGEND_LINE * i as i32 + LEGEND_LINE / 2;
        if line {
            root.draw(&PathElement::new(
                vec![(x, y), (x + 16, y)],
                col.stroke_width(3),
            ))
            .map_err(err)?;
        } else {
            // A square mark that is not a <rect>, so bars can be counted by colour.
            root.draw(&Polygon::new(
                vec![
                    (x + 2, y - 6),
                    (x + 14, y - 6),
                    (x + 14, y + 6),
                    (x + 2, y + 6),
                ],
                col.filled(),
            ))
            .map_err(err)?;
        }
        root.draw(&Text::new(
            short(l, 60),
            (x + 22, y),
            (FONT, FONT_SIZE)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Grouped horizontal bars: a group per category (top to bottom), a bar per series.
pub fn bar_chart_svg(c: &Chart<'_>) -> Result<String, ChartError> {
    let d = c.data;
    let n_cat = d.categories.len().max(1) as i32;
    let n_ser = d.series.len().max(1) as i32;
    let group_h = n_ser * BAR_H + GROUP_GAP;
    let lh = legend_h(d.series.len());
    let height = (lh + n_cat * group_h + AXIS_H + 6) as u32;
    let max = max_value(d);
    let top = max + max / 10 + 1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        legend(&root, c.series_labels, false, 12)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(lh)
            .margin_right(24)
            .x_label_area_size(AXIS_H)
            .y_label_area_size(LABEL_W)
            .build_cartesian_2d(0i64..top, 0f64..f64::from(n_cat * group_h))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_formatter(&|v| v.to_string())
            .label_style((FONT, FONT_SIZE).into_font().color(&BLACK))
            .light_line_style(RGBColor(0xe6, 0xe6, 0xe6))
            .draw()
            .map_err(err)?;
        let label_style = (FONT, FONT_SIZE)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let mark_style = (FONT, FONT_SIZE)
            .into_font()
            .color(&RGBColor(0x40, 0x40, 0x40))
            .pos(Pos::new(HPos::Left, VPos::Center));
        // Category 0 at the top: the y axis grows upwards.
        let y_of = |cat: i32, ser: i32| -> (f64, f64) {
            let base = f64::from((n_cat - 1 - cat) * group_h + GROUP_GAP / 2);
            let y1 = base + f64::from((n_ser - ser) * BAR_H);
            (y1 - f64::from(BAR_H) + 1.0, y1 - 1.0)
        };
        for (ci, row) in d.values.iter().enumerate() {
            let ci = ci as i32;
            let (_, y_top) = y_of(ci, 0);
            let (y_bottom, _) = y_of(ci, n_ser - 1);
            let (px, py) = chart.backend_coord(&(0, (y_top + y_bottom) / 2.0));
            let label = c
                .category_labels
                .get(ci as usize)
                .map(String::as_str)
                .unwrap_or("");
            root.draw(&Text::new(
                short(label, 24),
                (px - 8, py),
                label_style.clone(),
            ))
            .map_err(err)?;
            for (si, cell) in row.iter().enumerate() {
                let (y0, y1) = y_of(ci, si as i32);
                match cell {
                    Cell::Value(v) => {
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                [(0, y0), (*v, y1)],
                                colour(si).filled(),
                            )))
                            .map_err(err)?;
                    }
                    Cell::Suppressed => {
                        let (px, py) = chart.backend_coord(&(0, (y0 + y1) / 2.0));
                        root.draw(&Text::new(
                            c.suppressed_mark.to_string(),
                            (px + 4, py),
                            mark_style.clone(),
                        ))
                        .map_err(err)?;
                    }
                }
            }
        }
        root.present().map_err(err)?;
    }
    accessible(svg, c)
}

/// Trend lines: the categories are the points of the x axis (years, in order), a line per
/// series. A suppressed point breaks its line and shows the suppression mark on the axis.
pub fn line_chart_svg(c: &Chart<'_>) -> Result<String, ChartError> {
    let d = c.data;
    let n = d.categories.len();
    let lh = legend_h(d.series.len());
    let height = (lh + 290) as u32;
    let max = max_value(d);
    let top = max + max / 10 + 1;
    let last = (n.max(2) - 1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        legend(&root, c.series_labels, true, 12)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(lh)
            .margin_right(30)
            .margin_left(20)
            .x_label_area_size(AXIS_H)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.3f64..last + 0.3, 0i64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&|v| v.to_string())
            .label_style((FONT, FONT_SIZE).into_font().color(&BLACK))
            .light_line_style(RGBColor(0xe6, 0xe6, 0xe6))
            .draw()
            .map_err(err)?;
        let axis_style = (FONT, FONT_SIZE)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (i, label) in c.category_labels.iter().enumerate().take(n) {
            let (px, py) = chart.backend_coord(&(i as f64, 0));
            root.draw(&Text::new(label.clone(), (px, py + 8), axis_style.clone()))
                .map_err(err)?;
        }
        let mark_style = (FONT, FONT_SIZE - 1)
            .into_font()
            .color(&RGBColor(0x40, 0x40, 0x40))
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for si in 0..d.series.len() {
            let col = colour(si);
            let mut run: Vec<(f64, i64)> = Vec::new();
            for (i, row) in d.values.iter().enumerate() {
                match row.get(si).copied().unwrap_or(Cell::Value(0)) {
                    Cell::Value(v) => run.push((i as f64, v)),
                    Cell::Suppressed => {
                        if run.len() > 1 {
                            chart
                                .draw_series(LineSeries::new(run.clone(), col.stroke_width(2)))
                                .map_err(err)?;
                        }
                        run.clear();
                        let (px, py) = chart.backend_coord(&(i as f64, 0));
                        root.draw(&Text::new(
                            c.suppressed_mark.to_string(),
                            (px, py - 4 - 15 * si as i32),
                            mark_style.clone(),
                        ))
                        .map_err(err)?;
                    }
                }
            }
            if run.len() > 1 {
                chart
                    .draw_series(LineSeries::new(run, col.stroke_width(2)))
                    .map_err(err)?;
            }
            chart
                .draw_series(d.values.iter().enumerate().filter_map(|(i, row)| {
                    row.get(si)
                        .and_then(|c| c.value())
                        .map(|v| Circle::new((i as f64, v), 4, col.filled()))
                }))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    accessible(svg, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dayaq_domain::statistics::{Column, ColumnKind, Row};

    fn table() -> Table {
        Table {
            id: "by_form",
            unit: "persons",
            columns: vec![
                Column {
                    key: "identified",
                    kind: ColumnKind::Count,
                },
                Column {
                    key: "presumed",
                    kind: ColumnKind::Count,
                },
            ],
            rows: vec![
                Row {
                    key: "ForcedLabour".into(),
                    cells: vec![Cell::Value(14), Cell::Suppressed],
                },
                Row {
                    key: "SexualExploitation".into(),
                    cells: vec![Cell::Suppressed, Cell::Value(0)],
                },
                Row {
                    key: "persons".into(),
                    cells: vec![Cell::Value(23), Cell::Value(12)],
                },
            ],
            not_recorded: None,
        }
    }

    fn labels(keys: &[impl AsRef<str>]) -> Vec<String> {
        keys.iter().map(|k| format!("L<{}>", k.as_ref())).collect()
    }

    /// Bars (`<rect` in a series colour) per series.
    fn bars(svg: &str, series: usize) -> usize {
        let fill = format!("fill=\"{}\"", series_fill(series));
        svg.lines()
            .filter(|l| l.contains("<rect") && l.contains(&fill))
            .count()
    }

    fn chart_of(d: &ChartData, f: fn(&Chart<'_>) -> Result<String, ChartError>) -> String {
        let cats = labels(&d.categories);
        let sers = labels(&d.series);
        f(&Chart {
            id: "c-by_form",
            title: "Victims by form & \"sex\"",
            desc: "Bars; suppressed cells show <11",
            category_labels: &cats,
            series_labels: &sers,
            suppressed_mark: "x",
            data: d,
        })
        .expect("chart")
    }

    #[test]
    fn chart_data_takes_the_series_and_skips_the_totals() {
        let d = chart_data(&table(), &["presumed", "identified", "nope"], &["persons"]);
        assert_eq!(d.series, vec!["presumed", "identified"]);
        assert_eq!(d.categories, vec!["ForcedLabour", "SexualExploitation"]);
        assert_eq!(d.values[0], vec![Cell::Suppressed, Cell::Value(14)]);
    }

    #[test]
    fn bar_chart_has_title_desc_and_one_bar_per_published_cell() {
        let d = chart_data(&table(), &["identified", "presumed"], &["persons"]);
        let svg = chart_of(&d, bar_chart_svg);
        assert!(svg.starts_with("<svg id=\"c-by_form\" class=\"chart\" role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"c-by_form-title c-by_form-desc\""));
        assert!(svg.contains(
            "<title id=\"c-by_form-title\">Victims by form &amp; &quot;sex&quot;</title>"
        ));
        assert!(
            svg.contains("<desc id=\"c-by_form-desc\">Bars; suppressed cells show &lt;11</desc>")
        );
        // identified: 14 published, one suppressed; presumed: one suppressed, 0 published.
        assert_eq!(bars(&svg, 0), 1);
        assert_eq!(bars(&svg, 1), 1);
        // Two suppression marks, the labels escaped, the true value of no suppressed cell.
        assert_eq!(svg.matches("\nx\n").count(), 2, "{svg}");
        assert!(svg.contains("L&lt;ForcedLabour&gt;"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn line_chart_has_a_point_per_published_cell_and_none_for_suppressed() {
        let mut t = table();
        t.id = "trend";
        for (i, r) in t.rows.iter_mut().enumerate() {
            r.key = (2023 + i).to_string();
        }
        let d = chart_data(&t, &["identified", "presumed"], &[]);
        let svg = chart_of(&d, line_chart_svg);
        assert!(svg.contains("<title id=\"c-by_form-title\">"));
        assert!(svg.contains("<desc id=\"c-by_form-desc\">"));
        assert_eq!(svg.matches("<circle").count(), 4, "{svg}");
        assert_eq!(svg.matches("\nx\n").count(), 2);
        for y in ["2023", "2024", "2025"] {
            assert!(svg.contains(&format!(">\n{y}\n</text>")) || svg.contains(y));
        }
    }

    #[test]
    fn an_empty_table_still_draws_a_chart() {
        let d = ChartData {
            categories: vec![],
            series: vec!["identified"],
            values: vec![],
        };
        let svg = chart_of(&d, bar_chart_svg);
        assert_eq!(bars(&svg, 0), 0);
        let svg = chart_of(&d, line_chart_svg);
        assert_eq!(svg.matches("<circle").count(), 0);
    }

    proptest::proptest! {
        /// Whatever the cells, one bar per published cell of each series and none for a
        /// suppressed one.
        #[test]
        fn bars_match_published_cells(cells in proptest::collection::vec(
            proptest::collection::vec(proptest::option::of(0i64..5000), 3), 0..12)) {
            let d = ChartData {
                categories: (0..cells.len()).map(|i| format!("r{i}")).collect(),
                series: vec!["a", "b", "c"],
                values: cells.iter().map(|r| r.iter().map(|c| match c {
                    Some(v) => Cell::Value(*v),
                    None => Cell::Suppressed,
                }).collect()).collect(),
            };
            let svg = chart_of(&d, bar_chart_svg);
            for s in 0..3 {
                let published = cells.iter().filter(|r| r[s].is_some()).count();
                proptest::prop_assert_eq!(bars(&svg, s), published);
            }
            let suppressed = cells.iter().flatten().filter(|c| c.is_none()).count();
            proptest::prop_assert_eq!(svg.matches("\nx\n").count(), suppressed);
        }
    }
}
