use crate::engine::Engine;
use crate::keys::Keys;
use crate::{Result, Store, StoreError};
use sqlx::Executor;
use sqlx::any::AnyPoolOptions;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the data lives. `database_url` = None means SQLite in `data_dir/dayaq.db`.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub max_connections: u32,
}

impl OpenOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            master_key_file: None,
            max_connections: 8,
        }
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("dayaq.db")
    }

    fn url(&self) -> (Engine, String) {
        match &self.database_url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                (Engine::Postgres, u.clone())
            }
            Some(u) => (Engine::Sqlite, u.clone()),
            None => (
                Engine::Sqlite,
                format!("sqlite://{}?mode=rwc", self.sqlite_path().display()),
            ),
        }
    }
}

impl Store {
    /// Opens (and creates on first start) the database, runs migrations and loads the keys.
    pub async fn open(opts: &OpenOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (engine, url) = opts.url();
        if engine == Engine::Sqlite {
            std::fs::create_dir_all(&opts.data_dir)?;
        }
        let mut pool_opts = AnyPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(Duration::from_secs(30));
        if engine == Engine::Sqlite {
            pool_opts = pool_opts.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL with durable commits; overwrite deleted content (crypto-shredding
                    // leaves no key bytes in free pages); enforce foreign keys.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA secure_delete = ON").await?;
                    Ok(())
                })
            });
        }
        let pool = pool_opts.connect(&url).await?;
        engine.migrator().run(&pool).await?;
        let keys = Keys::load(&pool, engine, &opts.master_key_path()).await?;
        let store = Store {
            pool,
            engine,
            keys: Arc::new(keys),
            settings: crate::Settings::default(),
            write_turn: (engine == Engine::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(()))),
            searches: Arc::default(),
            fact_loads: Arc::default(),
            blobs: crate::attachments::Blobs::local(&opts.data_dir.join("attachments"))?,
        };
        // Cases not yet counted (an upgrade to migration 0017): count them now.
        store.refresh_statistics().await?;
        Ok(store)
    }

    /// True when the database holds no organisations yet (a fresh install or restore target).
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organisations")
            .fetch_one(&self.pool)
            .await?;
        Ok(n == 0)
    }

    /// Engine integrity check (SQLite `PRAGMA integrity_check`; PostgreSQL: a trivial query).
    pub async fn integrity_check(&self) -> Result<()> {
        match self.engine {
            Engine::Sqlite => {
                let r: String = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(&self.pool)
                    .await?;
                if r == "ok" {
                    Ok(())
                } else {
                    Err(StoreError::Data(format!("integrity check: {r}")))
                }
            }
            Engine::Postgres => {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }
        }
    }
}
