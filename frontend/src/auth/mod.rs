//! Accounts in the browser: the [`AuthContext`] every page reads, and the sign-in and sign-up
//! pages. The session lives in Better Auth's HttpOnly cookie; nothing here stores a credential.

mod banner;
mod context;
mod pages;
pub mod pending_email;
pub mod providers;
mod recovery;
pub mod rules;

pub use banner::VerifyBanner;
pub use context::{AuthState, provide_auth, use_auth};
pub use pages::{
    CheckInboxPage, ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage, VerifiedPage,
};
pub use recovery::{RESET_PAGE, VERIFIED_PAGE};
