//! Liveness and readiness probes.

use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::ApiTags;
use crate::app::AppState;

pub struct HealthApi;

#[derive(Object)]
struct Health {
    status: String,
}

#[derive(Object)]
struct Readiness {
    /// The database answers reads and its last write (or probe) reached the disk.
    database: bool,
    /// The object store answers and takes a write.
    object_store: bool,
}

#[derive(ApiResponse)]
enum ReadyResponse {
    /// The database and the object store answer.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// A dependency is down, or writes do not reach the disk.
    #[oai(status = 503)]
    NotReady(Json<Readiness>, #[oai(header = "Retry-After")] u64),
}

#[OpenApi(tag = "ApiTags::Operations")]
impl HealthApi {
    /// Liveness: the process answers.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
        })
    }

    /// Readiness: the database reads and writes (a failed write makes it not
    /// ready until a write succeeds again; the service probes by itself),
    /// and the object store answers and takes a write.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, state: poem::web::Data<&AppState>) -> ReadyResponse {
        let ready = state.readiness().await;
        let readiness = Readiness {
            database: ready.database,
            object_store: ready.object_store,
        };
        if readiness.database && readiness.object_store {
            ReadyResponse::Ready(Json(readiness))
        } else {
            tracing::warn!(
                database = readiness.database,
                object_store = readiness.object_store,
                "not ready"
            );
            ReadyResponse::NotReady(Json(readiness), crate::error::RETRY_AFTER_SECS)
        }
    }
}
