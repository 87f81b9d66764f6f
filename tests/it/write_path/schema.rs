//! One schema, two dialects: both databases are migrated from scratch and their catalogs are
//! compared table by table: columns (name, type class, nullability), primary keys, unique and
//! plain indexes (columns, partial or not) and foreign keys. The migrations are written twice
//! (the SQLite and PostgreSQL folders); this is what keeps them the same schema.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{AnyConnection, Connection, Row};

/// What is compared of one table.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// name → (type class, nullable)
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    /// (unique, partial, columns)
    indexes: BTreeSet<(bool, bool, Vec<String>)>,
    /// (columns, referenced table, referenced columns)
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
}

/// A declared type as the class both backends store and sqlx's `Any` driver reads the same way.
/// PostgreSQL's 4-byte `integer` is its own class: `Any` decodes it as `i32`, and every integer
/// column is read as `i64`.
fn type_class(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    match t.as_str() {
        "integer" | "bigint" | "int8" => "int64".into(),
        "int4" | "int" | "smallint" | "int2" => format!("int32 ({t})"),
        "text" | "character varying" | "varchar" => "text".into(),
        "real" | "double precision" | "float8" => "float".into(),
        "blob" | "bytea" => "bytes".into(),
        other => format!("other ({other})"),
    }
}

