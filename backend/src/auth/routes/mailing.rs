//! What the email flows share: the links they mail, a per-account cap on how many go out, and
//! the redirects their links answer with.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::auth::AuthState;
use crate::auth::email_token::{self, Claims};
use crate::auth::store::UserRow;
use crate::mail::messages;
use crate::rate_limit::{Decision, Rule};
use crate::state::AppState;

/// Mails of one kind to one account, from all addresses together: enough for a person who
/// asks again, too few to fill someone's inbox from many addresses. Over it the request is
/// answered as usual and nothing is sent.
const MAILS_PER_ACCOUNT: Rule = Rule::new(3600, 5);

/// Whether another mail of `kind` may go to `user_id` now.
pub(super) async fn may_mail(state: &AppState, kind: &str, user_id: &str) -> bool {
    let Some(limiter) = state.auth_rate_limiter.as_ref() else {
        return true;
    };
    match limiter
        .hit(&format!("mail|{kind}|{user_id}"), MAILS_PER_ACCOUNT)
        .await
    {
        Ok(Decision::Allowed { .. }) => true,
        Ok(Decision::Limited { .. }) => {
            tracing::info!(
                mail.kind = kind,
                "mail not sent: the account's hourly cap is reached"
            );
            false
        }
        Err(e) => {
            tracing::error!(
                error = crate::telemetry::chain(e.as_ref()),
                "mail cap unavailable"
            );
            true
        }
    }
}

/// The link of a verify-email token, with where to go after (`/` by default, as Better Auth).
pub(super) fn verify_link(auth: &AuthState, token: &str, callback: Option<&str>) -> String {
    auth.mailer.link(
        "/api/auth/verify-email",
        &[
            ("token", token),
            (
                "callbackURL",
                callback.filter(|c| !c.is_empty()).unwrap_or("/"),
            ),
        ],
    )
}

/// Mails `user` a link that verifies their address (when the account's cap allows).
pub(super) async fn send_verification(state: &AppState, user: &UserRow, callback: Option<&str>) {
    let auth = &state.auth;
    if !may_mail(state, "verify-email", user.id.as_str()).await {
        return;
    }
    let ttl = auth.flows.verification_ttl;
    let claims = Claims::new(&user.email, user.id.as_str(), ttl);
    let token = match email_token::sign(auth.secret(), &claims) {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %e, "signing a verification token failed");
            return;
        }
    };
    let link = verify_link(auth, &token, callback);
    let mailer = &auth.mailer;
    let mail = messages::verify_email(mailer.product(), &mailer.site(), &link, ttl);
    mailer.send(&user.email, mail);
}

/// A 302 to `location`, as Better Auth sends its redirects (JSON content type, no body), with
/// any cookies the caller set.
pub(super) fn redirect(
    location: &str,
    mut builder: actix_web::HttpResponseBuilder,
) -> HttpResponse {
    builder
        .status(actix_web::http::StatusCode::FOUND)
        .insert_header((header::LOCATION, location.to_owned()))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .finish()
}

/// `url` with `error=<code>` added (`?` or `&`), relative URLs left relative, as Better Auth's
/// verify-email does.
pub(super) fn with_error(url: &str, code: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let joiner = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{joiner}error={code}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_error;

    #[test]
    fn errors_are_added_to_the_callback_as_better_auth_adds_them() {
        assert_eq!(
            with_error("/done", "INVALID_TOKEN"),
            "/done?error=INVALID_TOKEN"
        );
        assert_eq!(
            with_error("/done?a=1", "TOKEN_EXPIRED"),
            "/done?a=1&error=TOKEN_EXPIRED"
        );
        assert_eq!(
            with_error("http://127.0.0.1:3201/done", "USER_NOT_FOUND"),
            "http://127.0.0.1:3201/done?error=USER_NOT_FOUND"
        );
    }
}
