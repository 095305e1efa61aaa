//! `ApiError`: the one place that knows HTTP status codes. Every failure, including malformed
//! JSON, paths and queries, leaves the server as `{"code","message"}`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use shared::ErrorBody;
use shared::error::Code;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (syntax, bad id, bad cursor).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no valid credentials. Deliberately says nothing about why.
    #[error("authentication required")]
    Unauthorized,
    /// 403: refused for a reason the caller can fix (e.g. an untrusted Origin).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: no such resource for this caller (another user's rows are "not found" too).
    #[error("{0}")]
    NotFound(String),
    /// 415: body in a content type we do not accept.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but invalid values.
    #[error("{message}")]
    Validation { code: &'static str, message: String },
    /// 413: a body over the configured limit (`PAYLOAD_TOO_LARGE`) or a field over its own
    /// (e.g. `CONTENT_TOO_LONG`).
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// 429: the caller's message allowance is used up for now.
    #[error("{message}")]
    RateLimited {
        retry_after_secs: u64,
        message: String,
    },
    /// 429: the caller has as many answers generating as allowed.
    #[error("{0}")]
    TooManyStreams(String),
    /// 429: the caller already holds as many of something as one caller may (an import or
    /// export running, answers followed); it frees up as those end.
    #[error("{message}")]
    TooMany { code: &'static str, message: String },
    /// 408: the request's body stopped arriving (or arrives too slowly to finish).
    #[error("{message}")]
    Timeout { code: &'static str, message: String },
    /// 503: every generation slot is taken; retry shortly.
    #[error("The assistant is busy with other answers; please retry in a moment.")]
    Busy,
    /// 503 `BUSY` for another shared resource than the answer slots (password hashing).
    #[error("{0}")]
    Overloaded(String),
    /// 503: a dependency (the database) is unavailable right now.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure; the cause is logged, never sent.
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        // Every password-hashing slot stayed busy: a 503 to retry, as on /api/auth.
        if e.is::<crate::auth::password::HasherBusy>() {
            return Self::Overloaded(
                "Too many passwords are being checked right now; try again in a few seconds."
                    .to_owned(),
            );
        }
        Self::Internal(e)
    }
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::Validation {
            code: "VALIDATION_ERROR",
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Validation { code, .. }
            | Self::Forbidden { code, .. }
            | Self::TooLarge { code, .. }
            | Self::TooMany { code, .. }
            | Self::Timeout { code, .. } => code,
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::TooManyStreams(_) => "TOO_MANY_STREAMS",
            Self::Busy | Self::Overloaded(_) => Code::Busy.as_str(),
            Self::Unauthorized => "UNAUTHORIZED",
            Self::NotFound(_) => "NOT_FOUND",
            Self::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Self::Unavailable(_) => "DATABASE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL_ERROR",
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Unauthorized => "Unauthorized".to_owned(),
            Self::Internal(_) => {
                "Something went wrong on our side. It has been logged; please try again.".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } | Self::TooManyStreams(_) | Self::TooMany { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Timeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Busy | Self::Overloaded(_) | Self::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            // `{:#}` prints the whole context chain on one line.
            tracing::error!(
                error = crate::telemetry::chain(cause.as_ref()),
                "internal error"
            );
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            } => {
                response
                    .insert_header(("retry-after", retry_after_secs.to_string()))
                    .insert_header(("x-ratelimit-remaining", "0"));
            }
            Self::Busy | Self::Overloaded(_) => {
                response.insert_header(("retry-after", "1"));
            }
            Self::Unavailable(_) => {
                response.insert_header(("retry-after", "2"));
            }
            _ => {}
        }
        response.json(ErrorBody {
            code: self.code().to_owned(),
            message: self.public_message(),
        })
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            tracing::warn!(
                error = crate::telemetry::chain(&e),
                "the database is unavailable"
            );
            return Self::Unavailable(
                "The database is busy or unreachable; please retry.".to_owned(),
            );
        }
        Self::Internal(anyhow::Error::new(e).context("database query failed"))
    }
}

/// Makes every extractor failure (JSON body, path, query) an `ApiError`, and caps request
/// bodies at `json_limit` bytes.
pub fn configure_extractors(cfg: &mut web::ServiceConfig, json_limit: usize) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(json_limit)
            .error_handler(json_error),
    )
    .app_data(web::PayloadConfig::default().limit(json_limit))
    .app_data(web::PathConfig::default().error_handler(path_error))
    .app_data(web::QueryConfig::default().error_handler(query_error));
}

/// `web::JsonConfig` error handler: malformed or oversized JSON bodies.
fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::TooLarge {
            code: "PAYLOAD_TOO_LARGE",
            message: format!("Request body is larger than {limit} bytes."),
        },
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("Send the body as application/json.".to_owned())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::validation(format!("Invalid request body: {e}"))
        }
        JsonPayloadError::Deserialize(e) => ApiError::bad_request(
            "INVALID_JSON",
            format!("Request body is not valid JSON: {e}"),
        ),
        other => {
            ApiError::bad_request("INVALID_BODY", format!("Cannot read request body: {other}"))
        }
    };
    api.into()
}

