//! Chatkeep's own administrator routes (`/api/admin`), beside Better Auth's admin plugin in
//! `auth/routes/admin`: what the Admin page shows of each account. Numbers only: an
//! administrator sees who uses how much, never a title or a message.

pub mod routes;
pub mod store;

pub use routes::{configure, is_admin_request};
