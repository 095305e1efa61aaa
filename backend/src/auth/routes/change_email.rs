//! `POST /change-email`, as Better Auth 1.4+ does it: nothing changes until a link is followed.
//! A verified address first confirms the change from its own inbox (with
//! `CHANGE_EMAIL_CONFIRM_OLD`, Better Auth's `sendChangeEmailConfirmation`); then the new
//! address is sent a link, and following it makes the change (`GET /verify-email`). An address
//! another account holds gets the same answer and no mail.

use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::auth::StatusResponse;

use super::caller::session_or_return;
use super::headers::AuthHeaders;
use super::mailing;
use super::prologue::{Issues, accept_write};
use crate::auth::email_token::{self, Claims, RequestType};
use crate::auth::error::AuthError;
use crate::auth::store;
use crate::mail::messages;
use crate::state::AppState;

/// Change the account's email address: a link goes to the current address first when it is
/// verified (and `CHANGE_EMAIL_CONFIRM_OLD` is on), else to the new one; the change happens
/// when the new address's link is followed.
#[utoipa::path(
    tag = "auth",
    request_body = shared::auth::ChangeEmailRequest,
    responses(
        (status = 200, description = "A link is on its way (also when the address is taken: no mail then)", body = StatusResponse),
        (status = 400, description = "`CHANGE_EMAIL_DISABLED`; `{message: \"Email is the same\"}`; `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "Origin check failed, or `INVALID_CALLBACK_URL`", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s); see `X-Retry-After`"),
    )
)]
#[post("/change-email")]
pub(super) async fn change_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let mut issues = Issues::default();
    let new_email = issues.take(fields.email("newEmail"));
    let callback = issues.take(fields.optional_string("callbackURL"));
    issues.finish()?;

    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    if !auth.flows.change_email {
        return Err(AuthError::CHANGE_EMAIL_DISABLED);
    }
    let user = caller.user;
    if new_email == user.email.to_lowercase() {
        return Err(AuthError::EMAIL_IS_THE_SAME);
    }
    let taken = store::user_by_email(&mut conn, &new_email).await?.is_some();
    drop(conn);
    let ttl = auth.flows.verification_ttl;
    let confirm_old = user.email_verified && auth.flows.change_email_confirm_old;
    let kind = if confirm_old {
        RequestType::ChangeConfirmation
    } else {
        RequestType::ChangeVerification
    };
    let claims = Claims::change(&user.email, &new_email, kind, user.id.as_str(), ttl);
    // Signed either way, so a taken address costs what a free one does; it is not mailed.
    let token = email_token::sign(auth.secret(), &claims)?;
    if !taken && mailing::may_mail(&state, "change-email", user.id.as_str()).await {
        let link = mailing::verify_link(auth, &token, callback);
        let mailer = &auth.mailer;
        let site = mailer.site();
        if confirm_old {
            let mail =
                messages::confirm_email_change(mailer.product(), &site, &link, &new_email, ttl);
            mailer.send(&user.email, mail);
        } else {
            let mail = messages::verify_new_email(mailer.product(), &site, &link, ttl);
            mailer.send(&new_email, mail);
        }
    }
    tracing::info!(user.id = %user.id, "change of email requested");
    Ok(headers.ok().json(StatusResponse { status: true }))
}
