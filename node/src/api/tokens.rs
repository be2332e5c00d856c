//! Handlers of `/api/tokens...` (admin scope when auth is on), and the guard every request
//! passes first: the token check of [`crate::access`].

use bytes::Bytes;
use ringwatch_proto::{ApiToken, Scope};
use warp::http::StatusCode;
use warp::reply::{Reply, Response, json, with_status};

use super::error::{ApiError, ErrorBody};
use crate::access::{self, CreateError, Denied};
use crate::context::Ctx;

type ApiResult = Result<Response, ApiError>;

/// What `POST /api/tokens` takes.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// What the token is for, for people (1-100 characters).
    pub name: String,
    pub scope: Scope,
}

/// A token as the API lists it: never its secret, nor the secret's hash.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// `t-` and 16 hex digits, the same as the secret's id part.
    pub id: String,
    pub name: String,
    pub scope: Scope,
    /// Unix ms.
    pub created_ms: u64,
}

impl TokenView {
    fn new(t: &ApiToken) -> Self {
        TokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            scope: t.scope,
            created_ms: t.created_ms,
        }
    }
}

/// The answer to a create: the only time the secret is ever shown.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    /// Unix ms.
    pub created_ms: u64,
    /// The secret to send as `Authorization: Bearer <token>`. Shown once: only its hash is kept.
    pub token_secret: String,
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Unauthenticated(why) => ApiError::new(StatusCode::UNAUTHORIZED, why),
            Denied::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, why),
        }
    }
}

impl From<CreateError> for ApiError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Invalid(why) => ApiError::bad_request(why),
            other => ApiError::internal(other),
        }
    }
}

/// Makes an API token, cluster-wide; the answer holds its secret, shown this once.
#[utoipa::path(
    post,
    path = "/api/tokens",
    operation_id = "create_token",
    tag = "tokens",
    request_body = TokenInput,
    responses(
        (status = 201, description = "The token, with its secret (shown only in this answer)", body = CreatedToken),
        (status = 400, description = "Malformed JSON, unknown fields, a bad name or scope", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    ),
)]
pub async fn create(ctx: Ctx, body: Bytes) -> ApiResult {
    let input: TokenInput = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("malformed token: {e}")))?;
    let made = access::create(&ctx, input.name, input.scope)?;
    let t = &made.token;
    let answer = CreatedToken {
        id: t.id.clone(),
        name: t.name.clone(),
        scope: t.scope,
        created_ms: t.created_ms,
        token_secret: made.secret.expose().to_owned(),
    };
    Ok(with_status(json(&answer), StatusCode::CREATED).into_response())
}

/// Every live token, oldest first, without secrets.
#[utoipa::path(
    get,
    path = "/api/tokens",
    operation_id = "list_tokens",
    tag = "tokens",
    responses((status = 200, description = "The tokens (never their secrets)", body = [TokenView])),
)]
pub async fn list(ctx: Ctx) -> ApiResult {
    let views: Vec<TokenView> = access::live(&ctx)
        .iter()
        .map(|t| TokenView::new(t))
        .collect();
    Ok(json(&views).into_response())
}

/// Revokes a token on every node.
#[utoipa::path(
    delete,
    path = "/api/tokens/{id}",
    operation_id = "delete_token",
    tag = "tokens",
    params(("id" = String, Path, description = "Token id (`t-...`)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No live token with this id", body = ErrorBody),
    ),
)]
pub async fn delete(id: String, ctx: Ctx) -> ApiResult {
    if access::revoke(&ctx, &id)? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("token {id:?}")))
    }
}
