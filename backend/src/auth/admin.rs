//! Better Auth's admin plugin's access control with its default roles: `admin` may take every
//! user and session action except impersonating other administrators; `user` may take none.
//! A verified address in `ADMIN_EMAILS` may take every action, as the plugin's `adminUserIds`.

use sqlx::PgConnection;

use super::AuthState;
use super::store::{self, UserRow};

/// What was asked: each resource with the actions wanted on it (all of them must be allowed).
pub type Request = [(String, Vec<String>)];

/// The `admin` role's statements, as the plugin's `adminAc`.
fn admin_actions(resource: &str) -> Option<&'static [&'static str]> {
    match resource {
        "user" => Some(&[
            "create",
            "list",
            "set-role",
            "ban",
            "impersonate",
            "delete",
            "set-password",
            "set-email",
            "set-phone",
            "get",
            "update",
        ]),
        "session" => Some(&["list", "revoke", "delete"]),
        _ => None,
    }
}

/// Whether `role` allows every action asked for (Better Auth's `authorize` with its default
/// `AND`: an unknown resource or an empty list of actions is a no, and so is asking nothing).
fn role_allows(role: &str, request: &Request) -> bool {
    if role != "admin" {
        // `user` has no actions; roles the plugin does not define have none either.
        return false;
    }
    !request.is_empty()
        && request.iter().all(|(resource, actions)| {
            admin_actions(resource).is_some_and(|allowed| {
                !actions.is_empty() && actions.iter().all(|a| allowed.contains(&a.as_str()))
            })
        })
}

/// An address in `ADMIN_EMAILS`, verified (an unverified one could be anybody's sign-up).
pub fn is_listed_admin(auth: &AuthState, user: &UserRow) -> bool {
    user.email_verified && auth.admin_emails.contains(&user.email)
}

/// Whether `user` may do all of `request`.
pub fn allows(auth: &AuthState, user: &UserRow, request: &Request) -> bool {
    is_listed_admin(auth, user) || user.roles().any(|role| role_allows(role, request))
}

/// One action on one resource.
pub fn may(auth: &AuthState, user: &UserRow, resource: &str, action: &str) -> bool {
    allows(
        auth,
        user,
        &[(resource.to_owned(), vec![action.to_owned()])],
    )
}

/// Whether any of the user's roles is an administrator's (impersonating one needs more).
pub fn is_admin_role(user: &UserRow) -> bool {
    user.roles().any(|role| role == "admin")
}

/// `roles` (comma-joined) with `admin` added (`grant`) or taken away; `user` when none is left.
pub fn with_admin(roles: Option<&str>, grant: bool) -> String {
    let mut list: Vec<&str> = roles
        .unwrap_or(store::DEFAULT_ROLE)
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty() && *r != "admin")
        .collect();
    if grant {
        list.push("admin");
    }
    if list.is_empty() {
        list.push(store::DEFAULT_ROLE);
    }
    list.join(",")
}

/// `chatkeep admin grant|revoke EMAIL`: adds or takes away the `admin` role of the user with
/// that address. `None` when nobody has it (they sign up first).
pub async fn grant(
    conn: &mut PgConnection,
    email: &str,
    grant: bool,
) -> sqlx::Result<Option<UserRow>> {
    let email = email.trim().to_lowercase();
    let Some(user) = store::user_by_email(conn, &email).await? else {
        return Ok(None);
    };
    let roles = with_admin(user.role.as_deref(), grant);
    store::admin::set_role_by_email(conn, &email, &roles).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(r, a)| ((*r).to_owned(), a.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn the_admin_role_has_the_plugins_default_statements() {
        assert!(role_allows("admin", &ask(&[("user", &["ban", "list"])])));
        assert!(role_allows(
            "admin",
            &ask(&[
                ("user", &["get"]),
                ("session", &["list", "revoke", "delete"])
            ])
        ));
        assert!(!role_allows(
            "admin",
            &ask(&[("user", &["impersonate-admins"])])
        ));
        assert!(!role_allows(
            "admin",
            &ask(&[("user", &["ban"]), ("nope", &["x"])])
        ));
        assert!(!role_allows("admin", &ask(&[("user", &[])])));
        assert!(!role_allows("admin", &ask(&[])));
    }

    #[test]
    fn granting_adds_admin_once_and_revoking_leaves_a_role() {
        assert_eq!(with_admin(None, true), "user,admin");
        assert_eq!(with_admin(Some("user,admin"), true), "user,admin");
        assert_eq!(with_admin(Some("admin"), false), "user");
        assert_eq!(with_admin(Some("user, admin"), false), "user");
        assert_eq!(with_admin(Some("editor"), true), "editor,admin");
    }

    #[test]
    fn users_and_unknown_roles_may_do_nothing() {
        assert!(!role_allows("user", &ask(&[("user", &["list"])])));
        assert!(!role_allows("superhero", &ask(&[("user", &["list"])])));
    }
}
