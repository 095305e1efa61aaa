//! `BETTER_AUTH_SECRET`: required and non-default in production; generated once into the data
//! directory in development, so a fresh checkout runs with nothing to configure and sessions
//! survive restarts.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::{Environment, Secret, Settings};

/// Better Auth's development default; it refuses it in production and so do we.
pub const BETTER_AUTH_DEFAULT_SECRET: &str = "better-auth-secret-12345678901234567890";
const SECRET_FILE: &str = "better-auth-secret";
/// The shortest secret production accepts (Better Auth's own advice is 32 or more).
const MIN_SECRET_CHARS: usize = 32;

pub fn resolve(settings: &Settings) -> anyhow::Result<Secret<String>> {
    let configured = settings.auth.secret.clone();
    match (settings.environment, configured) {
        (Environment::Production, None) => bail!(
            "BETTER_AUTH_SECRET is not set; production needs a long random secret \
             (e.g. `openssl rand -base64 32`), the same as your Better Auth server's"
        ),
        (Environment::Production, Some(s)) if s.expose() == BETTER_AUTH_DEFAULT_SECRET => bail!(
            "BETTER_AUTH_SECRET is Better Auth's public development default; set a long random secret"
        ),
        // SHA-256 of the secret is the key that encrypts the JWT signing key, so a short one is
        // a forgeable one.
        (Environment::Production, Some(s)) if s.expose().chars().count() < MIN_SECRET_CHARS => {
            bail!(
                "BETTER_AUTH_SECRET is shorter than {MIN_SECRET_CHARS} characters; production \
                 needs a long random secret (e.g. `openssl rand -base64 32`)"
            )
        }
        (_, Some(s)) => {
            if s.expose().chars().count() < MIN_SECRET_CHARS {
                tracing::warn!(
                    "BETTER_AUTH_SECRET is shorter than {MIN_SECRET_CHARS} characters; production refuses it"
                );
            }
            Ok(s)
        }
        (Environment::Development, None) => development_secret(&settings.data_dir),
    }
}

fn development_secret(data_dir: &Path) -> anyhow::Result<Secret<String>> {
    let path = data_dir.join(SECRET_FILE);
    if let Ok(existing) = fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(Secret::new(existing));
        }
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create CHATKEEP_DATA_DIR {}", data_dir.display()))?;
    let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&path)
        .and_then(|mut f| f.write_all(secret.as_bytes()))
        .with_context(|| format!("cannot write the development secret to {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "BETTER_AUTH_SECRET is not set: generated a development secret (set it explicitly in production)"
    );
    Ok(Secret::new(secret))
}