/// Parses an optional JSON body: empty means `T::default()`; otherwise the same rules (and
/// errors) as the `web::Json` extractor.
pub fn json_body_or_default<T: serde::de::DeserializeOwned + Default>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    if !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType(
            "Send the body as application/json.".to_owned(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::validation(format!("Invalid request body: {e}"))
        } else {
            ApiError::bad_request(
                "INVALID_JSON",
                format!("Request body is not valid JSON: {e}"),
            )
        }
    })
}

/// Reads a request body of at most `limit` bytes (for the few routes whose bodies may be larger
/// than `CHATKEEP_JSON_LIMIT`).
pub async fn body_up_to(mut payload: web::Payload, limit: usize) -> Result<bytes::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("INVALID_BODY", format!("Cannot read request body: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge {
                code: "PAYLOAD_TOO_LARGE",
                message: format!("Request body is larger than {limit} bytes."),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The media type a request or response declares (`Content-Type` without parameters,
/// lowercased), or `""` when there is none.
pub fn media_type(headers: &actix_web::http::header::HeaderMap) -> String {
    headers
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether a request or response says its body is JSON.
pub fn is_json(headers: &actix_web::http::header::HeaderMap) -> bool {
    media_type(headers) == "application/json"
}

/// `web::PathConfig` error handler: a path segment of the wrong shape (e.g. a malformed id).
fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    let PathError::Deserialize(e) = &err else {
        return ApiError::bad_request("INVALID_PATH", err.to_string()).into();
    };
    ApiError::bad_request("INVALID_PATH", format!("Invalid path parameter: {e}")).into()
}

/// `web::QueryConfig` error handler: a query string of the wrong shape.
fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let QueryPayloadError::Deserialize(e) = &err else {
        return ApiError::bad_request("INVALID_QUERY", err.to_string()).into();
    };
    ApiError::bad_request("INVALID_QUERY", format!("Invalid query string: {e}")).into()
}

/// The most a request's target and headers may hold together.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A request whose target and headers are over [`MAX_HEAD_BYTES`] is refused with `431`.
/// actix-http refuses an oversized head only while it is still arriving in pieces; a head that
/// lands in one read is parsed whole, whatever its size (found by a test that failed once
/// under load), so the limit is kept here for every request.
pub async fn refuse_oversized_head(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let size = req.uri().to_string().len()
        + req
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if size > MAX_HEAD_BYTES {
        let response = actix_web::HttpResponse::build(
            actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        )
        .json(serde_json::json!({
            "code": "HEADERS_TOO_LARGE",
            "message": format!(
                "The request's headers are over {} KiB together; send fewer or smaller ones.",
                MAX_HEAD_BYTES / 1024
            ),
        }));
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// A NUL character in any query parameter (name or value, once decoded) is refused before a
/// handler sees it: PostgreSQL's `text` cannot hold one, so it could only ever fail later, as
/// a 500. Bodies are held to the same rule where they are parsed.
pub async fn refuse_nul_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let offending = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| name.replace('\0', "\\0"));
    if let Some(name) = offending {
        let shown: String = name.chars().take(100).collect();
        let error = ApiError::bad_request(
            "INVALID_QUERY",
            format!(
                "The query parameter {shown:?} contains a NUL character, which is not allowed."
            ),
        );
        return Ok(req.error_response(error).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The safety net under `/api`: an error response that did not come from `ApiError` (actix's
/// own payload, routing or middleware errors) is rewritten as `{code, message}`. `/api/auth`
/// keeps Better Auth's shapes, empty 404s included.
pub async fn ensure_json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let path = req.path();
    let applies = (path == "/api" || path.starts_with("/api/")) && !path.starts_with("/api/auth/");
    let res = next.call(req).await?;
    let status = res.status();
    if !applies || status.as_u16() < 400 || is_json(res.headers()) {
        return Ok(res.map_into_left_body());
    }
    let (http_req, _) = res.into_parts();
    Ok(ServiceResponse::new(http_req, generic_error(status)).map_into_right_body())
}

fn generic_error(status: StatusCode) -> HttpResponse {
    let code = match status.as_u16() {
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        413 => "PAYLOAD_TOO_LARGE",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        429 => "TOO_MANY_REQUESTS",
        503 => "SERVICE_UNAVAILABLE",
        s if s >= 500 => "INTERNAL_ERROR",
        _ => "BAD_REQUEST",
    };
    let message = match status.as_u16() {
        413 => "Request body is too large.".to_owned(),
        _ => format!("{}.", status.canonical_reason().unwrap_or("Request failed")),
    };
    HttpResponse::build(status).json(ErrorBody {
        code: code.to_owned(),
        message,
    })
}

/// The `/api` scope's default service: a JSON 404 instead of an empty body or the SPA.
pub async fn api_route_not_found(req: HttpRequest) -> HttpResponse {
    ApiError::NotFound(format!("No route matches {} {}", req.method(), req.path())).error_response()
}
