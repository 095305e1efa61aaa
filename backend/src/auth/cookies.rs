//! Better Auth's cookies: names, HMAC signatures, and `Set-Cookie` values byte for byte.
//!
//! A session cookie holds `<token>.<base64(HMAC-SHA256(secret, token))>`, URL-encoded the way
//! JavaScript's `encodeURIComponent` does. Behind an https base URL the names gain the
//! `__Secure-` prefix and the `Secure` attribute, and only prefixed names are read.

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::Sha256;

use super::secret::Secrets;

/// Seven days, Better Auth's `session.expiresIn`.
pub const SESSION_MAX_AGE_SECS: i64 = 7 * 24 * 3600;

/// What `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

pub fn encode_uri_component(value: &str) -> String {
    utf8_percent_encode(value, URI_COMPONENT).to_string()
}

/// Standard base64 (with padding) of HMAC-SHA256 over `value`, keyed by the UTF-8 secret.
pub fn signature(secret: &str, value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(value.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// `value.signature`, as stored in a cookie (before URL-encoding) and in `set-auth-token`.
pub fn sign(secret: &str, value: &str) -> String {
    format!("{value}.{}", signature(secret, value))
}

/// Checks a `value.signature` string; returns the value when the signature is ours.
/// Better Auth's rule: split at the last `.`, the signature is 44 base64 chars ending in `=`,
/// compared in constant time.
pub fn verify<'a>(secret: &str, signed: &'a str) -> Option<&'a str> {
    let (value, sig) = signed.rsplit_once('.')?;
    if sig.len() != 44 || !sig.ends_with('=') || value.is_empty() {
        return None;
    }
    let sig = STANDARD.decode(sig).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(value.as_bytes());
    mac.verify_slice(&sig).ok().map(|()| value)
}

/// Checks a `value.signature` string against every secret a cookie may be signed with
/// ([`Secrets::cookie_secrets`]: the current one first).
pub fn verify_any<'a>(secrets: &Secrets, signed: &'a str) -> Option<&'a str> {
    secrets
        .cookie_secrets()
        .find_map(|secret| verify(secret, signed))
}

/// The three cookies Better Auth writes, named for this deployment.
#[derive(Debug, Clone)]
pub struct CookieNames {
    pub session_token: String,
    pub session_data: String,
    pub dont_remember: String,
    /// A provider sign-in's `state`, binding the callback to the browser that started it.
    pub state: String,
    secure: bool,
}

impl CookieNames {
    /// `secure` when the public base URL is https.
    pub fn new(secure: bool) -> Self {
        let prefix = if secure {
            "__Secure-better-auth"
        } else {
            "better-auth"
        };
        Self {
            session_token: format!("{prefix}.session_token"),
            session_data: format!("{prefix}.session_data"),
            dont_remember: format!("{prefix}.dont_remember"),
            state: format!("{prefix}.state"),
            secure,
        }
    }

    fn attributes(&self, max_age: Option<i64>) -> String {
        let mut attrs = String::new();
        if let Some(age) = max_age {
            attrs.push_str(&format!("; Max-Age={age}"));
        }
        attrs.push_str("; Path=/; HttpOnly");
        if self.secure {
            attrs.push_str("; Secure");
        }
        attrs.push_str("; SameSite=Lax");
        attrs
    }

    /// The session cookie. `remember == false` makes it a browser-session cookie (no Max-Age).
    pub fn session_cookie(&self, signed_token: &str, remember: bool) -> String {
        let max_age = remember.then_some(SESSION_MAX_AGE_SECS);
        format!(
            "{}={}{}",
            self.session_token,
            encode_uri_component(signed_token),
            self.attributes(max_age)
        )
    }

    /// `dont_remember=true.<sig>`: marks a `rememberMe: false` session, never refreshed.
    pub fn dont_remember_cookie(&self, secret: &str) -> String {
        format!(
            "{}={}{}",
            self.dont_remember,
            encode_uri_component(&sign(secret, "true")),
            self.attributes(None)
        )
    }

    /// `state=<state>.<sig>` for `max_age` seconds.
    pub fn state_cookie(&self, signed_state: &str, max_age: i64) -> String {
        format!(
            "{}={}{}",
            self.state,
            encode_uri_component(signed_state),
            self.attributes(Some(max_age))
        )
    }

    /// The state cookie, expired.
    pub fn clear_state(&self) -> String {
        format!("{}={}", self.state, self.attributes(Some(0)))
    }

