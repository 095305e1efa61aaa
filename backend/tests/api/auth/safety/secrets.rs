//! `BETTER_AUTH_SECRET`: what production refuses, and the secret development generates.

use crate::helpers::test_settings;

#[test]
fn production_refuses_a_missing_or_default_secret() {
    for secret in [
        None,
        Some(chatkeep::auth::secret::BETTER_AUTH_DEFAULT_SECRET),
    ] {
        // (Production sends mail: an SMTP server is required to start.)
        let mut vars = vec![
            ("CHATKEEP_ENV", "production"),
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
        ];
        let mut settings = test_settings(&vars);
        settings.auth.secret = secret.map(|s| chatkeep::config::Secret::new(s.to_owned()));
        let err = chatkeep::auth::secret::resolve(&settings)
            .unwrap_err()
            .to_string();
        assert!(err.contains("BETTER_AUTH_SECRET"), "{err}");
        vars.clear();
    }
}

#[test]
fn production_refuses_a_secret_shorter_than_32_characters_and_takes_a_longer_one() {
    let mut settings = test_settings(&[
        ("CHATKEEP_ENV", "production"),
        ("SMTP_URL", "smtp://127.0.0.1:2525"),
    ]);
    let short = "only-thirty-one-characters-long";
    assert_eq!(short.len(), 31);
    settings.auth.secret = Some(chatkeep::config::Secret::new(short.to_owned()));
    let err = chatkeep::auth::secret::resolve(&settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("shorter than 32"), "{err}");

    let long = "x".repeat(32);
    settings.auth.secret = Some(chatkeep::config::Secret::new(long.clone()));
    assert_eq!(
        chatkeep::auth::secret::resolve(&settings)
            .unwrap()
            .current(),
        long
    );

    // The same rules for the current entry of BETTER_AUTH_SECRETS, and no entry may be the
    // public default.
    settings.auth.secrets = Some(vec![
        (2, chatkeep::config::Secret::new(short.to_owned())),
        (1, chatkeep::config::Secret::new(long.clone())),
    ]);
    let err = chatkeep::auth::secret::resolve(&settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("shorter than 32"), "{err}");
    settings.auth.secrets = Some(vec![
        (2, chatkeep::config::Secret::new(long.clone())),
        (
            1,
            chatkeep::config::Secret::new(
                chatkeep::auth::secret::BETTER_AUTH_DEFAULT_SECRET.to_owned(),
            ),
        ),
    ]);
    let err = chatkeep::auth::secret::resolve(&settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("development default"), "{err}");
    settings.auth.secrets = Some(vec![(2, chatkeep::config::Secret::new(long.clone()))]);
    let secrets = chatkeep::auth::secret::resolve(&settings).unwrap();
    assert_eq!(
        (secrets.current(), secrets.current_version()),
        (long.as_str(), Some(2))
    );
}

#[test]
fn development_generates_a_secret_once_and_keeps_it() {
    let dir = std::env::temp_dir().join(format!("chatkeep-secret-{}", uuid::Uuid::new_v4()));
    let data_dir = dir.display().to_string();
    let mut settings = test_settings(&[("CHATKEEP_DATA_DIR", data_dir.as_str())]);
    settings.auth.secret = None;
    let first = chatkeep::auth::secret::resolve(&settings).unwrap();
    let second = chatkeep::auth::secret::resolve(&settings).unwrap();
    assert_eq!(first.current(), second.current());
    assert!(first.current().len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("better-auth-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the secret file is private");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
