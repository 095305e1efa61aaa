//! GitHub's OAuth apps, as Better Auth's built-in provider uses them: the code exchanged at
//! `login/oauth/access_token`, the person read from `/user`, their address from `/user/emails`
//! when the profile hides it. The account is GitHub's numeric user id.

use anyhow::Context;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::{Callback, CallbackError, Identity, Provider};

pub struct GitHub {
    oauth: Url,
    api: Url,
}

#[derive(Deserialize)]
struct Profile {
    id: serde_json::Value,
    login: Option<String>,
    name: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!("{}/{path}", base.path().trim_end_matches('/')));
    url
}

impl GitHub {
    pub fn new(oauth: Url, api: Url) -> Self {
        Self { oauth, api }
    }

    pub fn authorization_url(&self) -> Url {
        join(&self.oauth, "login/oauth/authorize")
    }

    pub async fn identify(
        &self,
        provider: &Provider,
        callback: &Callback<'_>,
    ) -> Result<Identity, CallbackError> {
        let token_url = join(&self.oauth, "login/oauth/access_token");
        let tokens = provider.exchange(&token_url, callback).await?;
        let access = tokens.access_token.as_deref().unwrap_or_default();
        let profile: Profile = self.get(provider, "user", access).await.map_err(|e| {
            provider.failed(
                "reading the GitHub profile failed",
                &format!("{e:#}"),
                CallbackError::UnableToGetUserInfo,
            )
        })?;
        // The addresses answer may be refused (no `user:email` scope): then the profile's own.
        let emails: Vec<Email> = self
            .get(provider, "user/emails", access)
            .await
            .unwrap_or_default();
        let email = profile.email.clone().or_else(|| {
            emails
                .iter()
                .find(|e| e.primary)
                .or(emails.first())
                .map(|e| e.email.clone())
        });
        let email_verified = email
            .as_ref()
            .and_then(|address| emails.iter().find(|e| &e.email == address))
            .is_some_and(|e| e.verified);
        let account_id = match &profile.id {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) if !s.is_empty() => s.clone(),
            _ => return Err(CallbackError::UnableToGetUserInfo),
        };
        Ok(Identity {
            account_id,
            email,
            email_verified,
            name: profile
                .name
                .filter(|n| !n.is_empty())
                .or(profile.login)
                .unwrap_or_default(),
            image: profile.avatar_url,
            tokens,
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        provider: &Provider,
        path: &str,
        token: &str,
    ) -> anyhow::Result<T> {
        provider
            .http
            .get(join(&self.api, path))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("GitHub's /{path} answered something else"))
    }
}
