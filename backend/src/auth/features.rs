//! `GET /api/features`: which account flows this server offers, so a client shows "Forgot
//! password?", asks people to verify their address, or offers a change of email only where
//! they work. Public: it says nothing about anyone.

use actix_web::{HttpResponse, get, web};
use shared::auth::{AccountFeatures, EmailVerificationMode};

use crate::config::EmailVerification;
use crate::state::AppState;

/// The account flows this server offers (`EMAIL_VERIFICATION`, `PASSWORD_RESET`,
/// `PASSWORD_RESET_REVOKES_SESSIONS`, `CHANGE_EMAIL`, `ANONYMOUS_SIGN_IN` and the guests' limits).
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The account flows on offer", body = AccountFeatures))
)]
#[get("/features")]
pub async fn features(state: web::Data<AppState>) -> HttpResponse {
    let flows = &state.auth.flows;
    let guests = &state.auth.guests;
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-cache"))
        .json(AccountFeatures {
            email_verification: match flows.verification {
                EmailVerification::Off => EmailVerificationMode::Off,
                EmailVerification::Optional => EmailVerificationMode::Optional,
                EmailVerification::Required => EmailVerificationMode::Required,
            },
            password_reset: flows.password_reset,
            reset_signs_out: flows.reset_revokes_sessions,
            change_email: flows.change_email,
            guests: guests.enabled,
            guest_messages_per_day: guests.messages_per_day,
            guest_max_conversations: guests.max_conversations,
            guest_retention_days: guests.retention_days,
        })
}