async fn sqlite_schema(conn: &mut AnyConnection) -> BTreeMap<String, Table> {
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get(0).unwrap())
    .collect();
    let mut out = BTreeMap::new();
    for name in names {
        let mut t = Table::default();
        let cols = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in &cols {
            let col: String = c.try_get("name").unwrap();
            let pk_pos: i64 = c.try_get("pk").unwrap();
            // A primary key column is NOT NULL on PostgreSQL whatever it declares.
            let not_null = c.try_get::<i64, _>("notnull").unwrap() != 0 || pk_pos > 0;
            t.columns.insert(col.clone(), (type_class(&c.try_get::<String, _>("type").unwrap()), !not_null));
            if pk_pos > 0 {
                pk.push((pk_pos, col));
            }
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        let indexes = sqlx::query("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        for i in &indexes {
            if i.try_get::<String, _>("origin").unwrap() == "pk" {
                continue;
            }
            let index: String = i.try_get("name").unwrap();
            let cols = sqlx::query("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&index)
                .fetch_all(&mut *conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<Option<String>, _>(0).unwrap().unwrap_or_else(|| "<expression>".into()))
                .collect();
            t.indexes.insert((
                i.try_get::<i64, _>("unique").unwrap() != 0,
                i.try_get::<i64, _>("partial").unwrap() != 0,
                cols,
            ));
        }
        let fks = sqlx::query(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let mut by_id: BTreeMap<i64, (Vec<String>, String, Vec<String>)> = BTreeMap::new();
        for f in &fks {
            let e = by_id
                .entry(f.try_get("id").unwrap())
                .or_insert_with(|| (Vec::new(), f.try_get::<String, _>("table").unwrap(), Vec::new()));
            e.0.push(f.try_get("from").unwrap());
            // `REFERENCES t` without columns means t's primary key.
            e.2.push(f.try_get::<Option<String>, _>("to").unwrap().unwrap_or_else(|| "<primary key>".into()));
        }
        t.foreign_keys = by_id.into_values().collect();
        out.insert(name, t);
    }
    // Resolve `<primary key>` references now that every table's key is known.
    let keys: BTreeMap<String, Vec<String>> =
        out.iter().map(|(n, t)| (n.clone(), t.primary_key.clone())).collect();
    for t in out.values_mut() {
        t.foreign_keys = std::mem::take(&mut t.foreign_keys)
            .into_iter()
            .map(|(from, table, to)| {
                let to = if to.iter().any(|c| c == "<primary key>") { keys[&table].clone() } else { to };
                (from, table, to)
            })
            .collect();
    }
    out
}

async fn postgres_schema(conn: &mut AnyConnection) -> BTreeMap<String, Table> {
    let mut out: BTreeMap<String, Table> = BTreeMap::new();
    let cols = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, is_nullable::text AS n \
         FROM information_schema.columns c WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' \
         AND EXISTS (SELECT 1 FROM information_schema.tables x WHERE x.table_schema = 'public' \
                     AND x.table_name = c.table_name AND x.table_type = 'BASE TABLE')",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for c in &cols {
        let t = out.entry(c.try_get("t").unwrap()).or_default();
        t.columns.insert(
            c.try_get("c").unwrap(),
            (
                type_class(&c.try_get::<String, _>("ty").unwrap()),
                c.try_get::<String, _>("n").unwrap() == "YES",
            ),
        );
    }
    // Indexes with their columns in order (array_position keeps the index's column order).
    let indexes = sqlx::query(
        "SELECT t.relname::text AS t, i.indisprimary AS pk, i.indisunique AS u, (i.indpred IS NOT NULL) AS partial, \
                COALESCE(string_agg(COALESCE(a.attname::text, '<expression>'), ',' ORDER BY k.ord), '') AS cols \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0 \
         WHERE s.nspname = 'public' AND t.relname NOT LIKE '_sqlx%' \
         GROUP BY t.relname, i.indexrelid, i.indisprimary, i.indisunique, i.indpred",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for i in &indexes {
        let Some(t) = out.get_mut(&i.try_get::<String, _>("t").unwrap()) else { continue };
        let cols: Vec<String> =
            i.try_get::<String, _>("cols").unwrap().split(',').map(str::to_string).collect();
        if i.try_get::<bool, _>("pk").unwrap() {
            t.primary_key = cols;
        } else {
            t.indexes.insert((i.try_get("u").unwrap(), i.try_get("partial").unwrap(), cols));
        }
    }
    let fks = sqlx::query(
        "SELECT t.relname::text AS t, r.relname::text AS r, \
                (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord) \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS from_cols, \
                (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(n, ord) \
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS to_cols \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid \
         JOIN pg_namespace s ON s.oid = t.relnamespace WHERE c.contype = 'f' AND s.nspname = 'public'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for f in &fks {
        let Some(t) = out.get_mut(&f.try_get::<String, _>("t").unwrap()) else { continue };
        let split = |s: String| s.split(',').map(str::to_string).collect::<Vec<_>>();
        t.foreign_keys.insert((
            split(f.try_get("from_cols").unwrap()),
            f.try_get("r").unwrap(),
            split(f.try_get("to_cols").unwrap()),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_databases_have_the_same_schema() {
    let Some((pg_url, _name)) = crate::common::fresh_pg_database().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}/schema.db", dir.path().display());
    let clock = quanban::platform::clock::Clock::fixed(quanban::platform::clock::test_instant());
    for url in [&sqlite_url, &pg_url] {
        let db = quanban::store::Db::connect(&quanban::store::DbOptions {
            url: url.clone(),
            max_connections: 2,
            max_group: 1,
            max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
            clock: clock.clone(),
        })
        .await
        .expect("migrates");
        db.close().await;
    }
    let sqlite = sqlite_schema(&mut AnyConnection::connect(&sqlite_url).await.unwrap()).await;
    let postgres = postgres_schema(&mut AnyConnection::connect(&pg_url).await.unwrap()).await;
    let mut differences = Vec::new();
    let names: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for name in names {
        match (sqlite.get(name), postgres.get(name)) {
            (Some(a), Some(b)) => {
                for col in a.columns.keys().chain(b.columns.keys()).collect::<BTreeSet<_>>() {
                    let (x, y) = (a.columns.get(col), b.columns.get(col));
                    if x != y {
                        differences.push(format!("{name}.{col}: sqlite {x:?}, postgres {y:?}"));
                    }
                }
                if a.primary_key != b.primary_key {
                    differences.push(format!(
                        "{name} primary key: sqlite {:?}, postgres {:?}",
                        a.primary_key, b.primary_key
                    ));
                }
                for i in a.indexes.symmetric_difference(&b.indexes) {
                    let side = if a.indexes.contains(i) { "only sqlite" } else { "only postgres" };
                    differences.push(format!("{name} index (unique, partial, columns) {i:?}: {side}"));
                }
                for f in a.foreign_keys.symmetric_difference(&b.foreign_keys) {
                    let side = if a.foreign_keys.contains(f) { "only sqlite" } else { "only postgres" };
                    differences.push(format!("{name} foreign key {f:?}: {side}"));
                }
            }
            (a, _) => differences
                .push(format!("table {name} only in {}", if a.is_some() { "sqlite" } else { "postgres" })),
        }
    }
    assert!(sqlite.len() > 40, "the schema was read ({} tables)", sqlite.len());
    assert!(differences.is_empty(), "{} differences:\n{}", differences.len(), differences.join("\n"));
}
