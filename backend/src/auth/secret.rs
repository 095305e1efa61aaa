//! `BETTER_AUTH_SECRET`: required and non-default in production; generated once into the data
//! directory in development, so a fresh checkout runs with nothing to configure and sessions
//! survive restarts.

use std::fs;
use std::io::{ErrorKind, Write};
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
    match stored_secret(&path)? {
        Some(existing) => return Ok(existing),
        // Left empty by a crash between creating and writing it: start again.
        None if path.exists() => {
            let _ = fs::remove_file(&path);
        }
        None => {}
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create CHATKEEP_DATA_DIR {}", data_dir.display()))?;
    let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    // Instances started together on one data directory (the compose profile's two) must sign
    // with one secret. So the secret is written whole under a name of this process's own and
    // then linked into place: the first link wins, and everyone else reads the winner's.
    let staging = data_dir.join(format!(
        ".{SECRET_FILE}.{}.{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let write = |at: &Path, options: &mut fs::OpenOptions| {
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
        options
            .open(at)
            .and_then(|mut f| f.write_all(secret.as_bytes()))
            .with_context(|| format!("cannot write the development secret to {}", at.display()))
    };
    write(
        &staging,
        fs::OpenOptions::new().write(true).create_new(true),
    )?;
    let linked = fs::hard_link(&staging, &path);
    let _ = fs::remove_file(&staging);
    match linked {
        Ok(()) => tracing::warn!(
            path = %path.display(),
            "BETTER_AUTH_SECRET is not set: generated a development secret (set it explicitly in production)"
        ),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        // A file system without hard links: write in place, as the only instance.
        Err(_) => write(
            &path,
            fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true),
        )?,
    }
    stored_secret(&path)?
        .with_context(|| format!("the development secret in {} is empty", path.display()))
}

/// The secret in `path`: `None` when there is no file or it is empty. A file that is there but
/// cannot be read is an error, never a reason to replace it (every session would end).
fn stored_secret(path: &Path) -> anyhow::Result<Option<Secret<String>>> {
    match fs::read_to_string(path) {
        Ok(stored) => {
            let stored = stored.trim();
            Ok((!stored.is_empty()).then(|| Secret::new(stored.to_owned())))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e)
            .with_context(|| format!("cannot read the development secret in {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_starting_together_on_one_data_directory_share_one_secret() {
        let dir = std::env::temp_dir().join(format!("chatkeep-secret-{}", rand::random::<u64>()));
        let barrier = std::sync::Barrier::new(8);
        let secrets: Vec<String> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        development_secret(&dir).unwrap().expose().clone()
                    })
                })
                .collect();
            starts.into_iter().map(|s| s.join().unwrap()).collect()
        });
        let stored = fs::read_to_string(dir.join(SECRET_FILE)).unwrap();
        assert!(
            secrets.iter().all(|s| *s == stored),
            "every instance signs with the secret stored"
        );
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no staging file is left"
        );
        // A restart reads it back, and a file left empty is replaced.
        assert_eq!(development_secret(&dir).unwrap().expose(), &stored);
        fs::write(dir.join(SECRET_FILE), "").unwrap();
        let fresh = development_secret(&dir).unwrap();
        assert_ne!(fresh.expose(), &stored);
        assert_eq!(
            fs::read_to_string(dir.join(SECRET_FILE)).unwrap(),
            *fresh.expose()
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_secret_that_cannot_be_read_is_an_error_and_is_left_in_place() {
        let dir = std::env::temp_dir().join(format!("chatkeep-secret-{}", rand::random::<u64>()));
        // Something unreadable where the secret belongs (a folder stands in for a file of
        // another owner, which root, running the tests, could read anyway).
        fs::create_dir_all(dir.join(SECRET_FILE)).unwrap();
        let error = development_secret(&dir).unwrap_err();
        assert!(
            format!("{error:#}").contains("cannot read the development secret"),
            "{error:#}"
        );
        assert!(dir.join(SECRET_FILE).is_dir(), "left as it was");
        fs::remove_dir_all(&dir).unwrap();
    }
}
