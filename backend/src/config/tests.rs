//! Unit tests of the settings: defaults, parsing errors, and what stays out of `Debug`.

use std::collections::HashMap;

use super::*;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_need_no_configuration() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.bind, "127.0.0.1:8080");
    assert_eq!(s.base_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(s.database.url.expose(), DEFAULT_DATABASE_URL);
    assert_eq!(s.environment, Environment::Development);
    assert_eq!(s.log_format, LogFormat::Pretty);
}

#[test]
fn provider_ids_never_take_the_passwords_or_the_built_ins() {
    for id in ["credential", "github", "google", "Corp", "a b"] {
        let err = settings(&[("OIDC_PROVIDERS", id)]).unwrap_err();
        assert_eq!(err.key, "OIDC_PROVIDERS", "{id}");
    }
    let err = settings(&[("OIDC_PROVIDERS", "corp")]).unwrap_err();
    assert!(err.problem.contains("OIDC_CORP_ISSUER"), "{}", err.problem);
}

#[test]
fn versioned_secrets_read_as_better_auth_reads_them() {
    let s = settings(&[("BETTER_AUTH_SECRETS", " 2:new:with:colons , 1:old ")]).unwrap();
    let secrets = s.auth.secrets.unwrap();
    let read: Vec<(u32, &str)> = secrets
        .iter()
        .map(|(v, s)| (*v, s.expose().as_str()))
        .collect();
    assert_eq!(
        read,
        [(2, "new:with:colons"), (1, "old")],
        "the first is current"
    );

    for (raw, problem) in [
        ("2:s3cr3t,", "entry 2 has no version"),
        ("s3cr3t", "entry 1 has no version"),
        ("2abc:s3cr3t", "not a whole number"),
        ("-1:s3cr3t", "not a whole number"),
        ("2: ", "empty secret"),
        ("2:s3cr3t,2:s3cr3t2", "given twice"),
    ] {
        let err = settings(&[("BETTER_AUTH_SECRETS", raw)]).unwrap_err();
        assert_eq!(err.key, "BETTER_AUTH_SECRETS");
        assert!(err.to_string().contains(problem), "{raw}: {err}");
        assert!(
            !err.to_string().contains("s3cr3t"),
            "no secret in the error: {err}"
        );
    }
}

#[test]
fn the_password_hash_is_scrypt_unless_bcrypt_is_asked_for() {
    assert_eq!(
        settings(&[]).unwrap().auth.password_hash,
        PasswordHash::Scrypt
    );
    let s = settings(&[("PASSWORD_HASH", "BCRYPT")]).unwrap();
    assert_eq!(s.auth.password_hash, PasswordHash::Bcrypt);
    let err = settings(&[("PASSWORD_HASH", "argon2")]).unwrap_err();
    assert_eq!(err.key, "PASSWORD_HASH");
}

#[test]
fn base_url_follows_the_bind_address() {
    let s = settings(&[("CHATKEEP_BIND", "127.0.0.1:9000")]).unwrap();
    assert_eq!(s.base_url.as_str(), "http://127.0.0.1:9000/");
    let s = settings(&[("CHATKEEP_BIND", "0.0.0.0:9000")]).unwrap();
    assert_eq!(s.base_url.as_str(), "http://127.0.0.1:9000/");
}

#[test]
fn invalid_values_name_the_key_and_the_fix() {
    let err = settings(&[("CHATKEEP_BIND", "nonsense")]).unwrap_err();
    assert_eq!(err.key, "CHATKEEP_BIND");
    assert!(err.to_string().contains("host:port"), "{err}");

    let err = settings(&[("DATABASE_URL", "mysql://x@h/db")]).unwrap_err();
    assert_eq!(err.key, "DATABASE_URL");

    let err = settings(&[("DATABASE_MAX_CONNECTIONS", "0")]).unwrap_err();
    assert_eq!(err.key, "DATABASE_MAX_CONNECTIONS");

    let err = settings(&[("LOG_FORMAT", "xml")]).unwrap_err();
    assert_eq!(err.key, "LOG_FORMAT");

    let err = settings(&[("BETTER_AUTH_URL", "ftp://x")]).unwrap_err();
    assert_eq!(err.key, "BETTER_AUTH_URL");
}

#[test]
fn production_will_not_start_without_a_way_to_send_the_mail_its_flows_send() {
    let secret = (
        "BETTER_AUTH_SECRET",
        "a-production-secret-that-is-long-enough-0123",
    );
    let err = settings(&[("CHATKEEP_ENV", "production"), secret]).unwrap_err();
    assert_eq!(err.key, "SMTP_URL");
    assert!(err.to_string().contains("PASSWORD_RESET=off"), "{err}");
    let quiet = [
        ("CHATKEEP_ENV", "production"),
        secret,
        ("PASSWORD_RESET", "off"),
        ("EMAIL_VERIFICATION", "off"),
        ("CHANGE_EMAIL", "off"),
    ];
    assert!(settings(&quiet).is_ok());
    let smtp = [
        ("CHATKEEP_ENV", "production"),
        secret,
        (
            "SMTP_URL",
            "smtp://user:pass@smtp.example.com:587?tls=required",
        ),
    ];
    let s = settings(&smtp).unwrap();
    assert!(
        !format!("{s:?}").contains("pass@"),
        "the SMTP password stays out of Debug"
    );
    assert_eq!(s.mail.from, "Chatkeep <no-reply@localhost>");
    let err = settings(&[("SMTP_URL", "http://example.com")]).unwrap_err();
    assert_eq!(err.key, "SMTP_URL");
    let err = settings(&[("EMAIL_VERIFICATION", "maybe")]).unwrap_err();
    assert_eq!(err.key, "EMAIL_VERIFICATION");
}

#[test]
fn every_setting_read_is_named() {
    let names = setting_names();
    for key in [
        "DATABASE_URL",
        "AUTH_JWT_ISSUER",
        "IMPORT_MAX_NODES",
        "USER_MAX_STORED_BYTES",
        "MAX_FOLLOWERS",
    ] {
        assert!(
            names.iter().any(|n| n == key),
            "{key} missing from {names:?}"
        );
    }
}

#[test]
fn debug_output_hides_secrets() {
    let s = settings(&[
        ("DATABASE_URL", "postgres://app:hunter2@db:5432/chatkeep"),
        ("BETTER_AUTH_SECRET", "super-secret-value-1234567890"),
    ])
    .unwrap();
    let printed = format!("{s:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(!printed.contains("super-secret-value"), "{printed}");
    assert!(printed.contains("redacted"), "{printed}");
}
