//! Who may do what: checking a request's token, and the one path every token create and
//! revoke takes.
//!
//! Tokens are a replicated kind ([`crate::state::tokens`]): the table `ctx.tokens` holds their
//! hashes, merges peers' copies last writer wins and keeps revokes as tombstones; this module
//! sends each local change to every peer at once, so a token made on one node works on every
//! node, and a revoked one fails on every node, within the replication bound (1 s). Every
//! request reads the table afresh: there is no cache to go stale.
//!
//! The bootstrap admin token of the config is not a record: each node compares it by hash, so
//! it works on a node before that node has heard of any peer.

use std::sync::Arc;

use ringwatch_proto::{ApiToken, Scope};

use crate::clock::now_ms;
use crate::config::AuthMode;
use crate::context::Ctx;
use crate::domain::token::{self, Secret, TokenHash};
use crate::state::Table;
use crate::store::StoreError;

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No token, or one this cluster does not know (never made, or revoked): 401.
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid token whose scope is too small: 403.
    #[error("{0}")]
    Forbidden(String),
}

/// What a request presents to prove who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// Nothing.
    Nothing,
    /// An `Authorization` header value (`Bearer <token>`).
    Header(&'a str),
    /// The token of the dashboard's session cookie.
    Session(&'a str),
}

/// Checks that a request to `method path` presenting `presented` may go on (the header wins
/// over the session cookie). With auth off, every request may.
pub fn authorize(
    ctx: &Ctx,
    method: &str,
    path: &str,
    presented: Presented<'_>,
) -> Result<(), Denied> {
    if ctx.config.auth == AuthMode::Off || (ctx.config.metrics_public && path == "/metrics") {
        return Ok(());
    }
    let Some(needed) = token::required_scope(method, path) else {
        return Ok(());
    };
    require(ctx, needed, &format!("{method} {path}"), presented)
}

/// Checks that `presented` has at least scope `needed` for `what` (a request, for the
/// error), whatever the path: for routes outside `/api` that need a token only sometimes
/// (a status page that is not public, a badge of a private monitor). With auth off, it has.
pub fn require(
    ctx: &Ctx,
    needed: Scope,
    what: &str,
    presented: Presented<'_>,
) -> Result<(), Denied> {
    if ctx.config.auth == AuthMode::Off {
        return Ok(());
    }
    let secret = match presented {
        Presented::Nothing => {
            return Err(Denied::Unauthenticated(
                "this node requires an API token: send `Authorization: Bearer <token>` \
                 (or log in to the dashboard)"
                    .into(),
            ));
        }
        Presented::Header(header) => token::bearer(header).ok_or_else(|| {
            Denied::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?,
        Presented::Session(secret) => secret,
    };
    let scope = scope_of(ctx, secret)
        .ok_or_else(|| Denied::Unauthenticated("unknown or revoked token".into()))?;
    if scope < needed {
        return Err(Denied::Forbidden(format!(
            "this token's scope is {}; {what} needs {}",
            scope.as_str(),
            needed.as_str()
        )));
    }
    Ok(())
}

/// The scope of a presented secret, if it is the config's admin token or a live token of the
/// table. One hash and at most one table lookup, compared in constant time.
pub fn scope_of(ctx: &Ctx, secret: &str) -> Option<Scope> {
    let presented = token::hash(secret);
    if let Some(admin) = &ctx.config.admin_token
        && token::same_hash(&presented, &token::hash(admin.expose()))
    {
        return Some(Scope::Admin);
    }
    let record = ctx.tokens.get_live(&token::record_id(secret)?)?;
    token::same_hash(&presented, &record.hash).then_some(record.scope)
}

/// A token as made: its record and its secret, which nothing shows again.
pub struct Made {
    pub token: Arc<ApiToken>,
    pub secret: Secret,
}

/// Makes a token (fresh id and secret from the OS RNG), stores its hash and sends it to peers.
pub fn create(ctx: &Ctx, name: String, scope: Scope) -> Result<Made, CreateError> {
    token::validate_name(&name).map_err(CreateError::Invalid)?;
    let (id, secret) = token::generate().map_err(|e| CreateError::Rng(e.to_string()))?;
    let hash: TokenHash = token::hash(secret.expose());
    let record = ApiToken {
        id,
        name,
        scope,
        hash,
        created_ms: now_ms(),
        rev: Default::default(),
        deleted: false,
    };
    let made = ctx.tokens.put_one(record, &ctx.hlc)?;
    ctx.broadcast(|| Table::message(std::slice::from_ref(&made)));
    tracing::info!(id = %made.id, scope = scope.as_str(), "API token created");
    Ok(Made {
        token: made,
        secret,
    })
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Bad input: 400.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read the OS random number generator: {0}")]
    Rng(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The live tokens, oldest first.
pub fn live(ctx: &Ctx) -> Vec<Arc<ApiToken>> {
    let mut v = ctx.tokens.live();
    v.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    v
}

/// Revokes a token everywhere (a tombstone). Returns false if it did not exist.
pub fn revoke(ctx: &Ctx, id: &str) -> Result<bool, StoreError> {
    let Some(tomb) = ctx.tokens.delete(id, &ctx.hlc)? else {
        return Ok(false);
    };
    ctx.broadcast(|| Table::message(&[tomb]));
    tracing::info!(%id, "API token revoked");
    Ok(true)
}
