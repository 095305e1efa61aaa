//! Two `chatkeep` processes on one database and one Redis, behind Debian's nginx as a
//! round-robin load balancer, all started by the test: the limits are one limit across both, a
//! stop or a revocation through one holds on the other at once, following an answer works from
//! either, and with Redis away both serve on with per-instance limits, sharing again once it is
//! back.

use std::time::{Duration, Instant};

use serde_json::json;
use shared::stream::StreamEvent;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::fake_llm::{self, FakeLlm};
use crate::helpers::processes::{Instance, Nginx, OwnRedis};
use crate::helpers::{DEFAULT_PASSWORD, SseReader, free_port, unique_email, url_for_database};

/// What the test runs: the two instances, the proxy in front, and what they share.
struct Cluster {
    a: Instance,
    b: Instance,
    nginx: Nginx,
    redis: OwnRedis,
    _llm: FakeLlm,
    client: reqwest::Client,
}

/// A signed-in user. Every request through nginx comes from 127.0.0.1 to the instances: the
/// shipped configuration replaces any X-Forwarded-For a client sends.
struct User {
    bearer: String,
}

impl Cluster {
    async fn start(conn: &PgConnectOptions, model: &str, env: &[(&str, &str)]) -> Self {
        let llm = fake_llm::start().await;
        let redis = OwnRedis::start(free_port());
        let nginx_port = free_port();
        let public = format!("http://127.0.0.1:{nginx_port}");
        let redis_url = redis.url();
        let mut vars = vec![
            ("REDIS_URL", redis_url.as_str()),
            ("BETTER_AUTH_URL", public.as_str()),
            ("CHATKEEP_TRUSTED_PROXIES", "127.0.0.1"),
            ("AGENT_URL", llm.url.as_str()),
            ("AGENT_MODEL", model),
        ];
        vars.extend_from_slice(env);
        let database = url_for_database(conn.get_database().unwrap());
        let a = Instance::start(&database, &vars);
        let b = Instance::start(&database, &vars);
        let nginx = Nginx::start(nginx_port, [a.host_port(), b.host_port()]);
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            a,
            b,
            nginx,
            redis,
            _llm: llm,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.nginx.url())
    }

    /// Signs a new user up through the proxy.
    async fn sign_up(&self) -> User {
        let response = self
            .client
            .post(self.url("/api/auth/sign-up/email"))
            .header("origin", self.nginx.url())
            .json(&json!({
                "name": "Scale", "email": unique_email("scale"), "password": DEFAULT_PASSWORD
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let bearer = response.headers()["set-auth-token"]
            .to_str()
            .unwrap()
            .to_owned();
        User { bearer }
    }

    async fn create_conversation(&self, user: &User) -> String {
        let created: serde_json::Value = self
            .client
            .post(self.url("/api/conversations"))
            .bearer_auth(&user.bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["id"].as_str().unwrap().to_owned()
    }

    /// Asks a question at `base` (the proxy or one instance), streamed.
    async fn ask(&self, base: &str, user: &User, conversation: &str) -> reqwest::Response {
        self.client
            .post(format!("{base}/api/conversations/{conversation}/messages"))
            .bearer_auth(&user.bearer)
            .header("accept", "text/event-stream")
            .json(&json!({ "content": "Tell me something long" }))
            .send()
            .await
            .unwrap()
    }

    /// `n` sign-ins with a wrong password through the proxy; their statuses. Each claims
    /// another client address (`X-Forwarded-For`), which the proxy must not pass on.
    async fn failed_sign_ins(&self, n: u8) -> Vec<u16> {
        let mut statuses = Vec::new();
        for i in 0..n {
            let response = self
                .client
                .post(self.url("/api/auth/sign-in/email"))
                .header("origin", self.nginx.url())
                .header("x-forwarded-for", format!("192.0.2.{i}"))
                .json(&json!({ "email": "nobody@example.com", "password": "whatever1" }))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        statuses
    }

    /// Stops an answer through `base`; the status.
    async fn stop(&self, base: &str, user: &User, conversation: &str, answer: &str) -> u16 {
        self.client
            .post(format!(
                "{base}/api/conversations/{conversation}/messages/{answer}/stop"
            ))
            .bearer_auth(&user.bearer)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The instance (`host:port`) behind each request nginx has logged whose line contains
    /// `request`.
    fn served(&self, request: &str) -> Vec<String> {
        let log = std::fs::read_to_string(self.nginx.access_log()).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains(request))
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect()
    }

    fn both_served(&self, request: &str) -> bool {
        let served = self.served(request);
        [&self.a, &self.b]
            .iter()
            .all(|i| served.iter().any(|s| s == i.host_port()))
    }
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// Reads events until the first delta; its id (from `start`) and text.
async fn until_first_words(reader: &mut SseReader) -> String {
    let mut answer_id = String::new();
    loop {
        match reader.next().await.expect("the stream goes on") {
            StreamEvent::Start(start) => answer_id = start.message_id.to_string(),
            StreamEvent::Delta(_) => return answer_id,
            _ => {}
        }
    }
}

/// Reads to the end; the final event's finish reason (or error code).
async fn ending(reader: &mut SseReader) -> String {
    let mut last = String::from("none");
    while let Some(event) = reader.next().await {
        match event {
            StreamEvent::Finish(f) => last = f.finish_reason,
            StreamEvent::Error(e) => last = format!("error {}", e.code),
            _ => {}
        }
    }
    last
}

#[sqlx::test(migrations = "../migrations")]
async fn behind_nginx_the_auth_limits_the_message_rate_and_the_stream_cap_are_one_limit(
    _pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let cluster = Cluster::start(
        &conn,
        "slow",
        &[("MESSAGE_RATE_LIMIT", "4"), ("MAX_STREAMS_PER_USER", "2")],
    )
    .await;

    // Sign-in failures from one client: three allowed in all, wherever they land, and a
    // client claiming another address each time (X-Forwarded-For) changes nothing.
    assert_eq!(cluster.failed_sign_ins(4).await, [401, 401, 401, 429]);
    assert!(
        cluster.both_served("POST /api/auth/sign-in/email"),
        "nginx spread the sign-ins over both instances: {:?}",
        cluster.served("sign-in")
    );

    // Two answers being written, one on each instance: a third, through the proxy, is refused.
    let user = cluster.sign_up().await;
    let conversation = cluster.create_conversation(&user).await;
    let mut readers = Vec::new();
    for base in [&cluster.a.address, &cluster.b.address] {
        let response = cluster.ask(base, &user, &conversation).await;
        assert_eq!(response.status(), 200);
        let mut reader = SseReader::new(response);
        until_first_words(&mut reader).await;
        readers.push(reader);
    }
    let third = cluster
        .ask(&cluster.nginx.url(), &user, &conversation)
        .await;
    assert_eq!(error_code(third).await, (429, "TOO_MANY_STREAMS".into()));
    let fourth = cluster
        .ask(&cluster.nginx.url(), &user, &conversation)
        .await;
    assert_eq!(error_code(fourth).await, (429, "TOO_MANY_STREAMS".into()));
    drop(readers);

    // The message rate (4 a minute) was spent on both instances: the fifth is refused wherever
    // it lands.
    let fifth = cluster
        .ask(&cluster.nginx.url(), &user, &conversation)
        .await;
    assert_eq!(error_code(fifth).await, (429, "RATE_LIMITED".into()));
    let sixth = cluster
        .ask(&cluster.nginx.url(), &user, &conversation)
        .await;
    assert_eq!(error_code(sixth).await, (429, "RATE_LIMITED".into()));
    assert!(
        cluster.both_served("/messages"),
        "both instances took questions: {:?}",
        cluster.served("/messages")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stop_a_revocation_and_a_follower_reach_across_instances(
    _pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    // "hang": a few words, then the model says nothing for an hour.
    let cluster = Cluster::start(&conn, "hang", &[]).await;
    let user = cluster.sign_up().await;
    let conversation = cluster.create_conversation(&user).await;

    // Written by A, followed on B, stopped through B.
    let response = cluster.ask(&cluster.a.address, &user, &conversation).await;
    assert_eq!(response.status(), 200);
    let mut reader = SseReader::new(response);
    let answer = until_first_words(&mut reader).await;
    let events = format!("/api/conversations/{conversation}/messages/{answer}/events");
    let follow = cluster
        .client
        .get(format!("{}{events}", cluster.b.address))
        .bearer_auth(&user.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(follow.status(), 200);
    let mut follower = SseReader::following(follow);
    let mut followed = String::new();
    while !followed.contains("Partial answer") {
        if let Some(StreamEvent::Delta(d)) = follower.next().await {
            followed.push_str(&d.text);
        }
    }

    let asked = Instant::now();
    let stopped = cluster.stop(&cluster.b.address, &user, &conversation, &answer);
    assert_eq!(stopped.await, 200);
    // The model is silent, so nothing but the stop channel can end it before the writer's next
    // heartbeat (10 s); the reader on A must see the end long before that.
    let ended = tokio::time::timeout(Duration::from_secs(5), ending(&mut reader))
        .await
        .expect("the stop reached A through Redis, not at the writer's next heartbeat");
    assert_eq!(ended, "stopped");
    eprintln!(
        "stop through B ended the answer on A after {:?}",
        asked.elapsed()
    );
    let followed_end = tokio::time::timeout(Duration::from_secs(5), ending(&mut follower))
        .await
        .expect("the follower on B sees the end");
    assert_eq!(followed_end, "stopped");

    // A session ended through A is refused by B at once.
    let second = cluster
        .client
        .post(cluster.url("/api/auth/sign-in/email"))
        .header("origin", cluster.nginx.url())
        .json(
            &json!({ "email": session_email(&cluster, &user).await, "password": DEFAULT_PASSWORD }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    let other_device = second.headers()["set-auth-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let list = |base: &str, bearer: &str| {
        cluster
            .client
            .get(format!("{base}/api/conversations"))
            .bearer_auth(bearer.to_owned())
            .send()
    };
    assert_eq!(
        list(&cluster.b.address, &other_device)
            .await
            .unwrap()
            .status(),
        200
    );
    let signed_out = cluster
        .client
        .post(format!("{}/api/auth/sign-out", cluster.a.address))
        .header("origin", cluster.nginx.url())
        .bearer_auth(&other_device)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 200);
    assert_eq!(
        list(&cluster.b.address, &other_device)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        list(&cluster.nginx.url(), &other_device)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        list(&cluster.b.address, &user.bearer)
            .await
            .unwrap()
            .status(),
        200
    );
}

/// The user's email, read back through the API.
async fn session_email(cluster: &Cluster, user: &User) -> String {
    let session: serde_json::Value = cluster
        .client
        .get(cluster.url("/api/auth/get-session"))
        .bearer_auth(&user.bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["user"]["email"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn without_redis_both_instances_serve_on_and_sharing_resumes_when_it_is_back(
    _pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let mut cluster = Cluster::start(&conn, "hang", &[("MESSAGE_RATE_LIMIT", "1000")]).await;
    let user = cluster.sign_up().await;
    let conversation = cluster.create_conversation(&user).await;
    let redis_port = cluster.redis.port;
    cluster.redis.stop();

    // Redis away: nothing fails for it. Sign-in failures count per instance (3 each), so the
    // fifth and sixth through the round robin are the first refused.
    assert_eq!(
        cluster.failed_sign_ins(8).await,
        [401, 401, 401, 401, 401, 401, 429, 429]
    );
    for _ in 0..4 {
        let response = cluster
            .client
            .get(cluster.url("/api/conversations"))
            .bearer_auth(&user.bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // A stop still arrives across instances, through the database at the writer's heartbeat.
    let response = cluster.ask(&cluster.a.address, &user, &conversation).await;
    assert_eq!(response.status(), 200);
    let mut reader = SseReader::new(response);
    let answer = until_first_words(&mut reader).await;
    let stopped = cluster.stop(&cluster.b.address, &user, &conversation, &answer);
    assert_eq!(stopped.await, 200);
    let ended = tokio::time::timeout(Duration::from_secs(30), ending(&mut reader))
        .await
        .expect("the writer notices the stored stop at its heartbeat");
    assert_eq!(ended, "stopped");

    // Redis back: sign-ins are one count again, and stops cross at once again.
    cluster.redis = OwnRedis::start(redis_port);
    assert_eq!(cluster.failed_sign_ins(4).await, [401, 401, 401, 429]);
    // The listeners resubscribe within a second of Redis coming back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let response = cluster.ask(&cluster.a.address, &user, &conversation).await;
    let mut reader = SseReader::new(response);
    let answer = until_first_words(&mut reader).await;
    let stopped = cluster.stop(&cluster.b.address, &user, &conversation, &answer);
    assert_eq!(stopped.await, 200);
    let ended = tokio::time::timeout(Duration::from_secs(5), ending(&mut reader))
        .await
        .expect("the stop crossed through Redis again");
    assert_eq!(ended, "stopped");
}
