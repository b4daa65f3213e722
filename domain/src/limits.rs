//! Every number in the recipe contract, in one place, so validation, the OpenAPI
//! annotations (checked against these by a test) and the docs cannot drift apart.
//!
//! Text lengths count Unicode scalar values after NFC normalisation and trimming.

/// `title`: 1 to this many characters.
pub const TITLE_MAX: usize = 200;
/// `description`: at most this many characters.
pub const DESCRIPTION_MAX: usize = 4000;
/// `servings`: at least this many.
pub const SERVINGS_MIN: u16 = 1;
/// `servings`: at most this many (also the bound of `?servings=` scaling).
pub const SERVINGS_MAX: u16 = 1000;
/// `servings` when the client sends none.
pub const SERVINGS_DEFAULT: u16 = 1;
/// `prep_time_minutes`, `cook_time_minutes` and a step's `duration_minutes`: 0 to this (one week).
pub const MINUTES_MAX: u16 = 10_080;
/// `ingredients`: at least this many.
pub const INGREDIENTS_MIN: usize = 1;
/// `ingredients`: at most this many.
pub const INGREDIENTS_MAX: usize = 100;
/// An ingredient's `name`: 1 to this many characters.
pub const INGREDIENT_NAME_MAX: usize = 100;
/// A quantity's `amount`: at least this (a microgram is 0.001 mg). DynamoDB refuses numbers
/// below 1e-130 ("Number underflow"); no cook needs anything near that, and a floor keeps
/// scaled amounts readable too.
pub const AMOUNT_MIN: f64 = 0.001;
/// A quantity's `amount`: at most this.
pub const AMOUNT_MAX: f64 = 1_000_000.0;
/// A quantity's `amount` is rounded to this many significant digits. Any decimal with 15
/// digits survives the trip through an f64 and back unchanged (f64 holds 15.95 decimal
/// digits), so what is stored reads back exactly; DynamoDB allows 38.
pub const AMOUNT_SIGNIFICANT_DIGITS: usize = 15;
/// An ingredient's `note`: at most this many characters.
pub const INGREDIENT_NOTE_MAX: usize = 200;
/// `steps`: at least this many.
pub const STEPS_MIN: usize = 1;
/// `steps`: at most this many.
pub const STEPS_MAX: usize = 100;
/// A step's `text`: 1 to this many characters.
pub const STEP_TEXT_MAX: usize = 2000;
/// `tags`: at most this many.
pub const TAGS_MAX: usize = 20;
/// One tag: 1 to this many characters of `a-z`, `0-9` and `-`.
pub const TAG_MAX: usize = 40;
/// `calories_per_serving`: 0 to this.
pub const CALORIES_MAX: u16 = 10_000;
/// `equipment`: at most this many items.
pub const EQUIPMENT_MAX: usize = 30;
/// One `equipment` item: 1 to this many characters.
pub const EQUIPMENT_ITEM_MAX: usize = 100;
/// `notes`: at most this many items.
pub const NOTES_MAX: usize = 20;
/// One `notes` item: 1 to this many characters.
pub const NOTE_MAX: usize = 500;
/// `author`: at most this many characters.
pub const AUTHOR_MAX: usize = 100;
/// A recipe's content, as stored: at most this many bytes of compact JSON (UTF-8, the
/// response body without the server-controlled fields), measured after normalisation. It
/// bounds every stored form with room to spare under DynamoDB's 400 KB item limit: the
/// recipe item (DynamoDB's measure of it is never more than the JSON's, plus the keys) and
/// the idempotency record that keeps the whole response body. See ADR 0012.
pub const CONTENT_BYTES_MAX: usize = 350_000;
/// An owner (Cognito `sub` or dev subject): 1 to this many characters.
pub const OWNER_MAX: usize = 128;
/// The list filter `q`: 1 to this many characters.
pub const SEARCH_TEXT_MAX: usize = 200;
/// The list filter `q`: 1 to this many words (each one more index walk to intersect).
pub const SEARCH_TOKENS_MAX: usize = 8;
/// A search word is cut to this many characters (in recipes and in `q` alike).
pub const SEARCH_TOKEN_MAX: usize = 40;
/// The list filter `tag` may be given this many times (all must match).
pub const TAG_FILTERS_MAX: usize = 10;
/// A recipe is indexed under at most this many terms (words and tags); one with more is
/// indexed as "overflow" and still found, by a slower walk. 98 keeps a create (recipe +
/// idempotency record + terms) inside DynamoDB's 100 actions per transaction (ADR 0030).
pub const INDEX_TERMS_MAX: usize = 98;
/// Scaled amounts keep at most this many significant digits (see `RecipeContent::scaled_to`).
pub const SCALED_SIGNIFICANT_DIGITS: i32 = 4;
/// Scaled amounts keep at most this many decimal places, unless that would round them to 0.
pub const SCALED_DECIMAL_PLACES: i32 = 3;
/// Import from a URL: a fetched page's body is at most this many bytes, counted as it
/// arrives (whatever `Content-Length` says). Pages are fetched without compression, so this
/// is the size that would be parsed. Recipe pages are rarely past a few hundred KiB.
pub const IMPORT_PAGE_BYTES_MAX: usize = 2 * 1024 * 1024;
/// Import from a URL: the whole fetch (every resolution, connection, redirect and the body)
/// ends within this many seconds. It must end well inside the request deadline
/// (`gota_core::http::REQUEST_DEADLINE`, 8 s), which also covers claiming the
/// `Idempotency-Key` and storing the recipe: past that deadline the caller gets a 503 instead
/// of the fetch's own 504 (a test holds the two apart).
pub const IMPORT_FETCH_SECONDS_MAX: u64 = 5;
/// Import from a URL: the `url` is at most this many characters, both as given and as sent
/// (non-ASCII percent-encoded, RFC 3986 §2.1: "é" is six characters, a four-byte character
/// twelve); a redirect to a longer URL is not followed. Browsers and CDNs handle URLs far
/// longer, but a recipe page's address is short; 2,048 is the classic safe length. The page's
/// URL is kept in the import's idempotency record, inside [`IMPORT_REPORT_BYTES_MAX`]'s budget.
pub const IMPORT_URL_MAX: usize = 2048;
/// Import from a URL: at most this many redirects are followed.
pub const IMPORT_REDIRECTS_MAX: usize = 3;
/// `POST /recipes/import` with `Content-Type: text/html`: at most this many bytes of page.
/// Recipe pages run 100 KB to 1 MB with their markup and inline scripts, far over the 256 KiB
/// of a JSON body; 2 MiB takes the heaviest of them while the Lambda event that carries the
/// page (its body JSON-escaped, so up to about twice as long) stays well under Lambda's 6 MB
/// synchronous payload limit ("For synchronous invocations, the maximum payload size is 6
/// MB", Lambda API reference, Invoke). A JSON-LD document keeps the JSON body limit.
pub const IMPORT_HTML_BYTES_MAX: usize = 2 * 1024 * 1024;
/// `POST /shopping-list`: at least this many recipes.
pub const SHOPPING_RECIPES_MIN: usize = 1;
/// `POST /shopping-list`: at most this many recipes (each read from the store).
pub const SHOPPING_RECIPES_MAX: usize = 50;
/// `POST /recipes/import`: each list of the report (`guessed`, `dropped`) holds at most this
/// many findings; when there were more, the last one (`"from": "import"`) says how many were
/// left out. A real page gives a few dozen; a hostile one (a 3-byte `{}` step reported in an
/// 80-byte finding) could otherwise make an answer past Lambda's 6 MB response limit for a
/// recipe already created.
pub const IMPORT_FINDINGS_MAX: usize = 200;
/// `POST /recipes/import`: a finding's `from` and `note` are at most this many characters
/// (a note quotes what it could not read; past this the quote ends in "…").
pub const IMPORT_FINDING_CHARS_MAX: usize = 300;
/// `POST /recipes/import`: the report, as JSON, is at most this many bytes; findings past it
/// are left out and counted like those past [`IMPORT_FINDINGS_MAX`]. An import from a URL keeps
/// its whole answer (recipe and report) in the idempotency record, so a replay need not fetch
/// again; on DynamoDB that record is one item, and an item is at most 400 KB ("The maximum item
/// size in DynamoDB is 400 KB, which includes both attribute name binary length and attribute
/// value lengths", DynamoDB Developer Guide, Service quotas). [`CONTENT_BYTES_MAX`] (350,000)
/// plus the recipe's server fields plus this report stays under it.
pub const IMPORT_REPORT_BYTES_MAX: usize = 32 * 1024;
/// A `failed` photo's `reason`: at most this many characters. The worker writes it (never a
/// client), from its own messages; the bound keeps a recipe's item inside DynamoDB's 400 KB
/// with any reason ([`PhotoStatus::failed`](crate::photo::PhotoStatus::failed) cuts longer
/// ones, and stores refuse to write one past it).
pub const PHOTO_REASON_MAX: usize = 300;
