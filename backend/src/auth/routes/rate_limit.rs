//! The auth rate limits: before routing and before any body is read, as in Better Auth. Each
//! client address has a bucket per endpoint, with Better Auth's rules (strict on the routes
//! that check a password).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};

use crate::auth::error::AuthError;
use crate::client_ip::bucket_key;
use crate::rate_limit::{Decision, Rule};
use crate::state::AppState;

fn rule_for(path: &str) -> Rule {
    // `/delete-user` is ours: it checks a password too, so it gets the same guard (Better Auth
    // leaves it under the general rule).
    const STRICT: [&str; 5] = [
        "/sign-in",
        "/sign-up",
        "/change-password",
        "/change-email",
        "/delete-user",
    ];
    const SLOW: [&str; 4] = [
        "/request-password-reset",
        "/send-verification-email",
        "/email-otp/send-verification-otp",
        "/email-otp/request-password-reset",
    ];
    if STRICT.iter().any(|p| path.starts_with(p)) {
        crate::auth::attempts::STRICT
    } else if SLOW.contains(&path) || path.starts_with("/forget-password") {
        Rule::new(60, 3)
    } else {
        Rule::new(10, 100)
    }
}

/// Every path this scope answers, as rate-limit buckets.
const ENDPOINTS: [&str; 45] = [
    "/sign-up/email",
    "/sign-in/email",
    // Guests: a new guest counts as a sign-in (3 per 10 s per address), as in Better Auth.
    "/sign-in/anonymous",
    "/delete-anonymous-user",
    // Identity providers: starting a sign-in counts as one (Better Auth's `/sign-in` rule).
    "/sign-in/social",
    "/sign-in/oauth2",
    "/link-social",
    "/providers",
    "/callback/:id",
    "/oauth2/callback/:id",
    "/list-accounts",
    "/unlink-account",
    "/sign-out",
    "/get-session",
    "/list-sessions",
    "/revoke-session",
    "/revoke-sessions",
    "/revoke-other-sessions",
    "/update-user",
    "/change-password",
    "/delete-user",
    "/ok",
    "/token",
    "/jwks",
    "/send-verification-email",
    "/verify-email",
    "/request-password-reset",
    "/reset-password",
    "/change-email",
    "/error",
    // The admin plugin: Better Auth's general rule, a bucket each.
    "/admin/list-users",
    "/admin/get-user",
    "/admin/create-user",
    "/admin/update-user",
    "/admin/set-role",
    "/admin/ban-user",
    "/admin/unban-user",
    "/admin/list-user-sessions",
    "/admin/revoke-user-session",
    "/admin/revoke-user-sessions",
    "/admin/set-user-password",
    "/admin/remove-user",
    "/admin/has-permission",
    // Every reset link's path shares one bucket.
    "/reset-password/:token",
    "/",
];

/// The bucket a request counts against: its path as the router sees it (fully
/// percent-decoded, so `/%73ign-in/email` is `/sign-in/email`), relative to `/api/auth`,
/// without trailing slashes. Paths we do not serve share one bucket, so made-up paths can
/// neither dodge a strict rule nor grow the limiter's memory.
fn bucket_path(raw: &str) -> &'static str {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let relative = decoded.strip_prefix("/api/auth").unwrap_or(&decoded);
    let trimmed = match relative.trim_end_matches('/') {
        "" => "/",
        p if p.starts_with("/reset-password/") => "/reset-password/:token",
        p if p.starts_with("/callback/") => "/callback/:id",
        p if p.starts_with("/oauth2/callback/") => "/oauth2/callback/:id",
        p => p,
    };
    ENDPOINTS
        .iter()
        .find(|e| **e == trimmed)
        .copied()
        .unwrap_or("/*")
}

pub(super) async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if let (Some(limiter), Some(ip)) = (
        state.auth_rate_limiter.as_ref(),
        state.auth.client_ip(req.request()),
    ) {
        let path = bucket_path(req.path());
        let key = format!("auth|{}|{path}", bucket_key(ip));
        match limiter.hit(&key, rule_for(path)).await {
            Ok(Decision::Limited { retry_after_secs }) => {
                crate::metrics::rejected(crate::metrics::Limit::Auth);
                let response = AuthError::TooManyRequests { retry_after_secs }.error_response();
                return Ok(req.into_response(response).map_into_right_body());
            }
            Ok(Decision::Allowed { .. }) => {}
            // The limiter's store (Redis) is down: serve rather than lock everyone out.
            Err(e) => tracing::error!(
                error = crate::telemetry::chain(e.as_ref()),
                "auth rate limiter unavailable"
            ),
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_rules_match_better_auths() {
        assert_eq!(rule_for("/sign-in/email"), Rule::new(10, 3));
        assert_eq!(
            rule_for(bucket_path("/api/auth/sign-in/anonymous")),
            Rule::new(10, 3)
        );
        assert_eq!(rule_for("/sign-up/email"), Rule::new(10, 3));
        assert_eq!(rule_for("/change-password"), Rule::new(10, 3));
        assert_eq!(rule_for("/delete-user"), Rule::new(10, 3));
        assert_eq!(rule_for("/forget-password/x"), Rule::new(60, 3));
        assert_eq!(rule_for("/get-session"), Rule::new(10, 100));
        assert_eq!(bucket_path("/api/auth/admin/ban-user"), "/admin/ban-user");
        assert_eq!(rule_for("/admin/ban-user"), Rule::new(10, 100));
    }

    #[test]
    fn encoded_and_unknown_paths_cannot_dodge_or_flood_the_buckets() {
        assert_eq!(bucket_path("/api/auth/%73ign-in/email"), "/sign-in/email");
        assert_eq!(
            bucket_path("/api/%61uth/sign-in%2Femail/"),
            "/sign-in/email"
        );
        assert_eq!(bucket_path("/api/auth/sign-in/email//"), "/sign-in/email");
        assert_eq!(bucket_path("/api/auth/made-up-1"), "/*");
        assert_eq!(bucket_path("/api/auth/made-up-2"), "/*");
    }
}
