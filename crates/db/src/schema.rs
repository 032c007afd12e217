//! The one schema both engines share. Columns use only the SQL types a
//! MultiConnection maps on both sides (integers, text, booleans,
//! timestamps); money is stored as decimal text.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        first_name -> Text,
        last_name -> Text,
        is_superuser -> Bool,
        is_staff -> Bool,
        is_active -> Bool,
        last_login -> Nullable<Timestamp>,
        date_joined -> Timestamp,
    }
}
