//! The keys OAS signs with. Given through the environment in production;
//! in the embedded mode generated on first start and kept in
//! `$OAS_DATA_DIR/secrets.json` (readable by its owner only), so a restart
//! keeps every token and webhook signature valid.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::Settings;

pub const FILE_NAME: &str = "secrets.json";

/// The resolved signing keys.
#[derive(Clone)]
pub struct Secrets {
    pub jwt: SecretString,
    pub webhook: SecretString,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid secrets file; fix it or remove it to generate new keys")]
    Malformed { path: PathBuf },
}

#[derive(Serialize, Deserialize)]
struct StoredSecrets {
    jwt_secret: String,
    webhook_secret: String,
}

impl Secrets {
    /// Takes each key from the settings when given, else from the data
    /// directory's secrets file, generating that file when missing.
    pub fn resolve(settings: &Settings) -> Result<Self, SecretsError> {
        if let (Some(jwt), Some(webhook)) = (&settings.jwt_secret, &settings.webhook_secret) {
            return Ok(Self {
                jwt: jwt.clone(),
                webhook: webhook.clone(),
            });
        }
        let stored = load_or_create(&settings.data_dir.join(FILE_NAME))?;
        Ok(Self {
            jwt: settings
                .jwt_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(stored.jwt_secret.clone())),
            webhook: settings
                .webhook_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(stored.webhook_secret.clone())),
        })
    }
}

/// 48 random bytes, URL-safe base64: 64 characters.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn load_or_create(path: &Path) -> Result<StoredSecrets, SecretsError> {
    let io = |source| SecretsError::Io {
        path: path.to_path_buf(),
        source,
    };
    match fs::read(path) {
        Ok(bytes) => {
            let stored: StoredSecrets =
                serde_json::from_slice(&bytes).map_err(|_| SecretsError::Malformed {
                    path: path.to_path_buf(),
                })?;
            if stored.jwt_secret.len() < 32 || stored.webhook_secret.len() < 32 {
                return Err(SecretsError::Malformed {
                    path: path.to_path_buf(),
                });
            }
            Ok(stored)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let stored = StoredSecrets {
                jwt_secret: generate_key(),
                webhook_secret: generate_key(),
            };
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(io)?;
            }
            let json =
                serde_json::to_vec_pretty(&stored).map_err(|e| io(std::io::Error::other(e)))?;
            // Write aside, then rename: a crash never leaves half a key file,
            // and two processes starting at once agree on one file.
            let staging = path.with_extension(format!("json.{}", std::process::id()));
            write_private(&staging, &json).map_err(io)?;
            match fs::hard_link(&staging, path) {
                Ok(()) => {
                    let _ = fs::remove_file(&staging);
                    Ok(stored)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let _ = fs::remove_file(&staging);
                    load_or_create(path)
                }
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

impl Secrets {
    /// For tests and tools: both keys as plain strings.
    pub fn expose(&self) -> (&str, &str) {
        (self.jwt.expose_secret(), self.webhook.expose_secret())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path, vars: &[(&str, &str)]) -> Settings {
        let mut all = vec![("OAS_DATA_DIR".to_owned(), dir.display().to_string())];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Settings::from_vars(all).unwrap()
    }

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Secrets::resolve(&settings(dir.path(), &[])).unwrap();
        let second = Secrets::resolve(&settings(dir.path(), &[])).unwrap();
        assert_eq!(first.expose(), second.expose());
        assert_eq!(first.expose().0.len(), 64);
        assert_ne!(first.expose().0, first.expose().1, "two independent keys");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "only the owner may read the keys");
        }
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let generated = Secrets::resolve(&settings(dir.path(), &[])).unwrap();
        let given = "j".repeat(40);
        let s = Secrets::resolve(&settings(dir.path(), &[("OAS_JWT_SECRET", &given)])).unwrap();
        assert_eq!(s.expose().0, given);
        assert_eq!(s.expose().1, generated.expose().1);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_silent_new_key() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        let err = Secrets::resolve(&settings(dir.path(), &[])).unwrap_err();
        assert!(matches!(err, SecretsError::Malformed { .. }), "{err}");
    }
}
