//! `/api/auth`, endpoint by endpoint, against Better Auth's wire contract as the real server
//! shows it. The official client and a real Better Auth server are exercised in `e2e/`.

mod account;
mod admin;
mod email;
mod external;
mod guests;
mod jwt;
mod other_apps;
mod providers;
mod safety;
mod sessions;
mod sign_in;
mod sign_up;
