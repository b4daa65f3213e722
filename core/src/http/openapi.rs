//! The OpenAPI 3.1 document, generated from the handlers' annotations and the types they use.

use std::sync::Arc;

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::ApiState;
use super::error::Problem;
use super::{Surface, dev, photos, recipes, shopping};
use gota_domain::shopping::{ShoppingItem, Source, Total};
use gota_domain::{FieldError, IngredientInput, QuantityInput, Recipe, RecipeInput, StepInput};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gota recipe API",
        description = "Recipes with ingredients, quantities and steps. Every `/recipes` call needs a Cognito bearer token; errors are RFC 9457 problem+json."
    ),
    paths(
        super::health,
        recipes::create_recipe,
        recipes::list_recipes,
        recipes::get_recipe,
        recipes::replace_recipe,
        recipes::patch_recipe,
        recipes::delete_recipe,
        recipes::import_recipe,
        photos::start_upload,
        photos::delete_photo,
        photos::redirect_to_image,
        shopping::create_shopping_list,
    ),
    components(schemas(
        Problem,
        FieldError,
        RecipeInput,
        Recipe,
        IngredientInput,
        QuantityInput,
        StepInput,
        recipes::RecipePage,
        recipes::RecipePatch,
        recipes::ImportedRecipe,
        recipes::ImportSummary,
        photos::PhotoUploadRequest,
        photos::PhotoUpload<'_>,
        crate::schema_org::ImportReport,
        crate::schema_org::Finding,
        shopping::ShoppingListRequest,
        shopping::WantedRecipe,
        shopping::ShoppingList,
        shopping::ListedFrom,
        ShoppingItem,
        Source,
        Total,
        super::Health
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "recipes", description = "The caller's recipes"),
        (name = "photos", description = "A recipe's photo: upload, renditions, removal"),
        (name = "service", description = "Service health")
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

#[derive(OpenApi)]
#[openapi(
    paths(dev::mint_token),
    components(schemas(dev::DevTokenRequest, dev::DevTokenResponse)),
    tags((name = "dev", description = "Dev auth: only on a standalone server without a user pool"))
)]
#[derive(Debug)]
struct DevDoc;

#[derive(OpenApi)]
#[openapi(paths(photos::receive_upload, photos::serve_file))]
#[derive(Debug)]
struct LocalPhotosDoc;

#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A Cognito ID or access token (or a dev token)"))
                    .build(),
            ),
        );
    }
}

/// The document of what a router serves on `surface` (dev and local photo routes only where
/// they exist).
pub fn document(surface: Surface) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    if let Some(components) = doc.components.as_mut() {
        components
            .schemas
            .insert("RecipeInput".to_owned(), recipes::recipe_input_schema());
    }
    if surface.local_photos {
        doc.merge(LocalPhotosDoc::openapi());
    }
    if surface.dev_auth {
        doc.merge(DevDoc::openapi());
    }
    doc
}

pub async fn serve(State(state): State<Arc<ApiState>>) -> Response {
    // One per surface: index = dev_auth + 2 × local_photos.
    static DOCUMENTS: [OnceLock<String>; 4] = [const { OnceLock::new() }; 4];
    let surface = Surface::of(&state);
    let index = usize::from(surface.dev_auth) + 2 * usize::from(surface.local_photos);
    let body = DOCUMENTS
        .get(index)
        .map(|cell| cell.get_or_init(|| document(surface).to_json().unwrap_or_default()))
        .cloned()
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}
