//! The state a callback answers: its `verification` row, checked against the signed cookie of
//! the browser that started the sign-in, and used up once.

use actix_web::HttpRequest;

use crate::auth::cookies;
use crate::auth::error::AuthError;
use crate::auth::providers::state::{self, StateData};
use crate::auth::store;
use crate::state::AppState;

pub(super) enum StateCheck {
    Valid(Box<StateData>),
    /// With the flow's own error URL when the row could be read, and whether it was used up.
    Refused {
        error_url: Option<String>,
        used: bool,
    },
}

/// The state this callback answers, used once: its row must exist, name this `state`, match the
/// signed cookie of the browser that started the sign-in, and not have expired.
pub(super) async fn read_state(
    req: &HttpRequest,
    state: &AppState,
    oauth_state: &str,
) -> Result<StateCheck, AuthError> {
    let auth = &state.auth;
    let identifier = state::identifier(oauth_state);
    let mut conn = state.pool.acquire().await?;
    let refused = |error_url: Option<String>, used: bool| StateCheck::Refused { error_url, used };
    // Read even when expired, so an expired sign-in lands on its own error page.
    let Some(value) = store::verification_value(&mut conn, &identifier).await? else {
        return Ok(refused(None, false));
    };
    let Ok(data) = serde_json::from_str::<StateData>(&value) else {
        return Ok(refused(None, false));
    };
    // Checked before the row is used up, as Better Auth does: someone else opening the callback
    // URL first (a link scanner, another tab) must not spoil the sign-in of the browser that
    // holds the cookie.
    let cookie = cookies::CookieNames::read(req, &auth.cookies.state)
        .and_then(|raw| cookies::verify_any(&auth.secrets, &raw).map(str::to_owned));
    if data
        .oauth_state
        .as_deref()
        .is_some_and(|s| s != oauth_state)
        || cookie.as_deref() != Some(oauth_state)
    {
        return Ok(refused(data.error_url, false));
    }
    // Used once: of two callbacks racing with the same state and cookie, one finds it gone.
    if store::consume_verification(&mut conn, &identifier)
        .await?
        .is_none()
        || data.expires_at < chrono::Utc::now().timestamp_millis()
    {
        return Ok(refused(data.error_url, true));
    }
    Ok(StateCheck::Valid(Box::new(data)))
}
