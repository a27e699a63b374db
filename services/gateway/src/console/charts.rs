//! Charts drawn on the server as SVG: no script, no library in the browser, and each one
//! named for a screen reader, with its numbers in a table beside it.

use maud::{html, Markup};

/// Width of every chart, in the SVG's own units (it scales to the page).
const WIDTH: u32 = 480;

/// Horizontal bars, one per `(label, count)`, longest for the largest count, each with
/// its count written at its end.
pub(crate) fn bars(title: &str, bars: &[(String, u32)]) -> Markup {
    const ROW: u32 = 28;
    const LABELS: u32 = 150;
    const ROOM: u32 = WIDTH - LABELS - 60;
    let most = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = ROW * (bars.len() as u32).max(1);
    let said: Vec<String> = bars.iter().map(|(l, n)| format!("{l}: {n}")).collect();
    html! {
        figure.chart {
            svg role="img" aria-label={ (title) ". " (said.join(", ")) } viewBox={ "0 0 " (WIDTH) " " (height) } {
                @for (i, (label, n)) in bars.iter().enumerate() {
                    @let y = i as u32 * ROW;
                    @let long = (u64::from(*n) * u64::from(ROOM) / u64::from(most)) as u32;
                    text x=(LABELS - 8) y=(y + 19) text-anchor="end" { (clipped(label)) }
                    rect x=(LABELS) y=(y + 5) width=(long.max(1)) height="18" {}
                    text x=(LABELS + long + 6) y=(y + 19) { (n) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// A line rising by steps from (0, 0): `points` are `(x, y)` with `y` from 0 to 1, drawn
/// as a percentage; the axes say `x` in `unit` and the top percentage.
pub(crate) fn steps(title: &str, unit: &str, points: &[(u32, f64)]) -> Markup {
    const HEIGHT: u32 = 200;
    const LEFT: u32 = 48;
    const BOTTOM: u32 = 24;
    const TOP: u32 = 10;
    let last_x = points.iter().map(|(x, _)| *x).max().unwrap_or(1).max(1);
    // The top of the scale: the highest rate rounded up to a tenth, so a 12% rate fills
    // the chart rather than hugging its floor.
    let top = (points.iter().map(|(_, y)| *y).fold(0.0, f64::max) * 10.0)
        .ceil()
        .clamp(1.0, 10.0)
        / 10.0;
    let plot_w = f64::from(WIDTH - LEFT - 10);
    let plot_h = f64::from(HEIGHT - BOTTOM - TOP);
    let at = |x: u32, y: f64| {
        (
            f64::from(LEFT) + plot_w * f64::from(x) / f64::from(last_x),
            f64::from(TOP) + plot_h * (1.0 - y / top),
        )
    };
    let mut line = vec![at(0, 0.0)];
    let mut before = 0.0;
    for (x, y) in points {
        line.push(at(*x, before));
        line.push(at(*x, *y));
        before = *y;
    }
    let drawn: Vec<String> = line.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let (x0, y0) = at(0, 0.0);
    let (x1, y1) = at(last_x, top);
    let said = match points.last() {
        Some((x, y)) => format!("{title}: {:.0}% after {x} {unit}", y * 100.0),
        None => format!("{title}: none yet"),
    };
    html! {
        figure.chart {
            svg role="img" aria-label=(said) viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } {
                line.axis x1=(x0) y1=(y0) x2=(x1) y2=(y0) {}
                line.axis x1=(x0) y1=(y0) x2=(x0) y2=(y1) {}
                text x=(x0 - 6.0) y=(y0) text-anchor="end" { "0%" }
                text x=(x0 - 6.0) y=(y1 + 10.0) text-anchor="end" { (format!("{:.0}%", top * 100.0)) }
                text x=(x0) y=(HEIGHT - 4) { "0" }
                text x=(x1) y=(HEIGHT - 4) text-anchor="end" { (last_x) " " (unit) }
                polyline points=(drawn.join(" ")) {}
            }
            figcaption { (title) }
        }
    }
}

/// A label that fits beside its bar; the table beside the chart has it whole.
fn clipped(label: &str) -> String {
    const FITS: usize = 18;
    if label.chars().count() <= FITS {
        label.to_string()
    } else {
        let mut short: String = label.chars().take(FITS - 1).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_their_counts_and_say_them() {
        let svg = bars("Q1", &[("yes".into(), 30), ("no".into(), 10)]).into_string();
        assert!(svg.contains(r#"aria-label="Q1. yes: 30, no: 10""#), "{svg}");
        // 270 units for the largest count, a third of it for a third of the count.
        assert!(
            svg.contains(r#"width="270""#) && svg.contains(r#"width="90""#),
            "{svg}"
        );
        // An SVG element closed explicitly: an HTML parser would nest what follows an
        // unclosed `<rect>` inside it.
        assert!(svg.contains("</rect>"));
    }

    #[test]
    fn a_long_label_is_clipped_beside_its_bar() {
        assert_eq!(clipped("short"), "short");
        assert_eq!(
            clipped("a rather long option for a bar"),
            "a rather long opt…"
        );
    }

    #[test]
    fn the_step_line_rises_at_each_point_and_scales_to_the_highest() {
        let svg = steps("Response rate", "h", &[(1, 0.05), (3, 0.12)]).into_string();
        assert!(
            svg.contains("20%"),
            "the scale tops at the tenth above 12%: {svg}"
        );
        assert!(svg.contains("12% after 3 h"), "{svg}");
        let empty = steps("Response rate", "h", &[]).into_string();
        assert!(empty.contains("none yet"));
    }
}
