//! Streams a document back byte for byte, with the type read from its bytes.

use poem::{Body, IntoResponse, Response, http::header, web::Data};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::Path,
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry},
};
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{Auth, Recruiters},
};
use crate::{
    app::AppState,
    domain::sniff::FileType,
    error::{ApiError, ApiResult},
    store::{self, audit::Access},
};

pub struct DocumentsApi;

/// A document's bytes; its declared types are every type a document can have.
pub struct DocumentBody {
    content_type: String,
    size: u64,
    body: Body,
}

impl IntoResponse for DocumentBody {
    fn into_response(self) -> Response {
        Response::builder()
            .header(header::CONTENT_TYPE, self.content_type)
            .header(header::CONTENT_LENGTH, self.size)
            .header(header::CONTENT_DISPOSITION, "attachment")
            .header("X-Content-Type-Options", "nosniff")
            .body(self.body)
    }
}

impl ApiResponse for DocumentBody {
    fn meta() -> MetaResponses {
        let binary =
            || MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "binary")));
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The document's bytes, as uploaded.",
                status: Some(200),
                status_range: None,
                content: FileType::ALL
                    .iter()
                    .map(|t| MetaMediaType {
                        content_type: t.content_type().split(';').next().unwrap_or_default(),
                        schema: binary(),
                    })
                    .collect(),
                headers: vec![],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}

#[OpenApi(tag = "ApiTags::Documents")]
impl DocumentsApi {
    /// Download a document of an application. Roles: recruiter, admin.
    #[oai(
        path = "/v1/applications/:id/documents/:document_id",
        method = "get",
        operation_id = "download_document"
    )]
    async fn download(
        &self,
        state: Data<&AppState>,
        auth: Auth<Recruiters>,
        id: Path<Uuid>,
        document_id: Path<Uuid>,
    ) -> ApiResult<DocumentBody> {
        let caller = auth.0;
        let document = store::applications::get_document(&state.db, id.0, document_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("document"))?;
        let (size, stream) = state
            .blobs
            .open(&document.object_key)
            .await
            .map_err(|err| ApiError::from_infrastructure("object store", &err))?;
        state
            .audit
            .record(Access {
                actor: caller.actor(),
                action: "document.downloaded",
                application_id: Some(id.0),
                subject_id: Some(document.id),
            })
            .await?;
        Ok(DocumentBody {
            content_type: document.content_type,
            size,
            body: Body::from_bytes_stream(stream),
        })
    }
}
