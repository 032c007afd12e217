use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::MigrationHarness;
use oas_db::testing::TestDatabase;
use oas_db::{Backend, Database, DatabaseUrl, PoolSettings};
use secrecy::ExposeSecret;

/// One column as both engines can describe it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
}

#[derive(Debug, QueryableByName)]
struct IndexName {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(Debug, PartialEq, Eq)]
struct Shape {
    columns: BTreeSet<(String, String, &'static str, bool)>,
    indexes: BTreeSet<String>,
}

/// Maps each engine's type names onto the families diesel's schema uses.
fn family(data_type: &str) -> &'static str {
    let t = data_type.to_ascii_lowercase();
    match t.as_str() {
        "bigint" | "integer" | "int" | "int8" | "int4" | "smallint" => "integer",
        "text" | "character varying" | "varchar" => "text",
        "boolean" | "bool" => "bool",
        "timestamp" | "timestamp without time zone" | "datetime" => "timestamp",
        "date" => "date",
        "bytea" | "blob" => "binary",
        "double precision" | "real" | "double" | "float" => "float",
        _ => "other",
    }
}

fn shape(columns: Vec<Column>, indexes: Vec<IndexName>) -> Shape {
    Shape {
        columns: columns
            .into_iter()
            .map(|c| {
                (
                    c.table_name,
                    c.column_name,
                    family(&c.data_type),
                    c.not_null,
                )
            })
            .collect(),
        indexes: indexes.into_iter().map(|i| i.name).collect(),
    }
}

fn sqlite_shape(conn: &mut SqliteConnection) -> Shape {
    let columns = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
                (p.\"notnull\" = 1 OR p.pk > 0) AS not_null \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
           AND m.name <> '__diesel_schema_migrations'",
    )
    .load::<Column>(conn)
    .unwrap();
    let indexes = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .load::<IndexName>(conn)
    .unwrap();
    shape(columns, indexes)
}

fn postgres_shape(conn: &mut PgConnection) -> Shape {
    let columns = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, \
                (is_nullable = 'NO') AS not_null \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load::<Column>(conn)
    .unwrap();
    let indexes = diesel::sql_query(
        "SELECT indexname::text AS name FROM pg_indexes \
         WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' \
           AND tablename <> '__diesel_schema_migrations'",
    )
    .load::<IndexName>(conn)
    .unwrap();
    shape(columns, indexes)
}

async fn migrated(db: &TestDatabase) {
    let database = Database::new(db.url(), PoolSettings::default()).unwrap();
    let applied = database.migrate().await.unwrap();
    assert!(!applied.is_empty(), "a fresh database gets every migration");
    assert!(
        database.migrate().await.unwrap().is_empty(),
        "migrating twice applies nothing"
    );
    database.close();
}

fn sqlite_conn(url: &DatabaseUrl) -> SqliteConnection {
    let DatabaseUrl::Sqlite(path) = url else {
        unreachable!()
    };
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    // Wait, as the pool's connections do, while a closing one checkpoints the WAL.
    conn.batch_execute("PRAGMA busy_timeout = 10000").unwrap();
    conn
}

fn postgres_conn(url: &DatabaseUrl) -> PgConnection {
    let DatabaseUrl::Postgres(secret) = url else {
        unreachable!()
    };
    PgConnection::establish(secret.expose_secret()).unwrap()
}

#[tokio::test]
async fn both_migration_sets_build_the_same_tables_columns_and_indexes() {
    let Some(pg) = TestDatabase::postgres() else {
        eprintln!("OAS_TEST_DATABASE_URL is not set: cannot compare with PostgreSQL");
        return;
    };
    let lite = TestDatabase::sqlite();
    migrated(&pg).await;
    migrated(&lite).await;

    let pg_shape = postgres_shape(&mut postgres_conn(pg.url()));
    let lite_shape = sqlite_shape(&mut sqlite_conn(lite.url()));
    assert!(!lite_shape.columns.is_empty());
    assert_eq!(pg_shape, lite_shape);
    assert!(
        !lite_shape.columns.iter().any(|c| c.2 == "other"),
        "every column type maps to a family both engines share: {:?}",
        lite_shape.columns
    );
}

#[tokio::test]
async fn migrations_revert_and_reapply_to_the_same_schema() {
    for backend in oas_db::testing::backends() {
        let db = TestDatabase::new(backend).unwrap();
        migrated(&db).await;
        match backend {
            Backend::Sqlite => {
                let conn = &mut sqlite_conn(db.url());
                let before = sqlite_shape(conn);
                conn.revert_all_migrations(oas_db::SQLITE_MIGRATIONS)
                    .unwrap();
                assert!(
                    sqlite_shape(conn).columns.is_empty(),
                    "down migrations drop every table"
                );
                conn.run_pending_migrations(oas_db::SQLITE_MIGRATIONS)
                    .unwrap();
                assert_eq!(sqlite_shape(conn), before);
            }
            Backend::Postgres => {
                let conn = &mut postgres_conn(db.url());
                let before = postgres_shape(conn);
                conn.revert_all_migrations(oas_db::POSTGRES_MIGRATIONS)
                    .unwrap();
                assert!(
                    postgres_shape(conn).columns.is_empty(),
                    "down migrations drop every table"
                );
                conn.run_pending_migrations(oas_db::POSTGRES_MIGRATIONS)
                    .unwrap();
                assert_eq!(postgres_shape(conn), before);
            }
        }
    }
}
