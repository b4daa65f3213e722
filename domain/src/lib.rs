//! The recipe domain: what a recipe is and every rule of the contract about it. Values of
//! these types are valid by construction (built only through `parse`/`new`), so the HTTP
//! layer, the stores and the CLI never re-check them. Nothing here does I/O or knows HTTP.
//!
//! Its own crate because it has two users: the service (`gota-core`) and the client
//! (`gota-cli`), which should not compile a web server and the AWS SDK to print a recipe.
//! Feature `openapi` adds the OpenAPI schemas the service documents; feature `arbitrary`
//! adds proptest strategies for other crates' tests.

#[cfg(any(test, feature = "arbitrary"))]
pub mod arbitrary;
mod content;
mod ids;
mod ingredient;
pub mod ingredient_line;
mod input;
pub mod limits;
pub mod photo;
#[cfg(test)]
mod properties;
mod recipe;
mod scaling;
#[cfg(feature = "openapi")]
mod schema;
pub mod search;
pub mod shopping;
mod tag;
mod text;
mod timestamp;
pub mod units;
mod validation;

pub use content::{Difficulty, RecipeContent, Servings, Step};
pub use ids::{Owner, RecipeId};
pub use ingredient::{Ingredient, IngredientName, Quantity, Unit};
pub use input::{IngredientInput, QuantityInput, RecipeInput, StepInput};
pub use recipe::{FromStore, Recipe, STORED_SCHEMA_VERSION, ToStore, now_utc};
pub use scaling::round_for_cooks;
pub use tag::Tag;
pub use text::SearchText;
pub use units::UnitSystem;
pub use validation::{FieldError, ValidationErrors};