    /// `Max-Age=0` for all three cookies, in Better Auth's order.
    pub fn clear_all(&self) -> [String; 3] {
        [&self.session_token, &self.session_data, &self.dont_remember]
            .map(|name| format!("{name}={}", self.attributes(Some(0))))
    }

    /// A cookie's value from the request, URL-decoded. Parsed by hand: the value must be read
    /// exactly as Better Auth reads it.
    pub fn read(req: &HttpRequest, name: &str) -> Option<String> {
        req.headers()
            .get_all(header::COOKIE)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, value)| percent_decode_str(value).decode_utf8_lossy().into_owned())
    }

    /// The session token from a valid signed session cookie.
    pub fn session_token_from(&self, req: &HttpRequest, secrets: &Secrets) -> Option<String> {
        let raw = Self::read(req, &self.session_token)?;
        verify_any(secrets, &raw).map(str::to_owned)
    }

    /// Whether the request carries a valid signed `dont_remember` cookie.
    pub fn dont_remember_from(&self, req: &HttpRequest, secrets: &Secrets) -> bool {
        Self::read(req, &self.dont_remember)
            .is_some_and(|raw| verify_any(secrets, &raw) == Some("true"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // From the Better Auth transcript (reference/better-auth-transcript.txt), whose server used
    // this dev default secret.
    const SECRET: &str = "better-auth-secret-12345678901234567890";

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(
            encode_uri_component("ab/+=.x!~*'()-_"),
            "ab%2F%2B%3D.x!~*'()-_"
        );
    }

    #[test]
    fn signed_values_verify_and_tampering_fails() {
        let signed = sign("s3cret", "JjBd8LTEHe5D420kCSCMItSQ2VTKQd3G");
        assert_eq!(
            verify("s3cret", &signed),
            Some("JjBd8LTEHe5D420kCSCMItSQ2VTKQd3G")
        );
        assert_eq!(verify("other", &signed), None);
        let tampered = signed.replacen('J', "K", 1);
        assert_eq!(verify("s3cret", &tampered), None);
        assert_eq!(verify("s3cret", "JjBd8LTEHe5D420kCSCMItSQ2VTKQd3G"), None);
        assert_eq!(verify("s3cret", "abc.def"), None);
    }

    #[test]
    fn session_cookie_matches_better_auths_bytes() {
        let names = CookieNames::new(false);
        let cookie =
            names.session_cookie("FXJx.49MIHiYBwvfbFYXPlv9YIQvIegNsi5SOHY0emJC0G18=", true);
        assert_eq!(
            cookie,
            "better-auth.session_token=FXJx.49MIHiYBwvfbFYXPlv9YIQvIegNsi5SOHY0emJC0G18%3D; \
             Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
        );
        let secure = CookieNames::new(true).session_cookie("t.s", false);
        assert_eq!(
            secure,
            "__Secure-better-auth.session_token=t.s; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn clearing_writes_max_age_zero_for_all_three() {
        let [a, b, c] = CookieNames::new(false).clear_all();
        assert_eq!(
            a,
            "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            b,
            "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            c,
            "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn dont_remember_cookie_is_signed_true() {
        let cookie = CookieNames::new(false).dont_remember_cookie(SECRET);
        assert!(
            cookie.starts_with("better-auth.dont_remember=true."),
            "{cookie}"
        );
        assert!(
            cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax"),
            "{cookie}"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A cookie or bearer value from outside never panics the check.
        #[test]
        fn any_value_verifies_or_is_refused(secret in ".{0,40}", signed in any::<String>()) {
            let _ = verify(&secret, &signed);
        }

        #[test]
        fn a_signed_value_verifies_as_itself_and_not_under_another_secret(
            secret in ".{1,40}",
            other in ".{1,40}",
            value in ".{1,80}",
        ) {
            let signed = sign(&secret, &value);
            prop_assert_eq!(verify(&secret, &signed), Some(value.as_str()));
            if other != secret {
                prop_assert_eq!(verify(&other, &signed), None);
            }
        }

        /// Changing any one character of a signed value breaks it.
        #[test]
        fn a_tampered_value_is_refused(
            secret in ".{1,40}",
            value in "[A-Za-z0-9]{1,40}",
            at in any::<usize>(),
            to in "[A-Za-z0-9+/=.]",
        ) {
            let signed = sign(&secret, &value);
            let mut chars: Vec<char> = signed.chars().collect();
            let at = at % chars.len();
            let to = to.chars().next().unwrap();
            prop_assume!(chars[at] != to);
            chars[at] = to;
            let tampered: String = chars.into_iter().collect();
            prop_assert_eq!(verify(&secret, &tampered), None);
        }
    }
}
