//! Migrations, one folder per backend (`migrations/sqlite`, `migrations/postgres`), embedded in
//! the binary. They are append-only: never edit one that has shipped.

use sqlx::AnyConnection;
use sqlx::migrate::Migrator;

use super::Backend;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

pub async fn run(backend: Backend, conn: &mut AnyConnection) -> anyhow::Result<()> {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    migrator.run(conn).await?;
    Ok(())
}
