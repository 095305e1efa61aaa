//! The `/api/auth` endpoints, one file per endpoint group as `tests/api/auth/` has them. Each
//! follows Better Auth's order of checks: rate limit (scope middleware, [`rate_limit`]), Origin
//! check on cookie-bearing writes and body parsing ([`prologue`]), then the session
//! ([`caller`]), then the endpoint's own rules; responses carry their cookies and tokens
//! through [`headers`].

mod account;
mod admin;
mod caller;
mod change_email;
mod guests;
mod headers;
mod linked_accounts;
mod mailing;
mod password_reset;
mod prologue;
mod provider_callback;
mod rate_limit;
mod sessions;
mod sign_in;
mod sign_up;
mod social;
mod tokens;
mod verification;

use actix_web::HttpResponse;
use actix_web::middleware::from_fn;
use actix_web::web;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/auth")
            .wrap(from_fn(rate_limit::rate_limit))
            .service(sign_up::sign_up)
            .service(sign_in::sign_in)
            .service(sign_in::sign_out)
            .service(guests::sign_in_anonymous)
            .service(guests::delete_anonymous_user)
            .service(social::sign_in_social)
            .service(social::sign_in_oauth2)
            .service(social::link_social)
            .service(social::providers)
            .service(provider_callback::callback)
            .service(provider_callback::callback_post)
            .service(provider_callback::oauth2_callback)
            .service(linked_accounts::list_accounts)
            .service(linked_accounts::unlink_account)
            .service(sessions::get_session)
            .service(sessions::get_session_post)
            .service(sessions::list_sessions)
            .service(sessions::revoke_session)
            .service(sessions::revoke_sessions)
            .service(sessions::revoke_other_sessions)
            .service(account::update_user)
            .service(account::change_password)
            .service(account::delete_user)
            .service(verification::send_verification_email)
            .service(verification::verify_email)
            .service(password_reset::request_password_reset)
            .service(password_reset::reset_password_link)
            .service(password_reset::reset_password)
            .service(password_reset::error_page)
            .service(change_email::change_email)
            .service(tokens::ok)
            .service(tokens::jwt_token)
            .service(tokens::jwks)
            .service(admin::users::list_users)
            .service(admin::users::get_user)
            .service(admin::create::create_user)
            .service(admin::create::set_user_password)
            .service(admin::update::update_user)
            .service(admin::update::set_role)
            .service(admin::update::remove_user)
            .service(admin::bans::ban_user)
            .service(admin::bans::unban_user)
            .service(admin::sessions::list_user_sessions)
            .service(admin::sessions::revoke_user_session)
            .service(admin::sessions::revoke_user_sessions)
            .service(admin::permission::has_permission)
            // Better Auth answers unknown paths and wrong methods with an empty 404.
            .default_service(web::to(|| async { HttpResponse::NotFound().finish() })),
    );
}
