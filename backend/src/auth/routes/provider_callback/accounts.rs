//! The accounts behind a provider's callback: signing in, or up, by the provider's account, and
//! linking it to the signed-in user, with the provider's tokens stored as Better Auth does.

use shared::UserId;
use sqlx::Connection;

use crate::auth::error::AuthError;
use crate::auth::providers::state::LinkData;
use crate::auth::providers::{Identity, Provider};
use crate::auth::session::{self, Lookup};
use crate::auth::store::{self, ProviderTokens, UserRow};
use crate::state::AppState;

fn tokens_of<'a>(identity: &'a Identity, scope: &'a str) -> ProviderTokens<'a> {
    let t = &identity.tokens;
    ProviderTokens {
        access_token: t.access_token.as_deref(),
        refresh_token: t.refresh_token.as_deref(),
        id_token: t.id_token.as_deref(),
        access_token_expires_at: t.access_token_expires_at,
        refresh_token_expires_at: t.refresh_token_expires_at,
        scope,
    }
}

/// Better Auth's `handleOAuthUserInfo`: the account found by provider and subject, never by
/// address alone; an existing user with the address is linked only when the provider is
/// trusted or verified the address, and the local address is verified too; otherwise a new
/// user and account. `Err` is a callback error code.
pub(super) async fn sign_in_or_up(
    state: &AppState,
    provider: &Provider,
    identity: &Identity,
    email: &str,
) -> Result<Result<(UserRow, bool), &'static str>, AuthError> {
    let email = email.to_lowercase();
    let scope = identity.tokens.scopes.join(",");
    let tokens = tokens_of(identity, &scope);
    let mut conn = state.pool.acquire().await?;
    // The provider verified the address, or is trusted to: the rule for linking by address and
    // for making a new account.
    let vouched = identity.email_verified || state.auth.providers.is_trusted(&provider.id);
    let mut tx = conn.begin().await?;
    store::lock_account_key(&mut tx, &provider.id, &identity.account_id).await?;
    if let Some((account_row, user_id)) =
        store::account_by_key(&mut tx, &provider.id, &identity.account_id).await?
    {
        let Some(user) = store::user_by_id(&mut tx, &user_id).await? else {
            tracing::error!(provider = %provider.id, "an account row names a missing user");
            return Ok(Err("unable_to_link_account"));
        };
        store::refresh_provider_tokens(&mut tx, &account_row, &tokens).await?;
        let user = verify_if_confirmed(&mut tx, user, identity, &email).await?;
        tx.commit().await?;
        return Ok(Ok((user, false)));
    }
    if let Some(user) = store::user_by_email(&mut tx, &email).await? {
        if !vouched || !user.email_verified {
            tracing::info!(
                user.id = %user.id,
                provider = %provider.id,
                "a provider sign-in matched an account by address only; not linked"
            );
            return Ok(Err("account_not_linked"));
        }
        store::insert_provider_account(
            &mut tx,
            &user.id,
            &provider.id,
            &identity.account_id,
            &tokens,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user.id = %user.id, provider = %provider.id, "a provider account was linked by its verified address");
        return Ok(Ok((user, false)));
    }
    // A new account only for an address the provider vouches for: otherwise whoever claims
    // someone's address at a provider that does not check could make the account before they
    // do, and keep a way into it (Better Auth would create it unverified).
    if !vouched {
        tracing::info!(provider = %provider.id, "a provider sign-in with an unverified address; no account made");
        return Ok(Err("email_not_verified"));
    }
    let Some(user) = store::insert_user(
        &mut tx,
        &identity.name,
        &email,
        identity.image.as_deref(),
        identity.email_verified,
    )
    .await?
    else {
        // Someone took the address a moment ago.
        return Ok(Err("unable_to_create_user"));
    };
    store::insert_provider_account(
        &mut tx,
        &user.id,
        &provider.id,
        &identity.account_id,
        &tokens,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok((user, true)))
}

/// The provider verified the user's own address: so is it here.
async fn verify_if_confirmed(
    conn: &mut sqlx::PgConnection,
    mut user: UserRow,
    identity: &Identity,
    email: &str,
) -> sqlx::Result<UserRow> {
    if identity.email_verified && !user.email_verified && user.email == email {
        store::set_email_verified(conn, &user.id, true).await?;
        user.email_verified = true;
    }
    Ok(user)
}

/// Better Auth's `linkOAuthAccount`: the session that asked must still be live, the provider
/// trusted or the address verified, the address the user's own, and the provider's account
/// nobody else's. `Err` is a callback error code.
pub(super) async fn link_account(
    state: &AppState,
    provider: &Provider,
    identity: &Identity,
    link: &LinkData,
) -> Result<Result<(), &'static str>, AuthError> {
    let auth = &state.auth;
    let user_id = UserId::new(link.user_id.clone());
    let mut conn = state.pool.acquire().await?;
    let live = match link
        .encrypted_session_token
        .as_deref()
        .map(|sealed| auth.link_sealer.open(sealed))
    {
        None => true,
        Some(Err(_)) => false,
        Some(Ok(token)) => match session::lookup(&mut conn, &token).await? {
            Lookup::Live(found) => found.0.user_id == user_id,
            Lookup::Dead => false,
        },
    };
    if !live {
        return Ok(Err("unable_to_link_account"));
    }
    if !identity.email_verified && !auth.providers.is_trusted(&provider.id) {
        return Ok(Err("unable_to_link_account"));
    }
    if identity.email.as_deref().map(str::to_lowercase) != Some(link.email.to_lowercase()) {
        return Ok(Err("email_does_not_match"));
    }
    let scope = identity.tokens.scopes.join(",");
    let tokens = tokens_of(identity, &scope);
    let mut tx = conn.begin().await?;
    store::lock_account_key(&mut tx, &provider.id, &identity.account_id).await?;
    match store::account_by_key(&mut tx, &provider.id, &identity.account_id).await? {
        Some((_, owner)) if owner != user_id => {
            return Ok(Err("account_already_linked_to_different_user"));
        }
        Some((row, _)) => {
            store::refresh_provider_tokens(&mut tx, &row, &tokens).await?;
            // As Better Auth's link: scopes granted now join the stored ones.
            store::merge_provider_scopes(&mut tx, &row, &identity.tokens.scopes).await?;
        }
        None => {
            store::insert_provider_account(
                &mut tx,
                &user_id,
                &provider.id,
                &identity.account_id,
                &tokens,
            )
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(user.id = %user_id, provider = %provider.id, "a provider account was linked");
    Ok(Ok(()))
}
