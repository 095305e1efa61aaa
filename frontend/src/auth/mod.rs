//! Accounts in the browser: the [`AuthContext`] every page reads, and the sign-in and sign-up
//! pages. The session lives in Better Auth's HttpOnly cookie; nothing here stores a credential.

mod context;
mod pages;
pub mod rules;

pub use context::{AuthState, provide_auth, use_auth};
pub use pages::{SignInPage, SignUpPage};
