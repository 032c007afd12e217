//! SQL functions both engines provide under the same name.

use diesel::sql_types::Text;

diesel::define_sql_function! {
    /// `lower(text)`: case-insensitive comparisons that use the `lower(...)` indexes.
    fn lower(x: Text) -> Text;
}

/// A `LIKE` pattern matching values that contain `term` (compared in lower
/// case), with `%`, `_` and the escape character itself escaped by `\\`.
pub fn contains_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_in_the_term_match_only_themselves() {
        assert_eq!(super::contains_pattern("Ana_50%"), "%ana\\_50\\%%");
    }
}
