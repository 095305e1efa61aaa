//! The per-request costs of authentication: verifying a JWT, verifying a session cookie's
//! signature, and one Better Auth scrypt hash (sign-up, sign-in, change-password).
//!
//! `cargo bench -p chatkeep --bench auth` (release profile). Numbers go in bench/README.md.

use std::hint::black_box;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatkeep::auth::keys::ActiveKey;
use chatkeep::auth::store::UserRow;
use chatkeep::auth::{cookies, jwt, password};
use chatkeep::config::PasswordHash;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey};

const ORIGIN: &str = "http://127.0.0.1:8080";
const SECRET: &str = "bench-secret-that-is-long-enough-0123456789";

fn user() -> UserRow {
    let now = chrono::Utc::now();
    UserRow {
        id: shared::UserId::new("WOZidNc4zymSeE3YgkQL590WYfi9F6Zy"),
        name: "Bench User".into(),
        email: "bench@example.com".into(),
        email_verified: false,
        image: None,
        created_at: now,
        updated_at: now,
        is_anonymous: false,
        role: Some("user".into()),
        banned: Some(false),
        ban_reason: None,
        ban_expires: None,
    }
}

fn benches(c: &mut Criterion) {
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    let active = ActiveKey {
        kid: "bench".into(),
        key,
        expires_at: None,
    };
    let token = jwt::sign(&active, &user(), ORIGIN, false).expect("signs");
    let decoding = DecodingKey::from_ed_components(&x).expect("valid key");

    c.bench_function("jwt_verify_eddsa", |b| {
        b.iter(|| {
            jwt::verify(
                black_box(&token),
                &decoding,
                Algorithm::EdDSA,
                ORIGIN,
                ORIGIN,
            )
            .expect("valid token")
        })
    });
    c.bench_function("jwt_sign_eddsa", |b| {
        b.iter(|| jwt::sign(&active, black_box(&user()), ORIGIN, false).expect("signs"))
    });

    let signed = cookies::sign(SECRET, "JjBd8LTEHe5D420kCSCMItSQ2VTKQd3G");
    c.bench_function("session_cookie_verify", |b| {
        b.iter(|| cookies::verify(SECRET, black_box(&signed)).expect("valid"))
    });

    let mut slow = c.benchmark_group("password");
    slow.sample_size(10);
    slow.bench_function("scrypt_hash_better_auth_params", |b| {
        b.iter(|| {
            password::hash_blocking(black_box("correct horse battery staple")).expect("hashes")
        })
    });
    let bcrypt =
        password::hash_with(PasswordHash::Bcrypt, "correct horse battery staple").expect("hashes");
    slow.bench_function("bcrypt_verify_cost_10", |b| {
        b.iter(|| {
            password::verify_blocking(black_box("correct horse battery staple"), &bcrypt)
                .expect("verifies")
        })
    });
    slow.finish();
}

criterion_group!(auth, benches);
criterion_main!(auth);
