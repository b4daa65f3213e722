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
use super::{dev, recipes, shopping};
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

/// The document as served in this mode (dev routes only where they exist).
pub fn document(with_dev: bool) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    if let Some(components) = doc.components.as_mut() {
        components
            .schemas
            .insert("RecipeInput".to_owned(), recipes::recipe_input_schema());
    }
    if with_dev {
        doc.merge(DevDoc::openapi());
    }
    doc
}

pub async fn serve(State(state): State<Arc<ApiState>>) -> Response {
    static PLAIN: OnceLock<String> = OnceLock::new();
    static WITH_DEV: OnceLock<String> = OnceLock::new();
    let with_dev = state.dev_issuer.is_some();
    let cell = if with_dev { &WITH_DEV } else { &PLAIN };
    let body = cell.get_or_init(|| document(with_dev).to_json().unwrap_or_default());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.clone(),
    )
        .into_response()
}
