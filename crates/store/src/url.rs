//! Opening a store from a URL: the one factory `flowd serve`, the CLI and the benchmarks go
//! through, so a second backend plugs in here.
//!
//! `sqlite://PATH` (or `sqlite:PATH`) opens the SQLite file at `PATH`; without a URL the
//! embedded default is the file in the data directory. A URL's password never appears in an
//! error: [`StoreUrl::shown`] masks it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{SqliteStore, Store, StoreError};

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite database file.
    Sqlite(PathBuf),
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
            return Err(invalid("has no scheme; use sqlite://PATH"));
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
            "postgres" | "postgresql" => Err(invalid(
                "PostgreSQL stores are not available in this build; use sqlite://PATH",
            )),
            _ => Err(invalid("has an unknown scheme; use sqlite://PATH")),
        }
    }

    /// The URL as it may be logged.
    pub fn shown(&self) -> String {
        match self {
            StoreUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
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
        let error = StoreUrl::parse("postgres://flowd:hunter2@db:5432/flowd").unwrap_err();
        let message = error.to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(
            message.contains("postgres://flowd:***@db:5432/flowd"),
            "{message}"
        );
        assert!(StoreUrl::parse("nothing").is_err());
        assert!(StoreUrl::parse("sqlite://").is_err());
    }
}
