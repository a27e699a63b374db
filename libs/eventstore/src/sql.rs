//! Numbered placeholders for statements of many rows, which both databases take through
//! sqlx's Any driver: one statement for a batch, rather than a round trip per row.

/// `($first, …), (…)`: `rows` rows of `columns` placeholders each, numbered from `first`.
pub fn rows(rows: usize, columns: usize, first: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", list(columns, first + r * columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$first, $first+1, …`: `n` placeholders, for an `IN (…)`.
pub fn list(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(super::rows(2, 3, 2), "($2, $3, $4), ($5, $6, $7)");
        assert_eq!(super::list(3, 4), "$4, $5, $6");
        assert_eq!(super::list(0, 1), "");
    }
}
