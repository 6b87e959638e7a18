//! Opening a store from a URL: the one factory `flowd serve`, the CLI and the benchmarks go
//! through, so a second backend plugs in here.
//!
//! `sqlite://PATH` (or `sqlite:PATH`) opens the SQLite file at `PATH`; without a URL the
//! embedded default is the file in the data directory. `postgres://USER:PASS@HOST:PORT/DB`
//! (or `postgresql://…`, with libpq's URL parameters such as `sslmode`) connects to a
//! PostgreSQL database shared by a fleet. A URL's password never appears in an error or a log:
//! [`StoreUrl::shown`] masks it, and so does `Debug`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{PostgresStore, SqliteStore, Store, StoreError};

/// A parsed store URL.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, as its connection URL (which may hold a password).
    Postgres(String),
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.shown())
    }
}

impl StoreUrl {
    /// The embedded default: the SQLite file of `data_dir`.
    pub fn in_data_dir(data_dir: &Path) -> StoreUrl {
        StoreUrl::Sqlite(data_dir.join(crate::DATABASE_FILE_NAME))
    }

    /// Parses `text`.
    pub fn parse(text: &str) -> Result<StoreUrl, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            shown: mask_password(text),
            reason: reason.to_owned(),
        };
        let Some((scheme, rest)) = text.split_once(':') else {
            return Err(invalid(
                "has no scheme; use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE",
            ));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                let path = path.split('?').next().unwrap_or_default();
                if path.is_empty() {
                    return Err(invalid("names no database file; use sqlite://PATH"));
                }
                Ok(StoreUrl::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => {
                let rest = rest.strip_prefix("//").ok_or_else(|| {
                    invalid("is not a URL; use postgres://USER:PASSWORD@HOST:PORT/DATABASE")
                })?;
                let authority = rest.split(['/', '?']).next().unwrap_or_default();
                let host = authority.rsplit('@').next().unwrap_or_default();
                if host.is_empty() && !rest.contains("host=") {
                    return Err(invalid(
                        "names no host; use postgres://USER:PASSWORD@HOST:PORT/DATABASE",
                    ));
                }
                Ok(StoreUrl::Postgres(text.to_owned()))
            }
            _ => Err(invalid(
                "has an unknown scheme; use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE",
            )),
        }
    }

    /// The URL as it may be logged.
    pub fn shown(&self) -> String {
        match self {
            StoreUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            StoreUrl::Postgres(url) => mask_password(url),
        }
    }
}

/// `text` with the password of its authority, if any, replaced by `***`.
fn mask_password(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => text.to_owned(),
    }
}

/// `error` with every occurrence of `url`'s password masked (a driver error may quote the URL).
fn without_password(error: StoreError, url: &str) -> StoreError {
    let Some(password) = password_of(url).filter(|password| !password.is_empty()) else {
        return error;
    };
    let message = error.to_string();
    if !message.contains(password) {
        return error;
    }
    StoreError::Unavailable {
        shown: mask_password(url),
        reason: message.replace(password, "***"),
    }
}

/// The password of `url`'s authority, if any.
fn password_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let (user_info, _) = authority.rsplit_once('@')?;
    user_info.split_once(':').map(|(_, password)| password)
}

/// Opens (creating and migrating if needed) the store `url` names.
pub async fn open_store(url: &StoreUrl) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        StoreUrl::Sqlite(path) => {
            if let Some(parent) = path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                crate::sqlite::prepare_data_dir(parent)?;
            }
            Ok(Arc::new(SqliteStore::open_file(path).await?))
        }
        StoreUrl::Postgres(url) => Ok(Arc::new(
            PostgresStore::connect(url)
                .await
                .map_err(|error| without_password(error, url))?,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_a_password() {
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/flowd/flowd.sqlite").unwrap(),
            StoreUrl::Sqlite(PathBuf::from("/var/lib/flowd/flowd.sqlite"))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:relative.db").unwrap(),
            StoreUrl::Sqlite(PathBuf::from("relative.db"))
        );
        let postgres = StoreUrl::parse("postgres://flowd:hunter2@db:5432/flowd").unwrap();
        assert_eq!(
            postgres,
            StoreUrl::Postgres("postgres://flowd:hunter2@db:5432/flowd".into())
        );
        for shown in [postgres.shown(), format!("{postgres:?}")] {
            assert_eq!(shown, "postgres://flowd:***@db:5432/flowd");
        }
        let error = StoreUrl::parse("postgres://flowd:hunter2@/flowd").unwrap_err();
        let message = error.to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("postgres://flowd:***@/flowd"), "{message}");
        assert!(StoreUrl::parse("postgresql://db/flowd?sslmode=require").is_ok());
        assert!(StoreUrl::parse("nothing").is_err());
        assert!(StoreUrl::parse("sqlite://").is_err());
    }
}
