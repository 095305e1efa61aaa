//! Finding the caller's session the way Better Auth does: the signed session cookie, or (bearer
//! plugin) an `Authorization: Bearer` token, signed or raw, which then stands in for the cookie.

use actix_web::HttpRequest;
use actix_web::http::header;
use chrono::{DateTime, TimeDelta, Utc};
use percent_encoding::percent_decode_str;
use shared::UserId;
use sqlx::PgConnection;

use super::AuthState;
use super::cookies;
use super::error::AuthError;
use super::secret::Secrets;
use super::store::{self, SessionRow, UserRow};

/// `session.expiresIn`: seven days.
pub const EXPIRES_IN: TimeDelta = TimeDelta::days(7);
/// `session.updateAge`: refresh at most once a day.
pub const UPDATE_AGE: TimeDelta = TimeDelta::days(1);
/// `session.freshAge`: list-sessions and password-less delete-user need a session this young.
pub const FRESH_AGE: TimeDelta = TimeDelta::days(1);
/// `rememberMe: false` sessions live one day.
pub const DONT_REMEMBER_EXPIRES_IN: TimeDelta = TimeDelta::days(1);

/// The session token a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub token: String,
}

/// The session token of a request. A valid bearer token wins over the cookie, as the bearer
/// plugin injects it as the cookie; an invalid one is ignored.
pub fn presented_token(req: &HttpRequest, state: &AuthState) -> Option<Presented> {
    if let Some(token) = bearer_session_token(req, &state.secrets) {
        return Some(Presented { token });
    }
    state
        .cookies
        .session_token_from(req, &state.secrets)
        .map(|token| Presented { token })
}

/// The bearer plugin's rule: a value with a `.` is `token.signature` (URL-decoded if it holds
/// `%`) and must verify; a value without one is taken as a raw session token.
pub fn bearer_session_token(req: &HttpRequest, secrets: &Secrets) -> Option<String> {
    let value = bearer_value(req)?;
    if !value.contains('.') {
        return Some(value.to_owned());
    }
    let decoded = if value.contains('%') {
        percent_decode_str(value).decode_utf8().ok()?.into_owned()
    } else {
        value.to_owned()
    };
    cookies::verify_any(secrets, &decoded).map(str::to_owned)
}

/// The credentials of `Authorization: Bearer <value>` (scheme matched case-insensitively).
pub fn bearer_value(req: &HttpRequest) -> Option<&str> {
    let header = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, value) = header.split_once(' ')?;
    let value = value.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !value.is_empty()).then_some(value)
}

/// What a presented token turned out to be.
pub enum Lookup {
    /// A live session.
    Live(Box<(SessionRow, UserRow)>),
    /// A correctly signed token whose session is gone or expired: the caller clears cookies.
    Dead,
}

/// Loads a session by token. An expired session is deleted on sight; a banned user's session
/// is dead (bans delete sessions, but one made by a server that does not know bans, or before
/// the ban reached this row, must not outlive it).
pub async fn lookup(conn: &mut PgConnection, token: &str) -> sqlx::Result<Lookup> {
    match store::session_with_user(conn, token).await? {
        Some((session, _)) if session.expires_at <= Utc::now() => {
            store::delete_session_by_token(conn, token).await?;
            Ok(Lookup::Dead)
        }
        Some((_, user)) if user.is_banned(Utc::now()) => Ok(Lookup::Dead),
        Some(found) => Ok(Lookup::Live(Box::new(found))),
        None => Ok(Lookup::Dead),
    }
}

/// Better Auth's sliding window: refresh once a day has passed since the last refresh
/// (`expiresAt - expiresIn + updateAge <= now`).
pub fn needs_refresh(session: &SessionRow, now: DateTime<Utc>) -> bool {
    session.expires_at - EXPIRES_IN + UPDATE_AGE <= now
}

/// Whether the session was created less than `freshAge` ago.
pub fn is_fresh(session: &SessionRow, now: DateTime<Utc>) -> bool {
    is_fresh_since(session.created_at, now)
}

/// Whether a sign-in at `signed_in_at` is recent enough for a sensitive action.
pub fn is_fresh_since(signed_in_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - signed_in_at < FRESH_AGE
}

/// Creates a session for a fresh sign-in. `remember == false` makes it a one-day session.
/// A banned user gets none (`BANNED_USER`), as the admin plugin's session hook refuses it; a
/// ban past its `banExpires` is lifted instead.
pub async fn create(
    conn: &mut PgConnection,
    user_id: &UserId,
    remember: bool,
    req: &HttpRequest,
    state: &AuthState,
) -> Result<SessionRow, AuthError> {
    refuse_banned(conn, user_id).await?;
    let lifetime = if remember {
        EXPIRES_IN
    } else {
        DONT_REMEMBER_EXPIRES_IN
    };
    let ip = state
        .client_ip(req)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(store::insert_session(conn, user_id, store::now() + lifetime, &ip, user_agent).await?)
}

/// `BANNED_USER` for a ban in force; a ban that has run out is lifted here, as Better Auth
/// lifts it when the user next signs in.
async fn refuse_banned(conn: &mut PgConnection, user_id: &UserId) -> Result<(), AuthError> {
    let Some((banned, expires)) = store::ban_of(conn, user_id).await? else {
        return Ok(());
    };
    if !banned {
        return Ok(());
    }
    match expires {
        Some(at) if at < Utc::now() => {
            store::admin::unban(conn, user_id).await?;
            Ok(())
        }
        _ => Err(AuthError::BANNED_USER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_at: DateTime<Utc>, created_at: DateTime<Utc>) -> SessionRow {
        SessionRow {
            id: "s".into(),
            token: "t".into(),
            user_id: UserId::new("u"),
            expires_at,
            created_at,
            updated_at: created_at,
            ip_address: None,
            user_agent: None,
            impersonated_by: None,
        }
    }

    #[test]
    fn refresh_waits_a_day_after_the_last_one() {
        let now = Utc::now();
        assert!(!needs_refresh(&session(now + EXPIRES_IN, now), now));
        assert!(!needs_refresh(
            &session(now + TimeDelta::days(6) + TimeDelta::hours(1), now),
            now
        ));
        assert!(needs_refresh(&session(now + TimeDelta::days(6), now), now));
        assert!(needs_refresh(&session(now + TimeDelta::days(5), now), now));
    }

    #[test]
    fn freshness_is_measured_from_creation() {
        let now = Utc::now();
        assert!(is_fresh(&session(now, now - TimeDelta::hours(23)), now));
        assert!(!is_fresh(&session(now, now - TimeDelta::hours(25)), now));
    }
}
