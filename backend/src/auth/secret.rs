//! `BETTER_AUTH_SECRET`: required and non-default in production; generated once into the data
//! directory in development, so a fresh checkout runs with nothing to configure and sessions
//! survive restarts. `BETTER_AUTH_SECRETS` (Better Auth 1.5's rotation) replaces it with
//! versioned secrets: see [`Secrets`].

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

/// The secrets in use, as Better Auth 1.7 uses them.
///
/// Without rotation there is one. With `BETTER_AUTH_SECRETS="2:new,1:old"` the first entry is
/// current: it signs new cookies, bearer tokens and the email links' JWTs, and encrypts new
/// keys as `$ba$2$<hex>`. Encrypted values name their version and decrypt with it; bare hex
/// (encrypted before rotation) decrypts with `BETTER_AUTH_SECRET` when it is still set.
///
/// One difference from Better Auth, on purpose: a session cookie or bearer token signed with an
/// older version is still accepted here (Better Auth checks the current secret only, so
/// rotating signs everyone out there). A cookie's signature only vouches for a token that must
/// also be a live session, so accepting an old one lets in nobody a database row does not. The
/// email links' JWTs do authorise on their own, so they verify with the current secret only,
/// as in Better Auth.
#[derive(Debug)]
pub struct Secrets {
    current: Secret<String>,
    /// `(version, secret)`, current first; empty without rotation.
    versions: Vec<(u32, Secret<String>)>,
    /// `BETTER_AUTH_SECRET` beside `BETTER_AUTH_SECRETS`: decrypts what predates rotation.
    legacy: Option<Secret<String>>,
}

impl Secrets {
    /// One secret, no rotation.
    pub fn single(secret: Secret<String>) -> Self {
        Self {
            current: secret,
            versions: Vec::new(),
            legacy: None,
        }
    }

    /// `BETTER_AUTH_SECRETS`' entries (current first) and `BETTER_AUTH_SECRET` beside them.
    pub fn rotated(versions: Vec<(u32, Secret<String>)>, legacy: Option<Secret<String>>) -> Self {
        let current = versions
            .first()
            .map(|(_, s)| s.clone())
            .expect("BETTER_AUTH_SECRETS has at least one entry");
        Self {
            current,
            versions,
            legacy: legacy.filter(|s| s.expose() != BETTER_AUTH_DEFAULT_SECRET),
        }
    }

    /// Signs everything new.
    pub fn current(&self) -> &str {
        self.current.expose()
    }

    /// The current version, when rotation is on.
    pub fn current_version(&self) -> Option<u32> {
        self.versions.first().map(|(v, _)| *v)
    }

    /// `(version, secret)` of `BETTER_AUTH_SECRETS`, current first; none without rotation.
    pub fn versions(&self) -> impl Iterator<Item = (u32, &str)> {
        self.versions.iter().map(|(v, s)| (*v, s.expose().as_str()))
    }

    /// What decrypts a value with no version: `BETTER_AUTH_SECRET`, or without rotation the one
    /// secret. With rotation and no legacy secret, every version is tried (Better Auth gives up).
    pub fn unversioned(&self) -> Vec<&str> {
        match (&self.legacy, self.versions.is_empty()) {
            (Some(legacy), _) => vec![legacy.expose().as_str()],
            (None, true) => vec![self.current()],
            (None, false) => self
                .versions
                .iter()
                .map(|(_, s)| s.expose().as_str())
                .collect(),
        }
    }

    /// Every secret a session cookie or bearer token may be signed with: the current first.
    pub fn cookie_secrets(&self) -> impl Iterator<Item = &str> {
        let mut seen: Vec<&str> = Vec::new();
        std::iter::once(self.current())
            .chain(self.versions.iter().map(|(_, s)| s.expose().as_str()))
            .chain(self.legacy.iter().map(|s| s.expose().as_str()))
            .filter(move |s| {
                let fresh = !seen.contains(s);
                seen.push(s);
                fresh
            })
    }
}

pub fn resolve(settings: &Settings) -> anyhow::Result<Secrets> {
    let Some(versions) = settings.auth.secrets.clone() else {
        return resolve_single(settings).map(Secrets::single);
    };
    let Some((_, current)) = versions.first() else {
        bail!("BETTER_AUTH_SECRETS has no entries");
    };
    if settings.environment == Environment::Production {
        if versions
            .iter()
            .any(|(_, s)| s.expose() == BETTER_AUTH_DEFAULT_SECRET)
        {
            bail!("BETTER_AUTH_SECRETS holds Better Auth's public development default; remove it");
        }
        if current.expose().chars().count() < MIN_SECRET_CHARS {
            bail!(
                "the current secret in BETTER_AUTH_SECRETS (the first entry) is shorter than \
                 {MIN_SECRET_CHARS} characters; production needs a long random secret"
            );
        }
    } else if current.expose().chars().count() < MIN_SECRET_CHARS {
        tracing::warn!(
            "the current secret in BETTER_AUTH_SECRETS is shorter than {MIN_SECRET_CHARS} characters; production refuses it"
        );
    }
    Ok(Secrets::rotated(versions, settings.auth.secret.clone()))
}

