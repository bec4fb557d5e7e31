//! Bearer API keys: who is calling, with which role, and whether they may.
//! Each operation takes an [`Auth`] of the roles it accepts, so the key and
//! its role are checked before anything else of the request is read: a
//! missing, unknown or forbidden key never makes the service read a body.

use std::{marker::PhantomData, time::Instant};

use poem::{Request, RequestBody, http::header};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{MetaSecurityScheme, Registry},
};
use uuid::Uuid;

use crate::{
    app::AppState,
    domain::keys::Role,
    error::{ApiError, ApiResult},
    store::{self, audit::Actor},
};

/// Who may call an operation.
pub trait Allowed: Send + Sync + 'static {
    const ROLES: &'static [Role];
    /// Whether a publishable key (one in page code) may call it.
    const FROM_PAGE: bool = false;
}

/// Recruiters and admins: the recruitment procedure.
pub struct Recruiters;
impl Allowed for Recruiters {
    const ROLES: &'static [Role] = &[Role::Recruiter, Role::Admin];
}

/// Admins only.
pub struct Admins;
impl Allowed for Admins {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// Partners and admins: the anonymous statistics.
pub struct Partners;
impl Allowed for Partners {
    const ROLES: &'static [Role] = &[Role::Partner, Role::Admin];
}

/// What a careers page does in the browser: publishable keys too.
pub struct CareersPage;
impl Allowed for CareersPage {
    const ROLES: &'static [Role] = &[Role::CareersSite, Role::Admin];
    const FROM_PAGE: bool = true;
}

/// Listing jobs: the careers page (publishable keys too) and staff.
pub struct JobBoard;
impl Allowed for JobBoard {
    const ROLES: &'static [Role] = &[Role::CareersSite, Role::Recruiter, Role::Admin];
    const FROM_PAGE: bool = true;
}

/// Reading one job: the careers site's back end and staff.
pub struct JobReaders;
impl Allowed for JobReaders {
    const ROLES: &'static [Role] = &[Role::CareersSite, Role::Recruiter, Role::Admin];
}

/// An API key sent as `Authorization: Bearer KEY`, checked for the roles of
/// `A`. Each operation lists the roles it accepts in its description.
pub struct Auth<A: Allowed>(pub Caller, PhantomData<A>);

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    pub key_id: Uuid,
    pub role: Role,
    pub publishable: bool,
    /// The person a tool acts for, from the `On-Behalf-Of` header.
    pub on_behalf_of: Option<String>,
}

const SCHEME: &str = "ApiKey";

impl<'a, A: Allowed> ApiExtractor<'a> for Auth<A> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            SCHEME,
            MetaSecurityScheme {
                ty: "http",
                description: Some(
                    "An API key sent as `Authorization: Bearer KEY`. Each operation lists \
                     the roles it accepts in its description.",
                ),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![SCHEME]
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let caller = authenticate(request).await?;
        if caller.publishable && !A::FROM_PAGE {
            return Err(ApiError::forbidden(
                "a publishable key may only list jobs, read imports and submit applications",
            )
            .into());
        }
        caller.require(A::ROLES)?;
        if caller.role == Role::Recruiter {
            refuse_restricted(request).await?;
        }
        Ok(Self(caller, PhantomData))
    }
}

/// A recruiter's call on an application whose processing its candidate
/// restricted (`/v1/applications/{id}` and everything under it) is refused
/// here, for every operation at once: the data is kept, but frozen.
async fn refuse_restricted(req: &Request) -> poem::Result<()> {
    let Some(id) = req
        .uri()
        .path()
        .strip_prefix("/v1/applications/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse::<Uuid>().ok())
    else {
        return Ok(());
    };
    let state = req
        .data::<AppState>()
        .expect("AppState is attached to every route");
    if store::applications::restricted_since(&state.db, id)
        .await
        .map_err(ApiError::from)?
        .is_some()
    {
        return Err(ApiError::restricted().into());
    }
    Ok(())
}

fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.header(header::AUTHORIZATION)?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn authenticate(req: &Request) -> poem::Result<Caller> {
    let state = req
        .data::<AppState>()
        .expect("AppState is attached to every route");
    let token = bearer_token(req).ok_or_else(ApiError::unauthorized)?;
    let key = state
        .keys
        .find_active(&state.db, token)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(ApiError::unauthorized)?;
    let role = key.role;
    if key.publishable {
        let client = state.client_address.of(req);
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

impl Caller {
    /// Allows the listed roles.
    fn require(&self, roles: &[Role]) -> ApiResult<()> {
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
