//! Migrations, one folder per backend (`migrations/sqlite`, `migrations/postgres`), embedded in
//! the binary. They are append-only: never edit one that has shipped.
//!
//! The list is written out here rather than read by `sqlx::migrate!`, whose compile-time macro
//! brings a second, host-side build of sqlx and both database drivers (with SQLite's C source)
//! into every build. Each entry is what that macro would produce from the same file: version and
//! description from the file name, SHA-384 checksum of the text; a test checks the list against the
//! folders, so a migration that is added but not listed fails the tests.

use std::borrow::Cow;

use sqlx::AnyConnection;
use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Backend;

/// `(file name, SQLite text, PostgreSQL text)`: both dialects have the same files.
macro_rules! migrations {
    ($($name:literal),* $(,)?) => {
        &[$(($name,
            include_str!(concat!("../../migrations/sqlite/", $name)),
            include_str!(concat!("../../migrations/postgres/", $name)))),*]
    };
}

const FILES: &[(&str, &str, &str)] = migrations![
    "0001_foundation.sql",
    "0002_catalog.sql",
    "0003_guide.sql",
    "0004_cases.sql",
    "0005_licences.sql",
    "0006_halls.sql",
    "0007_assistance.sql",
    "0008_feedback.sql",
    "0009_write_path.sql",
    "0010_trust.sql",
    "0011_data.sql",
    "0012_data_sharing.sql",
    "0013_policies.sql",
    "0014_policy_versions.sql",
    "0015_policy_follow_ups.sql",
    "0016_clear_values.sql",
    "0017_journeys.sql",
    "0018_decisions.sql",
    "0019_queue.sql",
    "0020_qr_login.sql",
    "0021_guide_learning.sql",
    "0022_projects.sql",
    "0023_monitoring.sql",
    "0024_window_since.sql",
    "0025_reform_tasks.sql",
    "0026_assessment_indexes.sql",
    "0027_monitoring_sources.sql",
    "0028_manual_orders.sql",
    "0029_figure_rollup.sql",
    "0030_assessment_comments.sql",
    "0031_partial_digest_index.sql",
];

fn migrator(backend: Backend) -> Migrator {
    let migrations = FILES
        .iter()
        .map(|(name, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            let (version, description) = name_parts(name);
            Migration::new(
                version,
                Cow::Owned(description),
                MigrationType::Simple,
                SqlStr::from_static(sql),
                sql.starts_with("-- no-transaction"),
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// `0012_data_sharing.sql` → `(12, "data sharing")`, as sqlx names a migration from its file.
fn name_parts(name: &str) -> (i64, String) {
    let (version, rest) = name.split_once('_').unwrap_or((name, ""));
    let version = version.parse().unwrap_or_else(|_| panic!("migration {name} has no version"));
    (version, rest.trim_end_matches(".sql").replace('_', " "))
}

pub async fn run(backend: Backend, conn: &mut AnyConnection) -> anyhow::Result<()> {
    migrator(backend).run(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(folder: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations folder")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let listed: Vec<String> = FILES.iter().map(|(name, _, _)| name.to_string()).collect();
        assert_eq!(files_in("sqlite"), listed);
        assert_eq!(files_in("postgres"), listed);
    }

    #[test]
    fn entries_match_what_sqlx_resolves_from_the_folder() {
        // sqlx's own resolver over the same folder: same versions, descriptions and checksums,
        // so databases migrated by earlier builds see no change.
        for (backend, folder) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder);
            let resolved = tokio::runtime::Runtime::new()
                .expect("runtime")
                .block_on(Migrator::new(dir))
                .expect("resolve");
            let ours = migrator(backend);
            let theirs: Vec<_> = resolved
                .iter()
                .map(|m| (m.version, m.description.to_string(), m.checksum.to_vec()))
                .collect();
            let mine: Vec<_> =
                ours.iter().map(|m| (m.version, m.description.to_string(), m.checksum.to_vec())).collect();
            assert_eq!(mine, theirs, "{folder}");
        }
    }
}
