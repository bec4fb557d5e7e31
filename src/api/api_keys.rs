//! API keys through the API (admin); the CLI offers the same.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{Admins, Auth},
    text::Text,
};
use crate::{
    app::AppState,
    domain::keys::{Role, Secret},
    error::{ApiError, ApiResult},
    store::{
        self,
        api_keys::{CreateKey, RevokeKey},
        entity::api_key,
    },
};

pub struct ApiKeysApi;

/// A key as listed: never its secret.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApiKeyInfo {
    id: Uuid,
    name: String,
    role: Role,
    /// May sit in public page code: only lists jobs and submits applications, rate limited.
    publishable: bool,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKeyInfo {
    fn from(key: api_key::Model) -> Self {
        Self {
            id: key.id,
            role: key.role,
            name: key.name,
            publishable: key.publishable,
            created_at: key.created_at,
            revoked_at: key.revoked_at,
        }
    }
}

#[derive(Object)]
struct NewApiKey {
    #[oai(validator(max_length = 100))]
    name: Text,
    role: Role,
    /// Restricts the key to what a careers page does in the browser: list jobs
    /// and submit applications (as far as its role allows), rate limited per
    /// client address. A restriction, never a grant.
    #[oai(default, nullable)]
    publishable: bool,
}

/// A new key with its secret, shown this once.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct CreatedApiKey {
    #[oai(flatten)]
    key: ApiKeyInfo,
    secret: String,
}

#[derive(ApiResponse)]
enum CreateKeyResponse {
    /// The key was created; store the secret now, it is not shown again.
    #[oai(status = 201)]
    Created(Json<CreatedApiKey>),
}

#[derive(ApiResponse)]
enum RevokeKeyResponse {
    /// The key is revoked.
    #[oai(status = 204)]
    Revoked,
}

#[OpenApi(tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// List keys. Roles: admin.
    #[oai(path = "/v1/api-keys", method = "get", operation_id = "list_api_keys")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: Auth<Admins>,
    ) -> ApiResult<Json<Vec<ApiKeyInfo>>> {
        let keys = store::api_keys::list(&state.db).await?;
        Ok(Json(keys.into_iter().map(ApiKeyInfo::from).collect()))
    }

    /// Create a key. Roles: admin.
    #[oai(
        path = "/v1/api-keys",
        method = "post",
        operation_id = "create_api_key"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        body: Json<NewApiKey>,
    ) -> ApiResult<CreateKeyResponse> {
        let caller = auth.0;
        let body = body.0;
        let name = crate::domain::fields::required_text("name", &body.name, 100)?;
        let secret = Secret::generate();
        let key = state
            .writer
            .run(CreateKey {
                name,
                role: body.role,
                publishable: body.publishable,
                secret_hash: secret.hash(),
                actor: caller.actor(),
            })
            .await?;
        tracing::info!(api_key_id = %key.id, role = %key.role, "API key created");
        Ok(CreateKeyResponse::Created(Json(CreatedApiKey {
            key: key.into(),
            secret: secret.expose().to_owned(),
        })))
    }

    /// Revoke a key; it stops working at once. A key cannot revoke itself, and
    /// the last active admin key stays (409): rotate by creating the new key
    /// first. Roles: admin.
    #[oai(
        path = "/v1/api-keys/:id",
        method = "delete",
        operation_id = "revoke_api_key"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: Auth<Admins>,
        id: Path<Uuid>,
    ) -> ApiResult<RevokeKeyResponse> {
        let caller = auth.0;
        if id.0 == caller.key_id {
            return Err(ApiError::conflict(
                "a key cannot revoke itself; revoke it with another admin key",
            ));
        }
        state
            .writer
            .run(RevokeKey {
                id: id.0,
                actor: caller.actor(),
            })
            .await?
            .ok_or_else(|| ApiError::not_found("API key"))?;
        // Refused here from now on; elsewhere once they see the generation move.
        state.keys.clear();
        tracing::info!(api_key_id = %id.0, "API key revoked");
        Ok(RevokeKeyResponse::Revoked)
    }
}
