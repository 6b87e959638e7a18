//! `flowd api`'s stored profiles: where a running flowd answers and the credential to call it
//! with, kept in `profiles.toml` in the user's config dir (`$FLOWD_CONFIG_DIR`, else
//! `$XDG_CONFIG_HOME/flowd`, else `~/.config/flowd`), written owner-only (0600) because it
//! holds access tokens. Nothing here prints a token: [`Profile::masked_token`] is what a
//! listing shows.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

/// The profile used when neither `--profile` nor `FLOWD_PROFILE` names one.
pub const DEFAULT_PROFILE: &str = "default";

/// One server and the credential to call it with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct Profile {
    /// The server's base URL, e.g. `http://127.0.0.1:8080` (no path).
    pub url: String,
    /// The credential's `apiKey` (sent as `x-api-key`).
    pub api_key: String,
    /// The credential's `accessToken` (sent as a bearer token); never printed.
    pub access_token: String,
    /// The IMS org the credential acts for (`x-gw-ims-org-id`).
    pub org: String,
    /// The sandbox calls go to unless `--sandbox` overrides it (`x-sandbox-name`).
    pub sandbox: String,
}

impl Profile {
    /// The token as a listing shows it: its length hidden too.
    pub fn masked_token(&self) -> &'static str {
        "********"
    }
}

/// Every stored profile, by name.
#[derive(Serialize, Deserialize, Default, Debug)]
pub struct Profiles {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// The directory holding `profiles.toml`.
pub fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("FLOWD_CONFIG_DIR").filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir).join("flowd"));
    }
    match std::env::var_os("HOME").filter(|dir| !dir.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".config").join("flowd")),
        None => bail!("no config dir: set FLOWD_CONFIG_DIR, XDG_CONFIG_HOME or HOME"),
    }
}

/// `profiles.toml` in [`config_dir`].
pub fn profiles_path() -> anyhow::Result<PathBuf> {
    Ok(config_dir()?.join("profiles.toml"))
}

impl Profiles {
    /// The stored profiles; none when the file does not exist yet.
    pub fn load(path: &Path) -> anyhow::Result<Profiles> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("reading {}", path.display()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Profiles::default()),
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the file owner-only (0600), replacing it in one rename so that a reader never
    /// sees half of it.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let dir = path
            .parent()
            .context("the profiles file has no directory")?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let text = toml::to_string(self)?;
        let temporary = path.with_extension("toml.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temporary)
            .with_context(|| format!("writing {}", temporary.display()))?;
        #[cfg(unix)]
        std::fs::set_permissions(
            &temporary,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
    }

    /// The profile `name` names, else `FLOWD_PROFILE`'s, else `default` (or the only one).
    pub fn select(&self, name: Option<&str>) -> anyhow::Result<(String, Profile)> {
        let wanted = name.map(str::to_owned).or_else(|| {
            std::env::var("FLOWD_PROFILE")
                .ok()
                .filter(|name| !name.is_empty())
        });
        let name = match wanted {
            Some(name) => name,
            None if self.profiles.contains_key(DEFAULT_PROFILE) => DEFAULT_PROFILE.to_owned(),
            None if self.profiles.len() == 1 => self.profiles.keys().next().unwrap().clone(),
            None if self.profiles.is_empty() => {
                bail!(
                    "no profile stored: run `flowd api login --url URL --credential-file FILE` first"
                )
            }
            None => bail!(
                "several profiles and none named `default`: choose one with --profile NAME or FLOWD_PROFILE ({})",
                self.names()
            ),
        };
        match self.profiles.get(&name) {
            Some(profile) => Ok((name, profile.clone())),
            None if self.profiles.is_empty() => {
                bail!("no profile `{name}`: no profile is stored yet (run `flowd api login` first)")
            }
            None => bail!("no profile `{name}`: the stored ones are {}", self.names()),
        }
    }

    fn names(&self) -> String {
        self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(url: &str) -> Profile {
        Profile {
            url: url.into(),
            api_key: "key".into(),
            access_token: "token".into(),
            org: "org@AdobeOrg".into(),
            sandbox: "prod".into(),
        }
    }

    #[test]
    fn the_only_profile_is_selected_without_a_name() {
        let mut profiles = Profiles::default();
        profiles
            .profiles
            .insert("staging".into(), profile("http://a"));
        assert_eq!(profiles.select(None).unwrap().0, "staging");
        let error = profiles.select(Some("prod")).unwrap_err().to_string();
        assert_eq!(error, "no profile `prod`: the stored ones are staging");
    }

    #[test]
    fn saved_profiles_read_back_and_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("profiles.toml");
        let mut profiles = Profiles::default();
        profiles
            .profiles
            .insert("default".into(), profile("http://b"));
        profiles.save(&path).unwrap();
        let read = Profiles::load(&path).unwrap();
        assert_eq!(read.profiles["default"], profile("http://b"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
