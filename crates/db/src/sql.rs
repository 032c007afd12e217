//! SQL functions both engines provide under the same name.

use diesel::sql_types::Text;

diesel::define_sql_function! {
    /// `lower(text)`: case-insensitive comparisons that use the `lower(...)` indexes.
    fn lower(x: Text) -> Text;
}
