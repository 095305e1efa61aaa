//! The caller's session, loaded as every Better Auth endpoint loads it: from the bearer token or
//! the cookie, slid forward once a day, its cookies cleared when it is gone.

use actix_web::{HttpRequest, HttpResponse};
use sqlx::PgConnection;

use super::headers::AuthHeaders;
use crate::auth::error::AuthError;
use crate::auth::session::{self, Lookup};
use crate::auth::store::{self, SessionRow, UserRow};
use crate::state::AppState;

/// The caller's live session, loaded as every Better Auth endpoint loads it.
pub(super) struct Caller {
    pub(super) session: SessionRow,
    pub(super) user: UserRow,
    /// The request carried a valid `dont_remember` cookie: no refresh, no Max-Age.
    dont_remember: bool,
}

impl Caller {
    pub(super) fn remember(&self) -> bool {
        !self.dont_remember
    }
}

/// Loads the caller's session, sliding it forward when a day has passed since the last
/// refresh. `Err` is the whole response: 401, with cookies cleared when the presented session
/// is gone.
pub(super) async fn require_session(
    req: &HttpRequest,
    state: &AppState,
    conn: &mut PgConnection,
    headers: &mut AuthHeaders,
) -> Result<Caller, HttpResponse> {
    match load_session(req, state, conn, headers, false).await {
        Ok(Some(caller)) => Ok(caller),
        // A dead session's 401 also clears its cookies, as Better Auth's does.
        Ok(None) => Err(std::mem::take(headers).error(&AuthError::UNAUTHORIZED)),
        Err(e) => Err(actix_web::ResponseError::error_response(&e)),
    }
}

/// `Ok(None)` for no session; a presented-but-dead session also queues the clearing cookies.
pub(super) async fn load_session(
    req: &HttpRequest,
    state: &AppState,
    conn: &mut PgConnection,
    headers: &mut AuthHeaders,
    disable_refresh: bool,
) -> Result<Option<Caller>, AuthError> {
    let auth = &state.auth;
    let Some(presented) = session::presented_token(req, auth) else {
        return Ok(None);
    };
    let (mut session, user) = match session::lookup(conn, &presented.token).await? {
        Lookup::Live(found) => *found,
        Lookup::Dead => {
            headers.clear(auth);
            return Ok(None);
        }
    };
    let dont_remember = auth.cookies.dont_remember_from(req, &auth.secrets);
    let now = store::now();
    if !dont_remember
        && !disable_refresh
        && session::needs_refresh(&session, now)
        && let Some(updated) =
            store::refresh_session(conn, &session.id, now + session::EXPIRES_IN).await?
    {
        session = updated;
        headers.set_session(auth, &session.token, true);
    }
    tracing::Span::current().record("user.id", tracing::field::display(&user.id));
    Ok(Some(Caller {
        session,
        user,
        dont_remember,
    }))
}

macro_rules! session_or_return {
    ($req:expr, $state:expr, $conn:expr, $headers:expr) => {
        match $crate::auth::routes::caller::require_session($req, $state, $conn, $headers).await {
            Ok(caller) => caller,
            Err(response) => return Ok(response),
        }
    };
}

pub(super) use session_or_return;
