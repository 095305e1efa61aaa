//! The floor: the least a server can do to answer Chatkeep's two history reads, so that
//! `bench/bench.sh` can say how close Chatkeep comes. It verifies the caller's EdDSA JWT
//! against the same JWKS (issuer and audience checked, as Chatkeep does), runs the same
//! indexed query (the conversation list, or a page of 50 messages) as the table owner in one round trip (no transaction, no row-level
//! security, no user lookup, no pool ping) and writes the same JSON. Nothing else: no
//! sessions, no logs, no limits. It also plays the instant OpenAI-compatible upstream that the
//! benchmark's "post a message" runs against. Not part of Chatkeep; never deploy it.
//!
//! Settings (environment): `FLOOR_BIND`, `DATABASE_URL` (a role that bypasses RLS),
//! `FLOOR_JWKS` (the JSON of `GET /api/auth/jwks`), `FLOOR_ISSUER` (Chatkeep's origin, its
//! JWTs' `iss` and `aud`), `DATABASE_MAX_CONNECTIONS` (default 20, as Chatkeep).

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, get, web};
use chrono::{DateTime, SecondsFormat, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use shared::conversations::{Conversation, ConversationPage};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

struct Floor {
    pool: PgPool,
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    title: Option<String>,
    pinned: bool,
    archived_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_message_at: DateTime<Utc>,
    active_message_id: Option<Uuid>,
}

/// A message as Chatkeep writes it (its sources and usage passed through as stored).
#[derive(sqlx::FromRow, Serialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    #[serde(serialize_with = "uuid_text")]
    id: Uuid,
    #[serde(serialize_with = "uuid_text")]
    conversation_id: Uuid,
    parent_id: Option<Uuid>,
    role: String,
    content: String,
    selected_text: Option<String>,
    sources: serde_json::Value,
    status: String,
    finish_reason: Option<String>,
    error: Option<String>,
    usage: Option<serde_json::Value>,
    client_id: Option<String>,
    #[serde(serialize_with = "time_text")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "time_text")]
    updated_at: DateTime<Utc>,
    feedback_rating: Option<String>,
    feedback_reason: Option<String>,
}

fn uuid_text<S: serde::Serializer>(id: &Uuid, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

fn time_text<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso(*t))
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Floor {
    /// The caller's user id, from a bearer JWT that verifies; None otherwise.
    fn user(&self, req: &HttpRequest) -> Option<String> {
        let token = req
            .headers()
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        let key = self.keys.get(&kid)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation).ok()?;
        Some(data.claims.sub)
    }
}

#[get("/api/conversations")]
async fn conversations(req: HttpRequest, floor: web::Data<Arc<Floor>>) -> HttpResponse {
    let Some(user) = floor.user(&req) else {
        return HttpResponse::Unauthorized().finish();
    };
    let rows = sqlx::query_as::<_, Row>(
        "SELECT id, title, pinned, archived_at, created_at, updated_at, last_message_at, active_message_id
           FROM conversation
          WHERE user_id = $1 AND archived_at IS NULL
          ORDER BY last_message_at DESC, id DESC
          LIMIT $2",
    )
    .bind(user)
    .bind(11_i64)
    .fetch_all(&floor.pool)
    .await;
    match rows {
        Ok(mut rows) => {
            let more = rows.len() > 10;
            rows.truncate(10);
            HttpResponse::Ok().json(ConversationPage {
                items: rows
                    .into_iter()
                    .map(|r| Conversation {
                        id: shared::ConversationId::new(r.id),
                        title: r.title,
                        pinned: r.pinned,
                        archived: r.archived_at.is_some(),
                        archived_at: r.archived_at.map(iso),
                        created_at: iso(r.created_at),
                        updated_at: iso(r.updated_at),
                        last_message_at: iso(r.last_message_at),
                        active_message_id: r.active_message_id.map(shared::MessageId::new),
                    })
                    .collect(),
                next_cursor: more.then(|| "more".to_owned()),
            })
        }
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[get("/api/conversations/{id}/messages")]
async fn messages(
    req: HttpRequest,
    id: web::Path<Uuid>,
    floor: web::Data<Arc<Floor>>,
) -> HttpResponse {
    let Some(user) = floor.user(&req) else {
        return HttpResponse::Unauthorized().finish();
    };
    let rows = sqlx::query_as::<_, Message>(
        "SELECT m.id, m.conversation_id, m.parent_id, m.role, m.content, m.selected_text, m.sources,
                m.status, m.finish_reason, m.error, m.usage, m.client_id, m.created_at, m.updated_at,
                f.rating AS feedback_rating, f.reason AS feedback_reason
           FROM message m LEFT JOIN message_feedback f ON f.message_id = m.id
          WHERE m.conversation_id = $1 AND m.user_id = $2
          ORDER BY m.created_at DESC, m.id DESC
          LIMIT $3",
    )
    .bind(*id)
    .bind(user)
    .bind(51_i64)
    .fetch_all(&floor.pool)
    .await;
    match rows {
        Ok(mut rows) => {
            let more = rows.len() > 50;
            rows.truncate(50);
            rows.reverse();
            HttpResponse::Ok().json(serde_json::json!({
                "items": rows,
                "nextCursor": more.then_some("more"),
            }))
        }
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// An instant OpenAI-compatible upstream for the benchmark's "post a message" with
/// `AGENT_URL`: every question gets the same short streamed answer at once.
#[actix_web::post("/v1/chat/completions")]
async fn instant_answer() -> HttpResponse {
    const BODY: &str = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Run \"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"./scripts/run.sh from a fresh clone.\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .body(BODY)
}

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} must be set"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let jwks: JwkSet = serde_json::from_str(&env("FLOOR_JWKS")).expect("FLOOR_JWKS is a JWKS");
    let keys = jwks
        .keys
        .iter()
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
        .collect();
    let issuer = env("FLOOR_ISSUER");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[&issuer]);
    let max = std::env::var("DATABASE_MAX_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let pool = PgPoolOptions::new()
        .max_connections(max)
        .min_connections(max)
        .test_before_acquire(false)
        .connect(&env("DATABASE_URL"))
        .await
        .expect("DATABASE_URL connects");
    let floor = Arc::new(Floor {
        pool,
        keys,
        validation,
    });
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(floor.clone()))
            .service(conversations)
            .service(messages)
            .service(instant_answer)
    })
    .bind(env("FLOOR_BIND"))?
    .run()
    .await
}
