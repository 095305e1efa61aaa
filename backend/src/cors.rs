//! CORS for the trusted origins (the base URL plus `BETTER_AUTH_TRUSTED_ORIGINS`), with
//! credentials, so a SPA on another origin can call `/api` and `/api/auth`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// Headers a cross-origin SPA may read: Better Auth's two, and ours.
const EXPOSED: &str = "set-auth-token, set-auth-jwt, x-request-id, retry-after, x-retry-after, \
                       x-ratelimit-remaining";

/// CORS for the trusted origins, with credentials. Requests without an `Origin` header (same
/// origin, curl) are left exactly as the handler answered them.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let trusted = origin.filter(|o| {
        req.app_data::<web::Data<AppState>>()
            .is_some_and(|state| state.auth.trusted_origins.is_trusted(o))
    });
    let Some(origin) = trusted else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let origin = HeaderValue::from_str(&origin).expect("a trusted origin is a valid header value");

    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        let mut response = HttpResponse::NoContent();
        response
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "GET, POST, PUT, PATCH, DELETE, OPTIONS",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header((header::VARY, "Origin"));
        if let Some(asked) = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
        {
            response.insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, asked));
        }
        return Ok(req.into_response(response.finish()).map_into_right_body());
    }

    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    Ok(res.map_into_left_body())
}
