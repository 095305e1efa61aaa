//! Browser safety and abuse limits: Origin/Referer checks, the Fetch-Metadata rule, CORS,
//! rate limits (in memory and in Redis), `__Secure-` cookies, unknown paths, secrets.

mod browser;
mod rate_limits;
mod secrets;
mod shared_limits;

pub(super) fn rate_limited<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut vars = vec![
        ("AUTH_RATE_LIMIT", "on"),
        ("CHATKEEP_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    vars.extend_from_slice(extra);
    vars
}

pub(super) fn sign_in_from<'a>(
    app: &'a crate::helpers::TestApp,
    ip: &str,
    email: &str,
    password: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + 'a {
    app.client
        .post(app.url("/api/auth/sign-in/email"))
        .header("x-forwarded-for", ip)
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
}
