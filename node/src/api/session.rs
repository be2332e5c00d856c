//! `/api/session`: the dashboard's login and logout. A login checks a token like any request
//! does and answers a session cookie that carries it (`HttpOnly`, `SameSite=Strict`, see
//! [`crate::domain::web`]); every later request presents the cookie and is checked afresh
//! against the token table, so a session ends on every node as soon as its token is revoked
//! (the replication bound, 1 s). Nothing keeps sessions on the server; the secret is never
//! logged, and no answer shows it.

use bytes::Bytes;
use ringwatch_proto::Scope;
use warp::http::StatusCode;
use warp::reply::{Reply, Response, json, with_header, with_status};

use super::error::{ApiError, ErrorBody};
use super::guard::Caller;
use crate::access::{self, Presented};
use crate::config::AuthMode;
use crate::context::Ctx;
use crate::domain::token;
use crate::domain::web::{self, Site};

type ApiResult = Result<Response, ApiError>;

/// What `POST /api/session` takes.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// An API token (`rw_...`) or the bootstrap admin token.
    pub token: String,
}

/// Who the caller is, as the dashboard needs to know it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Whether this node asks for tokens (`on`) or not (`off`).
    #[schema(example = "on")]
    pub auth: String,
    /// What the caller may do: `read`, `write` or `admin`; `null` when auth is on and the
    /// caller presented no valid token or session. With auth off, `admin`.
    pub scope: Option<Scope>,
    /// Whether the caller is a dashboard session (the cookie), not a header token.
    pub session: bool,
}

/// Who is asking: the scope of their token or session, if any.
#[utoipa::path(
    get,
    path = "/api/session",
    operation_id = "get_session",
    tag = "session",
    responses((status = 200, description = "Whether auth is on, and the caller's scope", body = SessionView)),
)]
pub async fn get(ctx: Ctx, caller: Caller) -> ApiResult {
    let view = if ctx.config.auth == AuthMode::Off {
        SessionView {
            auth: "off".into(),
            scope: Some(Scope::Admin),
            session: false,
        }
    } else {
        let secret = match caller.presented() {
            Presented::Header(h) => token::bearer(h),
            Presented::Session(s) => Some(s),
            Presented::Nothing => None,
        };
        SessionView {
            auth: "on".into(),
            scope: secret.and_then(|s| access::scope_of(&ctx, s)),
            session: caller.header.is_none() && caller.session.is_some(),
        }
    };
    Ok(json(&view).into_response())
}

/// Logs in: checks the token and answers a session cookie holding it.
#[utoipa::path(
    post,
    path = "/api/session",
    operation_id = "login",
    tag = "session",
    request_body = LoginInput,
    responses(
        (status = 200, description = "Logged in: `Set-Cookie: ringwatch_session=...; HttpOnly; SameSite=Strict`", body = SessionView),
        (status = 400, description = "Malformed JSON, or auth is off (no login needed)", body = ErrorBody),
        (status = 401, description = "Unknown or revoked token", body = ErrorBody),
    ),
)]
pub async fn login(ctx: Ctx, caller: Caller, body: Bytes) -> ApiResult {
    if ctx.config.auth == AuthMode::Off {
        return Err(ApiError::bad_request(
            "auth is off on this node: the dashboard needs no login",
        ));
    }
    let input: LoginInput = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("send {\"token\": \"<API token>\"}"))?;
    let secret = input.token.trim();
    let Some(scope) = access::scope_of(&ctx, secret) else {
        tracing::debug!("dashboard login refused: unknown or revoked token");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unknown or revoked token",
        ));
    };
    tracing::info!(scope = scope.as_str(), "dashboard login");
    let secure = caller.origin.as_deref().is_some_and(Site::is_https);
    let view = SessionView {
        auth: "on".into(),
        scope: Some(scope),
        session: true,
    };
    let cookie = web::session_cookie(secret, secure);
    Ok(with_header(json(&view), "set-cookie", cookie).into_response())
}

/// Logs out: clears the session cookie. Always succeeds.
#[utoipa::path(
    delete,
    path = "/api/session",
    operation_id = "logout",
    tag = "session",
    responses((status = 204, description = "The session cookie is cleared")),
)]
pub async fn logout() -> ApiResult {
    let cleared = with_header(
        StatusCode::NO_CONTENT,
        "set-cookie",
        web::clear_session_cookie(),
    );
    Ok(with_status(cleared, StatusCode::NO_CONTENT).into_response())
}
