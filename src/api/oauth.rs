//! "Apply with LinkedIn / Indeed" in the candidate's browser: `start` sends
//! them to the provider, `callback` brings them back to the careers page with
//! an `import_id` (or an `import_error`). The state that ties the two is kept
//! server-side, hashed, for `oauth.state_ttl`, and works once.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

use super::ApiTags;
use crate::{
    app::AppState,
    config::ProviderSettings,
    domain::{
        imports::{self, ImportError, Provider},
        keys::random_token,
        status::JobStatus,
    },
    error::{ApiError, ApiResult},
    oauth,
    store::{
        self,
        imports::{NewImport, NewState, SaveImport, StartSignIn, TakeSignIn},
    },
};

pub struct OAuthApi;

#[derive(ApiResponse)]
enum SignInRedirect {
    /// Where the browser goes next.
    #[oai(status = 302)]
    Found(
        #[oai(header = "Location")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

fn redirect(location: String) -> SignInRedirect {
    SignInRedirect::Found(location, "no-store".to_owned())
}

/// The provider's settings, or 404 when it is off.
fn provider_settings(state: &AppState, provider: Provider) -> ApiResult<&ProviderSettings> {
    let settings = match provider {
        Provider::Linkedin => &state.settings.oauth.linkedin,
        Provider::Indeed => &state.settings.oauth.indeed,
    };
    if settings.enabled() {
        Ok(settings)
    } else {
        Err(ApiError::not_found("provider"))
    }
}

/// The redirect URL registered with the provider.
fn callback_url(state: &AppState, provider: Provider) -> String {
    format!(
        "{}/oauth/{}/callback",
        state.settings.server.public_url.trim_end_matches('/'),
        provider.as_str()
    )
}

fn state_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[OpenApi(tag = "ApiTags::Imports")]
impl OAuthApi {
    /// Start importing a profile (a link or button on the careers page, opened
    /// in the browser): answers 302 to the provider's sign-in. `return_to`
    /// must be on one of `oauth.return_origins`. When the job is not open,
    /// answers 302 to `return_to` with `import_error=job_not_open`. 404 when
    /// the provider is not configured.
    #[oai(
        path = "/oauth/:provider/start",
        method = "get",
        operation_id = "start_import"
    )]
    async fn start(
        &self,
        state: Data<&AppState>,
        req: &Request,
        provider: Path<Provider>,
        /// The job the candidate is applying to.
        job_id: Query<Uuid>,
        /// The careers page to come back to; `import_id` or `import_error` is added to it.
        #[oai(validator(max_length = 2000))]
        return_to: Query<String>,
    ) -> ApiResult<SignInRedirect> {
        let provider = provider.0;
        let settings = provider_settings(&state, provider)?;
        // Anyone can start a sign-in; each keeps a row for a while, so
        // starts count against the careers site's per-address limit.
        let client = state.client_address.of(req);
        let verdict = state
            .limiter
            .lock()
            .expect("rate limiter lock")
            .check(&client, std::time::Instant::now());
        if let Err(wait) = verdict {
            return Err(ApiError::rate_limited(wait.as_secs().max(1)));
        }
        let return_to = imports::return_to(&return_to.0, &state.settings.oauth.return_origins())
            .map_err(ApiError::bad_request)?;
        let open = store::jobs::get(&state.db, job_id.0)
            .await?
            .is_some_and(|job| job.status == JobStatus::Open);
        if !open {
            return Ok(redirect(imports::with_result(
                return_to,
                "import_error",
                ImportError::JobNotOpen.as_str(),
            )));
        }
        let token = random_token();
        let authorization = oauth::authorize(settings, &callback_url(&state, provider), &token)
            .map_err(|err| {
                tracing::error!(error = format!("{err:#}"), "provider misconfigured");
                ApiError::internal()
            })?;
        let ttl = state.settings.oauth.state_ttl.0;
        let new = NewState {
            state_hash: state_hash(&token),
            provider,
            job_id: job_id.0,
            return_to: return_to.to_string(),
            pkce_verifier: authorization.pkce_verifier,
            expires_at: state.now() + ttl,
        };
        state.writer.run(StartSignIn(new)).await?;
        Ok(redirect(authorization.url))
    }

    /// Where the provider sends the browser back: exchanges the code, reads
    /// the profile, keeps it as an import for `oauth.import_ttl`, and
    /// answers 302 to the page that started with `import_id=…`, or with
    /// `import_error=access_denied|provider_error|provider_unavailable`.
    /// A state that is unknown, used, expired or from another provider is 400.
    #[oai(
        path = "/oauth/:provider/callback",
        method = "get",
        operation_id = "finish_import"
    )]
    async fn callback(
        &self,
        state: Data<&AppState>,
        provider: Path<Provider>,
        /// The authorization code.
        #[oai(validator(max_length = 2000))]
        code: Query<Option<String>>,
        /// The state `start` sent to the provider.
        #[oai(name = "state", validator(max_length = 200))]
        sign_in: Query<Option<String>>,
        /// Set by the provider instead of `code` when the sign-in failed.
        #[oai(validator(max_length = 200))]
        error: Query<Option<String>>,
    ) -> ApiResult<SignInRedirect> {
        let provider = provider.0;
        let settings = provider_settings(&state, provider)?;
        let token = sign_in
            .0
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::bad_request("state: missing"))?;
        let taken = state
            .writer
            .run(TakeSignIn {
                state_hash: state_hash(&token),
                provider,
            })
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(
                    "state: unknown, already used, or started with another provider",
                )
            })?;
        if taken.expires_at <= state.now() {
            return Err(ApiError::bad_request(
                "state: expired; start the import again",
            ));
        }
        let return_to = Url::parse(&taken.return_to).map_err(|_| ApiError::internal())?;
        let fail = |why: ImportError| {
            tracing::info!(
                provider = provider.as_str(),
                error = why.as_str(),
                "import failed"
            );
            Ok(redirect(imports::with_result(
                return_to.clone(),
                "import_error",
                why.as_str(),
            )))
        };
        if let Some(error) = error.0 {
            return fail(ImportError::from_provider(&error));
        }
        let Some(code) = code.0.filter(|c| !c.is_empty()) else {
            return fail(ImportError::ProviderError);
        };
        let profile = match oauth::import_profile(
            &state.http,
            settings,
            &callback_url(&state, provider),
            code,
            taken.pkce_verifier,
        )
        .await
        {
            Ok(profile) => profile,
            Err(why) => return fail(why),
        };
        let id = Uuid::new_v4();
        let ttl = state.settings.oauth.import_ttl.0;
        let new = NewImport {
            // Random (v4, not time-ordered v7): the id is all a careers page
            // needs to read the import, so it must not be guessable.
            id,
            provider,
            job_id: taken.job_id,
            profile,
            expires_at: state.now() + ttl,
        };
        state.writer.run(SaveImport(new)).await?;
        tracing::info!(import_id = %id, provider = provider.as_str(), "profile imported");
        Ok(redirect(imports::with_result(
            return_to,
            "import_id",
            &id.to_string(),
        )))
    }
}