fn resolve_single(settings: &Settings) -> anyhow::Result<Secret<String>> {
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
    if let Some(existing) = stored_secret(&path)? {
        return Ok(existing);
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create CHATKEEP_DATA_DIR {}", data_dir.display()))?;
    // Instances started together on one data directory (the compose profile's two) must sign
    // with one secret. The one that finds none writes it while holding a lock on the directory;
    // the others wait for the lock, then find it. (Without the lock, a start that found no
    // file could replace one another start had just written.)
    match fs::File::open(data_dir).and_then(|dir| dir.lock().map(|()| dir)) {
        // Held (the lock with it) until this function returns.
        Ok(_locked) => {
            if let Some(existing) = stored_secret(&path)? {
                return Ok(existing);
            }
            return write_secret(data_dir, &path);
        }
        Err(e) => tracing::warn!(
            error = %e,
            "cannot lock CHATKEEP_DATA_DIR; instances starting at once may race for its secret"
        ),
    }
    write_secret(data_dir, &path)
}

/// Writes a new secret to `path`, whole under a name of its own first, then published without
/// replacing one another start published meanwhile (whose secret is then the one returned). A
/// file left empty by a crash is replaced.
fn write_secret(data_dir: &Path, path: &Path) -> anyhow::Result<Secret<String>> {
    let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let staging = data_dir.join(format!(".{SECRET_FILE}.{:016x}", rand::random::<u64>()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&staging)
        .and_then(|mut f| f.write_all(secret.as_bytes()).and_then(|()| f.sync_all()));
    // Whether another start published first.
    let lost_race = written.and_then(|()| match fs::hard_link(&staging, path) {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(true),
        // A file system without hard links: rename, the best it offers.
        Err(_) => fs::rename(&staging, path).map(|()| false),
    });
    let cannot_write = || format!("cannot write the development secret to {}", path.display());
    let lost_race = lost_race
        .inspect_err(|_| {
            let _ = fs::remove_file(&staging);
        })
        .with_context(cannot_write)?;
    if lost_race {
        if let Some(theirs) = stored_secret(path)? {
            let _ = fs::remove_file(&staging);
            return Ok(theirs);
        }
        // Empty: left by a crash. Ours takes its place.
        fs::rename(&staging, path).with_context(cannot_write)?;
    }
    let _ = fs::remove_file(&staging);
    tracing::warn!(
        path = %path.display(),
        "BETTER_AUTH_SECRET is not set: generated a development secret (set it explicitly in production)"
    );
    Ok(Secret::new(secret))
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

    /// Eight starts racing on one new directory, `rounds` times over: each round, every start
    /// must end with the secret stored.
    fn race(rounds: usize) -> std::path::PathBuf {
        let mut dir = std::path::PathBuf::new();
        for round in 0..rounds {
            if round > 0 {
                fs::remove_dir_all(&dir).unwrap();
            }
            dir = std::env::temp_dir().join(format!("chatkeep-secret-{}", rand::random::<u64>()));
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
        }
        dir
    }

    #[test]
    fn rotation_signs_with_the_first_entry_and_accepts_cookies_of_every_version() {
        let secret = |s: &str| Secret::new(s.to_owned());
        let secrets = Secrets::rotated(vec![(2, secret("b")), (1, secret("a"))], Some(secret("a")));
        assert_eq!(
            (secrets.current(), secrets.current_version()),
            ("b", Some(2))
        );
        assert_eq!(
            secrets.cookie_secrets().collect::<Vec<_>>(),
            ["b", "a"],
            "once each"
        );
        assert_eq!(secrets.unversioned(), ["a"]);

        let no_legacy = Secrets::rotated(vec![(2, secret("b")), (1, secret("a"))], None);
        assert_eq!(no_legacy.unversioned(), ["b", "a"]);
        let default_legacy = Secrets::rotated(
            vec![(2, secret("b"))],
            Some(secret(BETTER_AUTH_DEFAULT_SECRET)),
        );
        assert_eq!(default_legacy.cookie_secrets().collect::<Vec<_>>(), ["b"]);

        let single = Secrets::single(secret("s"));
        assert_eq!((single.current(), single.current_version()), ("s", None));
        assert_eq!(single.unversioned(), ["s"]);
    }

    #[test]
    fn instances_starting_together_on_one_data_directory_share_one_secret() {
        // The window this closes was narrow: one run in many hit it. Many rounds here.
        let dir = race(50);
        let stored = fs::read_to_string(dir.join(SECRET_FILE)).unwrap();
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
