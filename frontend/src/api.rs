//! The one HTTP client: every call goes through [`get_json`], so every failure arrives as the
//! server's `{code, message}` or a network error with the same shape.

use gloo_net::http::Request;
use serde::de::DeserializeOwned;
use shared::ErrorBody;

/// What a failed call tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: Option<u16>,
    pub code: String,
    pub message: String,
}

impl ApiError {
    fn network(e: impl std::fmt::Display) -> Self {
        Self {
            status: None,
            code: "NETWORK_ERROR".to_owned(),
            message: format!("Cannot reach the server: {e}"),
        }
    }
}

pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(path)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(ApiError::network)?;
    let status = response.status();
    if response.ok() {
        return response.json::<T>().await.map_err(|e| ApiError {
            status: Some(status),
            code: "BAD_RESPONSE".to_owned(),
            message: format!("Unexpected response from the server: {e}"),
        });
    }
    let body = response
        .json::<ErrorBody>()
        .await
        .unwrap_or_else(|_| ErrorBody {
            code: "HTTP_ERROR".to_owned(),
            message: format!("The server answered {status} {}", response.status_text()),
        });
    Err(ApiError {
        status: Some(status),
        code: body.code,
        message: body.message,
    })
}
