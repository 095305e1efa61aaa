//! What an auth response carries besides its body: cookies, and the bearer and jwt plugins'
//! `set-auth-token` and `set-auth-jwt` headers.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

use crate::auth::AuthError;
use crate::auth::{AuthState, cookies};

/// Response headers an endpoint accumulates: cookies, and the bearer and jwt plugins' headers.
#[derive(Default)]
pub(super) struct AuthHeaders {
    pub(super) cookies: Vec<String>,
    auth_token: Option<String>,
    pub(super) auth_jwt: Option<String>,
}

impl AuthHeaders {
    /// Sets the session cookie (and `dont_remember` for a browser-session cookie) and, as the
    /// bearer plugin does for every such response, `set-auth-token`.
    pub(super) fn set_session(&mut self, auth: &AuthState, token: &str, remember: bool) {
        let signed = cookies::sign(auth.secret(), token);
        self.cookies
            .push(auth.cookies.session_cookie(&signed, remember));
        if !remember {
            self.cookies
                .push(auth.cookies.dont_remember_cookie(auth.secret()));
        }
        self.auth_token = Some(signed);
    }

    /// `Max-Age=0` for all three cookies; a session cookie set earlier in this response is
    /// dropped, as Better Auth's `expireCookie` does.
    pub(super) fn clear(&mut self, auth: &AuthState) {
        self.cookies.clear();
        self.auth_token = None;
        self.cookies.extend(auth.cookies.clear_all());
    }

    pub(super) fn apply(self, mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
        for cookie in self.cookies {
            builder.append_header((header::SET_COOKIE, cookie));
        }
        let mut exposed = Vec::new();
        if let Some(jwt) = self.auth_jwt {
            builder.insert_header(("set-auth-jwt", jwt));
            exposed.push("set-auth-jwt");
        }
        if let Some(token) = self.auth_token {
            builder.insert_header(("set-auth-token", token));
            exposed.push("set-auth-token");
        }
        if !exposed.is_empty() {
            builder.insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed.join(", ")));
        }
        builder
    }

    pub(super) fn ok(self) -> HttpResponseBuilder {
        self.apply(HttpResponse::Ok())
    }

    /// `error`'s response (Better Auth's body), carrying these headers too.
    pub(super) fn error(self, error: &AuthError) -> HttpResponse {
        let template = error.error_response();
        self.apply(HttpResponse::build(template.status()))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(template.into_body())
    }
}
