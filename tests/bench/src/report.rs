//! The one table the benchmark prints: casewire's figure, then each baseline with the ratio
//! casewire / baseline next to it, then the target, if any.

pub struct Section {
    pub title: String,
    /// casewire's column, then the two baselines'.
    pub columns: [&'static str; 3],
    pub rows: Vec<Row>,
}

pub struct Row {
    pub label: String,
    /// Events per second, in the order of the section's columns.
    pub rates: [f64; 3],
    pub target: Option<Target>,
}

/// casewire ≥ `factor` × the baseline in column `baseline` (1 or 2).
pub struct Target {
    pub factor: f64,
    pub baseline: usize,
}

const LABEL: usize = 40;
const LINE: usize = 124;

pub fn print(heading: &str, sections: &[Section], notes: &[String]) {
    println!("\n{heading}");
    for section in sections {
        println!("{}", "-".repeat(LINE));
        let [ours, a, b] = section.columns;
        println!(
            "{:<LABEL$} {ours:>12} | {a:>13} {:>7} | {b:>13} {:>7} | target",
            section.title, "ratio", "ratio"
        );
        for row in &section.rows {
            print_row(row, &section.columns);
        }
    }
    println!("{}", "-".repeat(LINE));
    println!(
        "ratio: casewire's figure divided by the column to its left; above 1 casewire is faster."
    );
    for note in notes {
        println!("{note}");
    }
}

fn print_row(row: &Row, columns: &[&str; 3]) {
    let [ours, a, b] = row.rates;
    let target = row.target.as_ref().map_or(String::new(), |t| {
        let met = ours >= t.factor * row.rates[t.baseline];
        format!(
            "≥ {}× {}: {}",
            t.factor,
            columns[t.baseline],
            if met { "met" } else { "NOT MET" }
        )
    });
    println!(
        "  {:<w$} {ours:>12.0} | {a:>13.0} {:>6.2}× | {b:>13.0} {:>6.2}× | {target}",
        row.label,
        ours / a,
        ours / b,
        w = LABEL - 2
    );
}
