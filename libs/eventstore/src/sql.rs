//! Numbered placeholders for statements of many rows, which both databases take through
//! sqlx's Any driver: one statement for a batch, rather than a round trip per row.
//!
//! Build such a statement with [`rows`] and [`list`], then run it through [`positional`]:
//! SQLite binds numbered placeholders by name, and each name costs a linear search.

use std::borrow::Cow;

use crate::Backend;

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

/// `sql` as `backend` binds it fastest. To SQLite, `$1` is a name: sqlx asks the name of
/// every placeholder it binds, and SQLite finds it by walking the statement's list of
/// names, so a statement of n placeholders costs n² steps (a 100-event insert, 1,300
/// placeholders: about a million, most of the insert's time; docs/benchmarks.md, session
/// 17). When the placeholders are `$1`, `$2`, … in that order, each once, SQLite numbers
/// anonymous `?` the same way with no names at all: on SQLite they become `?`. Any other
/// statement, and every statement on PostgreSQL, is left as it is.
pub fn positional(backend: Backend, sql: &str) -> Cow<'_, str> {
    if backend != Backend::Sqlite {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1usize;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        out.push_str(&rest[..at]);
        if digits == 0 {
            out.push('$'); // not a placeholder ('$.path' of a JSON function)
            rest = &rest[at + 1..];
            continue;
        }
        if rest[at + 1..at + 1 + digits].parse() != Ok(expected) {
            return Cow::Borrowed(sql);
        }
        out.push('?');
        expected += 1;
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(rows(2, 3, 2), "($2, $3, $4), ($5, $6, $7)");
        assert_eq!(list(3, 4), "$4, $5, $6");
        assert_eq!(list(0, 1), "");
    }

    #[test]
    fn sqlite_binds_placeholders_in_order_by_position() {
        let sql = format!(
            "SELECT json_extract(p, '$.a') FROM t WHERE x = $1 AND y IN ({})",
            list(2, 2)
        );
        assert_eq!(
            positional(Backend::Sqlite, &sql),
            "SELECT json_extract(p, '$.a') FROM t WHERE x = ? AND y IN (?, ?)"
        );
        assert_eq!(positional(Backend::Postgres, &sql), sql);
        for kept in [
            "UPDATE t SET a = $2 WHERE b = $1",
            "SELECT $1 WHERE $1 = x",
            "SELECT $1, $3",
        ] {
            assert_eq!(
                positional(Backend::Sqlite, kept),
                kept,
                "not in order: kept"
            );
        }
    }
}
