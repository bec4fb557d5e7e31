//! Bearer API keys: who is calling, with which role, and whether they may.

use std::{net::IpAddr, time::Instant};

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};
use uuid::Uuid;

use crate::{
    app::AppState,
    domain::keys::Role,
    error::{ApiError, ApiResult},
    store::{self, audit::Actor},
};

/// An API key sent as `Authorization: Bearer KEY`. Each operation lists the
/// roles it accepts in its description.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "authenticate")]
pub struct ApiKey(pub Caller);

/// The roles that run the recruitment procedure.
pub const RECRUITERS: &[Role] = &[Role::Recruiter, Role::Admin];

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    pub key_id: Uuid,
    pub role: Role,
    pub publishable: bool,
    /// The person a tool acts for, from the `On-Behalf-Of` header.
    pub on_behalf_of: Option<String>,
}

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Caller> {
    let state = req
        .data::<AppState>()
        .expect("AppState is attached to every route");
    let key = store::api_keys::find_active_by_secret(&state.db, &bearer.token)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(ApiError::unauthorized)?;
    let role = key
        .role
        .parse::<Role>()
        .map_err(|_| ApiError::unauthorized())?;
    if key.publishable {
        let client = client_ip(req, &state.settings.careers.client_ip_header);
        let verdict = state
            .limiter
            .lock()
            .expect("rate limiter lock")
            .check(&client, Instant::now());
        if let Err(wait) = verdict {
            return Err(ApiError::rate_limited(wait.as_secs().max(1)).into());
        }
    }
    let on_behalf_of = req
        .header("On-Behalf-Of")
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 200 && !v.chars().any(char::is_control))
        .map(str::to_owned);
    Ok(Caller {
        key_id: key.id,
        role,
        publishable: key.publishable,
        on_behalf_of,
    })
}

/// The client's address: the last entry of the configured proxy header, else the peer.
pub(super) fn client_ip(req: &Request, header: &str) -> Option<IpAddr> {
    if !header.is_empty()
        && let Some(ip) = req
            .header(header)
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    req.remote_addr().as_socket_addr().map(|addr| addr.ip())
}

impl Caller {
    /// Allows the listed roles; a publishable key may do nothing here.
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if self.publishable {
            return Err(ApiError::forbidden(
                "a publishable key may only list jobs, read imports and submit applications",
            ));
        }
        self.require_from_page(roles)
    }

    /// Allows the listed roles, publishable keys included (operations a
    /// careers page calls from the browser).
    pub fn require_from_page(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "the {} role may not do this",
                self.role
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            api_key_id: Some(self.key_id),
            on_behalf_of: self.on_behalf_of.clone(),
        }
    }
}
