//! Rate limits in one instance's memory: per address, per account, per route, not dodged by
//! encoding or forged headers; and the password hasher's bounded queue.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{rate_limited, sign_in_from};
use crate::helpers::{DEFAULT_PASSWORD, spawn_app_with, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn the_fourth_sign_in_in_ten_seconds_is_429_but_not_for_another_ip(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let attempt = |ip: &str| {
        app.client
            .post(app.url("/api/auth/sign-in/email"))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(attempt("203.0.113.7").await.unwrap().status(), 401);
    }
    let refused = attempt("203.0.113.7").await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["x-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(
        refused.text().await.unwrap(),
        r#"{"message":"Too many requests. Please try again later."}"#
    );
    assert_eq!(
        attempt("203.0.113.8").await.unwrap().status(),
        401,
        "another IP has its own bucket"
    );
    // Other paths have their own, larger allowance.
    let ok = app
        .client
        .get(app.url("/api/auth/ok"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn guesses_from_other_addresses_never_keep_the_owner_out(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let victim = unique_email("victim");
    app.sign_up(&victim).await;
    // Round after round, an attacker spends each of three fresh addresses' allowance on wrong
    // passwords (the email's case varied), and between rounds the owner signs in from home.
    // Six rounds pass 50 failures, past which every attempt at the account is slowed: the
    // owner's too, but never refused.
    let mut guesses = 0;
    for round in 0..6 {
        for address in 0..3 {
            let ip = format!("198.51.100.{}", round * 3 + address);
            for i in 0..3 {
                let email = if i % 2 == 0 {
                    victim.clone()
                } else {
                    victim.to_uppercase()
                };
                let guess = sign_in_from(&app, &ip, &email, "wrong-guess-1")
                    .await
                    .unwrap();
                assert_eq!(guess.status(), 401, "round {round}, {ip}, guess {i}");
                guesses += 1;
            }
            let over = sign_in_from(&app, &ip, &victim, "wrong-guess-2")
                .await
                .unwrap();
            assert_eq!(over.status(), 429, "the attacker's address is limited");
        }
        // (From a new address each round: one address has 3 sign-ins per 10 s, whoever it is.)
        let home = format!("203.0.113.{}", 50 + round);
        let owner = sign_in_from(&app, &home, &victim, DEFAULT_PASSWORD)
            .await
            .unwrap();
        assert_eq!(owner.status(), 200, "the owner after {guesses} guesses");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_address_that_keeps_failing_is_refused_for_that_account_only(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let victim = unique_email("victim");
    let owner_session = app.sign_up(&victim).await;
    let bystander = unique_email("bystander");
    app.sign_up(&bystander).await;
    let ip = "198.51.100.9";
    // Ten failures from one address, at the pace its per-address rule (3 per 10 s) allows.
    let mut failures = 0;
    while failures < 10 {
        let guess = sign_in_from(&app, ip, &victim, "wrong-guess-1")
            .await
            .unwrap();
        match guess.status().as_u16() {
            401 => failures += 1,
            429 => {
                let wait: u64 = guess.headers()["x-retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    // The address's own rule has room again once its window passes; the account's does not.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let held = sign_in_from(&app, ip, &victim, DEFAULT_PASSWORD)
        .await
        .unwrap();
    assert_eq!(held.status(), 429, "this address is done with this account");
    let retry: u64 = held.headers()["x-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    assert!(held.headers().get("set-cookie").is_none(), "no session");
    // The count is the account's, whichever route checks its password: a token stolen from
    // the owner cannot go on guessing at `DELETE /api/me` from that address (whose own rule
    // for that route is untouched).
    let deletion = app
        .client
        .delete(app.url("/api/me"))
        .header("x-forwarded-for", ip)
        .bearer_auth(&owner_session.bearer)
        .json(&serde_json::json!({ "password": DEFAULT_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deletion.status(), 429);
    let body: serde_json::Value = deletion.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED", "{body}");
    // From the same address, another account; and the account, from another address.
    let other = sign_in_from(&app, ip, &bystander, DEFAULT_PASSWORD)
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    let owner = sign_in_from(&app, "203.0.113.50", &victim, DEFAULT_PASSWORD)
        .await
        .unwrap();
    assert_eq!(owner.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn percent_encoding_the_path_does_not_dodge_the_sign_in_limit(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("AUTH_RATE_LIMIT", "on")]).await;
    let mut statuses = Vec::new();
    for path in [
        "/api/auth/sign-in/email",
        "/api/auth/%73ign-in/email",
        "/api/%61uth/sign-in/emai%6C",
        "/api/auth/sign-in/email/",
    ] {
        let response = app
            .client
            .post(app.url(path))
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses[..3],
        [401, 401, 401],
        "the encoded paths reach sign-in"
    );
    assert_eq!(statuses[3], 429, "and all four count against one bucket");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_client_cannot_pick_its_bucket_without_a_trusted_proxy(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    // No trusted proxies: X-Forwarded-For is ignored, every attempt is the socket's 127.0.0.1.
    let app = spawn_app_with(pool, conn, &[("AUTH_RATE_LIMIT", "on")]).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let response = app
            .client
            .post(app.url("/api/auth/sign-in/email"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}

#[sqlx::test(migrations = "../migrations")]
async fn password_guesses_at_delete_user_are_held_to_the_sign_in_rule(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let s = app.sign_up(&unique_email("delete-guess")).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = app
            .client
            .post(app.url("/api/auth/delete-user"))
            .header("x-forwarded-for", "198.51.100.77")
            .bearer_auth(&s.bearer)
            .json(&serde_json::json!({ "password": "not-the-password" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 429]);
}

#[sqlx::test(migrations = "../migrations")]
async fn password_guesses_at_account_deletion_are_held_to_the_strict_rule(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let s = app.sign_up(&unique_email("delete-me-guess")).await;
    let delete_from = |ip: String, password: &'static str| {
        app.client
            .delete(app.url("/api/me"))
            .header("x-forwarded-for", ip)
            .bearer_auth(&s.bearer)
            .json(&serde_json::json!({ "password": password }))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = delete_from("198.51.100.77".into(), "not-the-password")
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [400, 400, 400, 429],
        "a stolen token is no oracle"
    );
    // The account is still there.
    assert_eq!(
        app.client
            .get(app.url("/api/me"))
            .bearer_auth(&s.bearer)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_saturated_password_hasher_answers_503_instead_of_queueing_forever(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(
        pool,
        conn,
        &[
            ("AUTH_RATE_LIMIT", "off"),
            ("PASSWORD_HASH_CONCURRENCY", "1"),
            ("PASSWORD_HASH_MAX_WAIT_MS", "1"),
        ],
    )
    .await;
    let attempts = (0..8).map(|i| {
        let request = app
            .post("/api/auth/sign-up/email")
            .json(&serde_json::json!({
                "name": "Crowd",
                "email": unique_email(&format!("crowd{i}")),
                "password": DEFAULT_PASSWORD,
            }));
        async move { request.send().await.unwrap() }
    });
    let responses = futures_util::future::join_all(attempts).await;
    let mut busy = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => {}
            503 => {
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["code"], "BUSY", "{body}");
                busy += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        busy > 0,
        "eight hashes at once through one slot with a 1 ms wait"
    );

    // DELETE /api/me checks a password too: the same 503 (it was a 500), and nothing deleted.
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(app.sign_up(&unique_email(&format!("leaver{i}"))).await);
    }
    let deletions = users.iter().map(|s| {
        let request = app
            .client
            .delete(app.url("/api/me"))
            .bearer_auth(&s.bearer)
            .json(&serde_json::json!({ "password": "not-the-password" }));
        async move { request.send().await.unwrap() }
    });
    let mut statuses = Vec::new();
    for response in futures_util::future::join_all(deletions).await {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        if status == 503 {
            assert_eq!(body["code"], "BUSY", "{body}");
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [400, 503].contains(s)),
        "{statuses:?}"
    );
}
