//! The recipe domain: what a recipe is and every rule of the contract about it. Values of
//! these types are valid by construction (built only through `parse`/`new`), so the HTTP
//! layer, the stores and the CLI never re-check them. Nothing here does I/O.
//!
//! Only `crate::domain::…` paths are used inside, so the module can be compiled on its own.

#[cfg(test)]
pub(crate) mod arbitrary;
mod ids;
mod ingredient;
mod input;
pub mod limits;
#[cfg(test)]
mod properties;
mod recipe;
mod scaling;
pub mod schema;
mod stored;
mod tag;
mod text;
mod validation;

pub use ids::{Owner, RecipeId};
pub use ingredient::{Ingredient, IngredientName, Quantity, Unit};
pub use input::{IngredientInput, QuantityInput, RecipeInput, StepInput};
pub use recipe::{Difficulty, RecipeContent, Servings, Step};
pub use stored::{Recipe, now_utc};
pub use tag::Tag;
pub use text::SearchText;
pub use validation::{FieldError, ValidationErrors};
