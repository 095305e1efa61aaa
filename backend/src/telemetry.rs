//! Logging: one subscriber for the process, and a middleware that gives every request an id,
//! a span and exactly one summary line.
//!
//! What is never logged: query strings, headers, bodies, cookies, tokens. Handlers add
//! `user.id` to the request span; nothing else about the user.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber. `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // `try_init`: tests may call this more than once per process.
    let _ = match format {
        LogFormat::Pretty => builder.with_target(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// The id of the request being served; also returned as `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Accepts a caller's id when it is short and printable (so logs cannot be forged or flooded);
/// otherwise mints a UUIDv7.
fn request_id_from(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// `actix_web::middleware::from_fn` middleware: request id in and out, a span per request, one
/// line per request with status and latency.
pub async fn request_telemetry(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = request_id_from(&req);
    let span = tracing::info_span!(
        "request",
        request.id = %request_id,
        http.method = %req.method(),
        http.path = %loggable_path(req.path()),
        user.id = tracing::field::Empty,
    );
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let started = Instant::now();

    let result = next.call(req).instrument(span.clone()).await;
    // Microsecond resolution is plenty and keeps the line short.
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let route = res.request().match_pattern();
            crate::metrics::request(
                route.as_deref().unwrap_or("unmatched"),
                res.request().method().as_str(),
                status,
                started.elapsed(),
            );
            if status >= 500 {
                tracing::warn!(http.status = status, latency_ms, "request failed");
            } else {
                tracing::info!(http.status = status, latency_ms, "request");
            }
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(res)
        }
        Err(e) => {
            tracing::warn!(
                error = chain(&e),
                latency_ms,
                "request failed in middleware"
            );
            Err(e)
        }
    }
}

/// Path segments after which comes a secret (a password-reset token), however the path is
/// written (doubled slashes, a prefix): logged as `{token}`.
const SECRET_TAILS: [&str; 1] = ["reset-password/"];

/// `path` as the request line logs it: whatever follows a secret-bearing segment is hidden
/// (found in the percent-decoded path, so `%72eset-password/` is caught too).
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    for marker in SECRET_TAILS {
        if let Some(at) = decoded.find(marker) {
            let end = at + marker.len();
            if end < decoded.len() {
                return format!("{}{{token}}", &decoded[..end]).into();
            }
        }
    }
    path.into()
}

/// An error and its causes on one line (`outer: inner: root`), the one way causes are logged.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        line.push_str(": ");
        line.push_str(&c.to_string());
        cause = c.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn a_reset_token_in_a_path_is_not_logged() {
        assert_eq!(
            loggable_path("/api/auth/reset-password/abcDEF0123456789abcDEF01"),
            "/api/auth/reset-password/{token}"
        );
        assert_eq!(
            loggable_path("/api/auth//reset-password/abc/def"),
            "/api/auth//reset-password/{token}"
        );
        assert_eq!(
            loggable_path("/api/auth/%72eset-password/abc"),
            "/api/auth/reset-password/{token}"
        );
        assert_eq!(
            loggable_path("/api/auth/reset-password"),
            "/api/auth/reset-password"
        );
        assert_eq!(loggable_path("/api/conversations"), "/api/conversations");
    }
}
