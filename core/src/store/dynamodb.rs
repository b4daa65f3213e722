//! The DynamoDB adapter: what `gota-api` uses in Lambda (and standalone with `GOTA_TABLE_NAME`).
//!
//! One table, keyed for the access patterns (see `doc/data-model.md`):
//!
//! | item | `pk` | `sk` | notes |
//! |---|---|---|---|
//! | recipe | `OWNER#<sub>` | `RECIPE#<uuidv7>` | also in GSI `by_id` (`id`) for admins |
//! | idempotency record | `OWNER#<sub>` | `IDEMPOTENCY#<key>` | `expires_at` is the TTL attribute |
//! | search posting | `SEARCH#<c>#<sub>` | `<term>#<uuidv7>` | one per index term (`search`) |
//!
//! A recipe is addressed by its owner's partition, so another user's id is unreachable by
//! construction; only `Scope::Any` (admins) asks the `by_id` index, and only for the owner's
//! partition: reads are strongly consistent `GetItem`s on the base table. A recipe write is a
//! read, the caller's change, and a `PutItem`/`DeleteItem` conditional on the version read;
//! `ReturnValuesOnConditionCheckFailure=ALL_OLD` hands back the item that won, so a lost race
//! re-applies the change to it without another read. The key layout stays in this file: the
//! domain never sees `pk` or `sk`.

mod search;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem,
};
use serde::{Deserialize, Serialize};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};
use time::OffsetDateTime;

use super::{
    Change, Check, ClaimOutcome, ExistingClaim, IdempotencyClaim, IdempotencyRecord,
    IdempotencyScope, IndexQuery, ListQuery, Page, PhotoChange, RecipeStore, Refusal, Scope,
    StoreError, StoredResponse, next_photo_version, next_version,
};
use gota_domain::photo::Photo;
use gota_domain::{FromStore, Owner, Recipe, RecipeId, ToStore};

/// The table's shape, shared by `create-table`, `table-schema` and (through the latter) the
/// CDK stack's parity test.
pub mod schema {
    pub const PARTITION_KEY: &str = "pk";
    pub const SORT_KEY: &str = "sk";
    pub const BY_ID_INDEX: &str = "by_id";
    pub const BY_ID_KEY: &str = "id";
    pub const TTL_ATTRIBUTE: &str = "expires_at";

    /// The table definition as JSON, in CloudFormation's vocabulary.
    pub fn describe() -> serde_json::Value {
        serde_json::json!({
            "KeySchema": [
                {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": SORT_KEY, "KeyType": "RANGE"}
            ],
            "AttributeDefinitions": [
                {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": SORT_KEY, "AttributeType": "S"},
                {"AttributeName": BY_ID_KEY, "AttributeType": "S"}
            ],
            "GlobalSecondaryIndexes": [{
                "IndexName": BY_ID_INDEX,
                "KeySchema": [{"AttributeName": BY_ID_KEY, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}
            }],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": true}
        })
    }
}

use schema::{BY_ID_INDEX, BY_ID_KEY, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};

const RECIPE_PREFIX: &str = "RECIPE#";
const IDEMPOTENCY_PREFIX: &str = "IDEMPOTENCY#";
/// How long a client should wait after throttling or an outage.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long a write keeps re-reading and re-applying after lost races before it gives up as
/// "unavailable" (503 + Retry-After). It must end well before the Lambda function's timeout
/// (10 s, `infra/lib/api.ts`): a function that times out answers nothing and API Gateway turns
/// that into its own 504, so the client never gets the Retry-After. 4 s is far more than a
/// realistic number of concurrent writers of one recipe needs (30 racing writers finish in
/// well under a second on DynamoDB) and leaves room for the calls in flight when it runs out.
const WRITE_BUDGET: Duration = Duration::from_secs(4);
/// Query pages a filtered list may read before it returns a short page with a cursor, so one
/// request stays well inside API Gateway's 29 s however sparse the matches are.
const MAX_QUERY_PAGES: usize = 20;
/// "TransactWriteItems is a synchronous write operation that groups up to 100 action
/// requests" (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html>).
const MAX_TRANSACTION_ACTIONS: usize = 100;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Owners whose recipes of earlier releases this process has seen indexed for search
    /// (`search::Backfill`): their searches skip the marker read.
    indexed: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

fn owner_pk(owner: &Owner) -> String {
    format!("OWNER#{}", owner.as_str())
}

fn recipe_sk(id: RecipeId) -> String {
    format!("{RECIPE_PREFIX}{id}")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl Into<i128>) -> AttributeValue {
    AttributeValue::N(value.into().to_string())
}

/// A recipe as stored: the domain's stored form (the contract's JSON and `schema_version`,
/// ADR 0025) plus the keys.
#[derive(Serialize)]
struct RecipeItem<'a> {
    pk: String,
    sk: String,
    /// [`INDEXED`]: this item's search postings were written in the same transaction. Absent
    /// only where a photo change rewrites a recipe of a release before the index (its
    /// postings are still the backfill's to write).
    #[serde(rename = "search_index", skip_serializing_if = "Option::is_none")]
    indexed: Option<u8>,
    #[serde(flatten)]
    recipe: ToStore<'a>,
}

/// The attribute every recipe item written by a release that maintains the search index
/// carries (ADR 0030): the backfill of an owner's older recipes skips the items that have it,
/// so an owner whose recipes were all written with their postings costs the backfill reads
/// only — no posting is written twice.
/// (`indexed` itself is one of DynamoDB's reserved words.)
const INDEXED: &str = "search_index";

#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyItem {
    pk: String,
    sk: String,
    fingerprint: String,
    /// Epoch seconds: DynamoDB's TTL removes the item some time after this.
    expires_at: i64,
    state: String,
    /// Epoch nanoseconds of the in-flight claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claimed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<StoredResponse>,
}

const IN_FLIGHT: &str = "in_flight";
const COMPLETED: &str = "completed";

fn unexpected(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Unexpected(e.into())
}

/// Maps an SDK failure to the API's terms: throttling, timeouts, unreachable endpoints and
/// 5xx are "unavailable" (503 + Retry-After); anything else is unexpected (500, logged).
fn classify<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => {
            matches!(
                service.err().code(),
                Some(
                    "ThrottlingException"
                        | "ProvisionedThroughputExceededException"
                        | "RequestLimitExceeded"
                        | "InternalServerError"
                        | "ServiceUnavailable"
                        | "TransactionConflictException"
                        | "TransactionInProgressException"
                )
            )
        }
        SdkError::ResponseError(_) => true,
        _ => false,
    };
    let source = anyhow!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(error))
        .context("DynamoDB request failed");
    if transient {
        StoreError::Unavailable {
            retry_after: RETRY_AFTER,
            source,
        }
    } else {
        StoreError::Unexpected(source)
    }
}

/// Why DynamoDB cancelled the create transaction, from its cancellation reasons (one per
/// action, in order: the recipe put, then the idempotency record put).
#[derive(Debug, PartialEq, Eq)]
enum Cancelled {
    RecipeExists,
    ClaimLost,
    /// A conflicting transaction or throttling: nothing was written and a retry can succeed.
    /// "TransactWriteItems" (API reference) lists `TransactionConflict`,
    /// `ProvisionedThroughputExceeded` and `ThrottlingError` among the reasons; they arrive as
    /// a `TransactionCanceledException`, not as the throttling errors `classify` knows.
    Transient,
}

fn cancelled_create(reasons: &[Option<String>]) -> Option<Cancelled> {
    let code = |i: usize| reasons.get(i).and_then(Option::as_deref);
    if code(0) == Some("ConditionalCheckFailed") {
        Some(Cancelled::RecipeExists)
    } else if code(1) == Some("ConditionalCheckFailed") {
        Some(Cancelled::ClaimLost)
    } else if reasons.iter().flatten().any(|code| {
        matches!(
            code.as_str(),
            "TransactionConflict" | "ProvisionedThroughputExceeded" | "ThrottlingError"
        )
    }) {
        Some(Cancelled::Transient)
    } else {
        None
    }
}

/// The SDK error with its whole cause chain, as text (the SDK's own types do not chain).
fn sdk_error(error: &impl std::error::Error) -> anyhow::Error {
    anyhow!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(error))
}

/// An item written by this release (it carries the current `schema_version`) is only given
/// the domain's integrity check; any other (written by an earlier release, which had no
/// marker, or by hand) is validated in full (ADR 0025).
pub(super) fn decode_recipe(item: HashMap<String, AttributeValue>) -> Result<Recipe, StoreError> {
    from_item::<FromStore>(item)
        .map(FromStore::into_recipe)
        .context("stored recipe does not decode")
        .map_err(StoreError::Unexpected)
}

pub(super) fn recipe_item(recipe: &Recipe) -> Result<HashMap<String, AttributeValue>, StoreError> {
    recipe_item_marked(recipe, true)
}

/// The recipe's item, with the [`INDEXED`] mark or without it.
fn recipe_item_marked(
    recipe: &Recipe,
    indexed: bool,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    to_item(RecipeItem {
        pk: owner_pk(&recipe.owner),
        sk: recipe_sk(recipe.id),
        indexed: indexed.then_some(1),
        recipe: recipe.to_store(),
    })
    .map_err(unexpected)
    .and_then(storable)
}

/// The item, if DynamoDB would store it. The domain's limits keep every item well inside
/// DynamoDB's rules (tests below hold that), so a refusal here is a bug, reported as one
/// instead of as DynamoDB's bare `ValidationException`.
fn storable(
    item: HashMap<String, AttributeValue>,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    super::item_size::check_item(&item).map_err(|e| {
        unexpected(anyhow!(
            "refusing to write an item DynamoDB would refuse: {e}"
        ))
    })?;
    Ok(item)
}

/// The item of a completed idempotency record, if DynamoDB would store it.
pub(crate) fn completed_record_item(
    record: &IdempotencyRecord,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    to_item(IdempotencyItem {
        pk: owner_pk(&record.scope.owner),
        sk: format!("{IDEMPOTENCY_PREFIX}{}", record.scope.key),
        fingerprint: record.fingerprint.clone(),
        expires_at: epoch_seconds(record.expires_at),
        state: COMPLETED.to_owned(),
        claimed_at: None,
        response: Some(record.response.clone()),
    })
    .map_err(unexpected)
    .and_then(storable)
}

/// A page plus one match: cut to the page, resuming after its last item.
fn full_page(mut items: Vec<Recipe>) -> Page {
    items.pop();
    let next = items.last().map(|r| r.id.to_string());
    Page { items, next }
}

/// After a lost race: go again, unless the write budget is spent.
/// Where recipe `id` lives, and its current item when finding it already read it.
#[derive(Debug)]
struct Located {
    pk: String,
    item: Option<HashMap<String, AttributeValue>>,
}

fn lost_race(deadline: Instant) -> Result<(), StoreError> {
    if Instant::now() < deadline {
        Ok(())
    } else {
        Err(StoreError::Unavailable {
            retry_after: RETRY_AFTER,
            source: anyhow!("a recipe write kept losing races for {WRITE_BUDGET:?}"),
        })
    }
}

fn epoch_seconds(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// Epoch nanoseconds fit an i64 until the year 2262.
fn epoch_nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// The IAM actions the store's calls while serving need, printed by `gota-api iam-actions`
/// for the stack's grant. One per operation sent (`get_item`, `query`, `put_item`,
/// `delete_item` below), and for `transact_write_items` the action of each kind of part in it:
/// "Permissions for Put, Update, Delete, and Get actions are governed by the permissions used
/// for the underlying PutItem, UpdateItem, DeleteItem, and GetItem operations"
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html>);
/// this store's transaction has only `Put` parts. [`DynamoStore::create_table`] (emulators,
/// `gota-api create-table`) is left out on purpose: the function must not be able to do it.
/// A black-box test records what the SDK sends through the conformance suite and compares.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
];

impl DynamoStore {
    /// A store on `table`, with the SDK's own configuration chain (region, credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB`), standard retries and timeouts bounded well inside API
    /// Gateway's 29 s. Does no I/O.
    pub fn connect(aws: &aws_config::SdkConfig, table: &str) -> Self {
        let config = aws_sdk_dynamodb::config::Builder::from(aws)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_max_backoff(Duration::from_secs(1)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_millis(1500))
                    .operation_attempt_timeout(Duration::from_secs(3))
                    .operation_timeout(Duration::from_secs(8))
                    .build(),
            )
            .build();
        Self::with_client(Client::from_conf(config), table)
    }

    pub fn with_client(client: Client, table: &str) -> Self {
        Self {
            client,
            table: table.to_owned(),
            indexed: std::sync::Arc::default(),
        }
    }

    /// Whether every recipe of `owner` is in the search index. Recipes written by a release
    /// before the index have no postings: the first searches of each owner file them, a
    /// bounded batch per request (answered meanwhile by the plain walk), newest first, and
    /// record how far they got in a marker item; once the oldest is filed the marker says so.
    /// Recipes written meanwhile are filed by their own writes; one replaced before the batch
    /// read it is filed with its current content, and one written after the batch read it is
    /// left to that write (each recipe's postings go in one transaction with its item, only
    /// over the version read: [`backfill_of`](Self::backfill_of)), so nothing a write did is
    /// undone.
    async fn search_ready(&self, owner: &Owner) -> Result<bool, StoreError> {
        let known = self
            .indexed
            .lock()
            .map(|set| set.contains(owner.as_str()))
            .unwrap_or(false);
        if known {
            return Ok(true);
        }
        let (marker_pk, marker_sk) = search::backfill_marker(owner);
        let marker = self
            .get_consistent(marker_pk.clone(), marker_sk.clone())
            .await?;
        let position = match marker {
            Some(item) if matches!(item.get("done"), Some(AttributeValue::Bool(true))) => {
                if let Ok(mut set) = self.indexed.lock() {
                    set.insert(owner.as_str().to_owned());
                }
                return Ok(true);
            }
            Some(mut item) => match item.remove("before") {
                Some(AttributeValue::S(id)) => Some(id),
                _ => None,
            },
            None => None,
        };
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":pk", s(owner_pk(owner)))
            .expression_attribute_values(":lo", s(RECIPE_PREFIX))
            .expression_attribute_values(
                ":hi",
                s(position.map_or_else(
                    // `#` + 1 is `$`: past every `RECIPE#…`.
                    || "RECIPE$".to_owned(),
                    |id| format!("{RECIPE_PREFIX}{id}"),
                )),
            )
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(search::BACKFILL_RECIPES)
            .send()
            .await
            .map_err(classify)?;
        let mut filings = tokio::task::JoinSet::new();
        let mut oldest = None;
        for item in output.items.unwrap_or_default() {
            if item.contains_key(INDEXED) {
                if let Some(AttributeValue::S(sk)) = item.get(SORT_KEY) {
                    oldest = sk.strip_prefix(RECIPE_PREFIX).map(str::to_owned);
                }
                continue;
            }
            let recipe = decode_recipe(item)?;
            let actions = self.backfill_of(&recipe)?;
            oldest = Some(recipe.id.to_string());
            let client = self.client.clone();
            filings.spawn(async move {
                client
                    .transact_write_items()
                    .set_transact_items(Some(actions))
                    .send()
                    .await
                    .map_err(classify)
            });
        }
        // A recipe that lost its race (a write changed it since it was read) has been filed
        // by that write; its failure still keeps the marker where it was, so the next batch
        // reads the recipe again (and skips it if that write gave it the mark).
        for filed in filings.join_all().await {
            filed?;
        }
        let done = output.last_evaluated_key.is_none();
        let mut marker = HashMap::from([
            (PARTITION_KEY.to_owned(), s(marker_pk)),
            (SORT_KEY.to_owned(), s(marker_sk)),
            ("done".to_owned(), AttributeValue::Bool(done)),
        ]);
        if let Some(oldest) = oldest {
            marker.insert("before".to_owned(), s(oldest));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(marker))
            .send()
            .await
            .map_err(classify)?;
        Ok(false)
    }

    /// The backfill's transaction for `recipe` of an earlier release, as it was read: its
    /// postings, and the recipe item again (unchanged but for the [`INDEXED`] mark) only over
    /// that version without the mark; at most 1 + `limits::INDEX_TERMS_MAX` actions. Without
    /// the condition, a write between the read and this transaction (which has filed the
    /// recipe itself) would be overwritten by postings of the content it replaced: a deleted
    /// recipe's would stay, and a posting stamped with the older version would be taken by a
    /// late stale-posting removal ([`search::remove_stale`]) even where a later version filed
    /// the term again. With the mark, the next batch and the next update know it is filed.
    fn backfill_of(&self, recipe: &Recipe) -> Result<Vec<TransactWriteItem>, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(recipe_item(recipe)?))
            .condition_expression("#version = :read AND attribute_not_exists(#indexed)")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#indexed", INDEXED)
            .expression_attribute_values(":read", n(recipe.version))
            .build()
            .map_err(unexpected)?;
        let mut actions = vec![TransactWriteItem::builder().put(put).build()];
        actions.extend(self.postings_of(recipe)?);
        Ok(actions)
    }

    /// The puts that file `recipe` under each of its index terms (at most
    /// `limits::INDEX_TERMS_MAX`), stamped with its version.
    fn postings_of(&self, recipe: &Recipe) -> Result<Vec<TransactWriteItem>, StoreError> {
        let id = recipe.id.to_string();
        gota_domain::search::index_terms(&recipe.content)
            .iter()
            .map(|term| search::put_posting(&self.table, &recipe.owner, term, &id, recipe.version))
            .collect()
    }

    /// Opens the connection to DynamoDB (DNS, TCP, TLS, the first signed request) so that the
    /// first request a caller makes does not pay for it: one eventually consistent `GetItem`
    /// of a key no item has (`GetItem`, already in [`IAM_ACTIONS`]). A missing item is an empty
    /// answer, not an error: "If there is no matching item, GetItem does not return any data"
    /// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html>). The
    /// SDK's HTTP client keeps the connection in its pool for the client's later calls. Returns
    /// the request's outcome; the caller decides how long to wait (`doc/adr/0026-warm-init.md`).
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s("warm-up"))
            .key(SORT_KEY, s("warm-up"))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Creates the table (and its TTL) if it is missing; returns whether it created it.
    pub async fn create_table(&self) -> anyhow::Result<bool> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
            .key_schema(key(SORT_KEY, KeyType::Range)?)
            .attribute_definitions(attribute(PARTITION_KEY)?)
            .attribute_definitions(attribute(SORT_KEY)?)
            .attribute_definitions(attribute(BY_ID_KEY)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(BY_ID_INDEX)
                    .key_schema(key(BY_ID_KEY, KeyType::Hash)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()?,
            )
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                return Ok(false);
            }
            Err(error) => {
                return Err(sdk_error(&error).context(format!("creating table {}", self.table)));
            }
        }
        for _ in 0..120 {
            let table = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| sdk_error(&e))?;
            let active = table
                .table()
                .and_then(|t| t.table_status())
                .is_some_and(|s| s.as_str() == "ACTIVE");
            if active {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| sdk_error(&e))
            .context("enabling TTL")?;
        Ok(true)
    }

    /// A page of the owner's recipes, newest first, each checked against the filter: the list
    /// without a filter, and a search the index cannot answer inside its budget.
    async fn walk_page(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let pk = owner_pk(&query.owner);
        let mut start = query.after.as_ref().map(|after| {
            HashMap::from([
                (PARTITION_KEY.to_owned(), s(pk.clone())),
                (SORT_KEY.to_owned(), s(format!("{RECIPE_PREFIX}{after}"))),
            ])
        });
        // Filters apply after DynamoDB's Limit, so read in larger pages when filtering.
        let unfiltered = query.filter == super::ListFilter::default();
        let page_size = if unfiltered {
            query.limit + 1
        } else {
            (query.limit * 4).clamp(25, 400)
        };
        let mut items: Vec<Recipe> = Vec::with_capacity(query.limit + 1);
        let mut last_scanned: Option<RecipeId> = None;
        for _ in 0..MAX_QUERY_PAGES {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_names("#sk", SORT_KEY)
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(RECIPE_PREFIX))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(i32::try_from(page_size).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in output.items.unwrap_or_default() {
                let recipe = decode_recipe(item)?;
                last_scanned = Some(recipe.id);
                if query.filter.matches(&recipe.content) {
                    items.push(recipe);
                    if items.len() > query.limit {
                        // One match past the page: the page is full and not the last.
                        items.truncate(query.limit);
                        let next = items.last().map(|r| r.id.to_string());
                        return Ok(Page { items, next });
                    }
                }
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(Page { items, next: None }),
            }
        }
        // Read budget spent: a short page, resuming after the last recipe examined.
        Ok(Page {
            items,
            next: last_scanned.map(|id| id.to_string()),
        })
    }

    /// A page of the recipes the search index finds (each then read and checked against the
    /// whole filter); `None` when a walk that must be read whole (a type-ahead prefix alone,
    /// the overflow recipes) does not fit the read budget, for the plain walk to answer.
    async fn search_page(
        &self,
        query: &ListQuery,
        index_query: &IndexQuery,
    ) -> Result<Option<Page>, StoreError> {
        match self.search_ready(&query.owner).await {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            // A batch of the backfill is best effort: DynamoDB cancels a transaction when
            // "there is an ongoing TransactWriteItems operation that conflicts with a
            // concurrent TransactWriteItems request" (a writer filing one of its postings;
            // <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html>,
            // TransactionCanceledException). The next search files it again, and the plain
            // list answers this one.
            Err(error) => {
                tracing::warn!(
                    ?error,
                    "search backfill batch failed; the plain list answers"
                );
                return Ok(None);
            }
        }
        let before = query.after.as_deref();
        let mut reader = search::Reader {
            client: &self.client,
            table: &self.table,
            owner: &query.owner,
            pages: 0,
        };
        let Ok(overflow) = reader.overflow(before).await? else {
            return Ok(None);
        };
        let mut walks: Vec<search::Walk> = index_query
            .exact
            .iter()
            .map(|term| search::Walk::term(term, overflow.clone(), before))
            .collect();
        if walks.is_empty() {
            // Only a type-ahead word: its terms' postings, read whole (with the overflow).
            let prefix = index_query.prefix.as_deref().unwrap_or_default();
            let Ok(mut ids) = reader.all_with_prefix(prefix, before).await? else {
                return Ok(None);
            };
            ids.extend(overflow);
            let mut ids: Vec<String> = ids.into_iter().collect();
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
            walks.push(search::Walk::known(ids.into()));
        }
        // The prefix, when there are exact terms too, is left to the check of each candidate.
        let mut items: Vec<Recipe> = Vec::with_capacity(query.limit + 1);
        let mut examined: Option<String> = None;
        let mut candidates: Vec<String> = Vec::new();
        let mut verified = 0;
        'search: loop {
            // The next id every walk holds (sorted-merge intersection, newest first).
            let next = loop {
                let mut heads = Vec::with_capacity(walks.len());
                for walk in &mut walks {
                    match walk.head(&mut reader).await? {
                        Err(search::Spent) => break 'search,
                        Ok(None) => break 'search,
                        Ok(Some(head)) => heads.push(head),
                    }
                }
                let Some(lowest) = heads.iter().min().cloned() else {
                    break 'search;
                };
                if heads.iter().all(|h| *h == lowest) {
                    for walk in &mut walks {
                        walk.pass(&lowest);
                    }
                    break lowest;
                }
                for (walk, head) in walks.iter_mut().zip(&heads) {
                    if *head != lowest {
                        walk.pass(head);
                    }
                }
            };
            candidates.push(next);
            if candidates.len() + items.len() > query.limit {
                if self
                    .check(query, &mut candidates, &mut items, &mut examined)
                    .await?
                {
                    return Ok(Some(full_page(items)));
                }
                verified += 1;
                if verified >= search::CHECK_BUDGET {
                    break 'search;
                }
            }
        }
        if self
            .check(query, &mut candidates, &mut items, &mut examined)
            .await?
        {
            return Ok(Some(full_page(items)));
        }
        // Walks ended (no further match), or the budget ran out: then a short page that
        // resumes after the last id examined.
        let spent = reader.pages >= search::QUERY_BUDGET || verified >= search::CHECK_BUDGET;
        match (spent, examined) {
            (false, _) => Ok(Some(Page { items, next: None })),
            (true, Some(examined)) => Ok(Some(Page {
                items,
                next: Some(examined),
            })),
            // Spent before a single candidate: no position to resume from that the index
            // knows; the plain walk has its own.
            (true, None) => Ok(None),
        }
    }

    /// Reads `candidates` (concurrently, consistently) and keeps the matches, in order, into
    /// `items`; true when `items` holds one more than a page (then cut to the page).
    async fn check(
        &self,
        query: &ListQuery,
        candidates: &mut Vec<String>,
        items: &mut Vec<Recipe>,
        examined: &mut Option<String>,
    ) -> Result<bool, StoreError> {
        let mut reads = tokio::task::JoinSet::new();
        for (n, id) in candidates.drain(..).enumerate() {
            let store = self.clone();
            let pk = owner_pk(&query.owner);
            reads.spawn(async move {
                let item = store
                    .get_consistent(pk, format!("{RECIPE_PREFIX}{id}"))
                    .await;
                (n, id, item)
            });
        }
        let mut read: Vec<_> = reads.join_all().await;
        read.sort_by_key(|(n, _, _)| *n);
        for (_, id, item) in read {
            *examined = Some(id);
            let Some(item) = item? else { continue };
            let recipe = decode_recipe(item)?;
            if query.filter.matches(&recipe.content) {
                items.push(recipe);
                if items.len() > query.limit {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The completed idempotency record's part of a create transaction: written only while
    /// this request's claim is still the key's.
    fn completed_record(
        &self,
        record: &IdempotencyRecord,
    ) -> Result<TransactWriteItem, StoreError> {
        let record_item = completed_record_item(record)?;
        let put_record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(record_item))
            .condition_expression("#state = :in_flight AND claimed_at = :claimed_at")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .expression_attribute_values(":claimed_at", n(epoch_nanos(record.claimed_at)))
            .build()
            .map_err(unexpected)?;
        Ok(TransactWriteItem::builder().put(put_record).build())
    }

    /// Writes `actions` (the recipe's conditional write first) as one transaction. `Ok(None)`
    /// when committed; `Ok(Some(item))` when the recipe's condition failed or the transaction
    /// met a conflicting one (a lost race: `item` is the recipe that won, when DynamoDB sent
    /// it back); an error otherwise.
    async fn transact_recipe_write(
        &self,
        actions: Vec<TransactWriteItem>,
    ) -> Result<Option<Option<HashMap<String, AttributeValue>>>, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(None),
            Err(error) => error,
        };
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            error.as_service_error()
        {
            let reasons = cancelled.cancellation_reasons();
            if let Some(first) = reasons.first()
                && first.code() == Some("ConditionalCheckFailed")
            {
                return Ok(Some(first.item().cloned()));
            }
            if reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
            {
                return Ok(Some(None));
            }
        }
        Err(classify(error))
    }

    /// Stale postings that did not fit in the transaction that committed `version`, removed
    /// after it (concurrently; each only if no later version filed it again). The write is
    /// done by then: a removal that fails is logged, not reported, since a stale posting left
    /// behind (a failure, a crash in between) is harmless: every candidate is checked against
    /// the recipe. Failing the request instead would tell the client a committed change
    /// failed, and its retry would meet a 412.
    async fn remove_postings(&self, owner: &Owner, id: &str, version: u64, terms: &[String]) {
        let mut removals = tokio::task::JoinSet::new();
        for term in terms {
            let (client, table, owner) = (self.client.clone(), self.table.clone(), owner.clone());
            let (term, id) = (term.clone(), id.to_owned());
            removals.spawn(async move {
                search::remove_stale(&client, &table, &owner, &term, &id, version).await
            });
        }
        let failed = removals
            .join_all()
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect::<Vec<_>>();
        if let Some(first) = failed.first() {
            tracing::warn!(
                recipe_id = id,
                left = failed.len(),
                error = ?first,
                "stale search postings left after an update (harmless; they cost candidate checks)"
            );
        }
    }

    async fn get_consistent(
        &self,
        pk: String,
        sk: String,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(pk))
            .key(SORT_KEY, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item)
    }

    /// The partition that holds recipe `id`, if `scope` may see it (with the item, when
    /// finding the partition meant reading it).
    ///
    /// An owner's recipes live in the owner's partition, so that needs no I/O (and another
    /// user's id is unreachable by construction). For admins the `by_id` index only names the
    /// partition; every read and write then goes to the base table. "All reads from GSIs and
    /// streams are eventually consistent" (DynamoDB Developer Guide, "DynamoDB read
    /// consistency"; a `ConsistentRead` query on a GSI is a `ValidationException`), so a recipe
    /// created a moment ago may be missing from the index for a fraction of a second: an
    /// admin's read or write of it is then a 404, and a retry finds it. An item the index
    /// still shows after its deletion, or at an old version, is harmless: only its `pk` is
    /// used, and the consistent base-table read has the final word.
    async fn locate(&self, id: RecipeId, scope: Scope<'_>) -> Result<Option<Located>, StoreError> {
        match scope {
            Scope::Owner(owner) => Ok(Some(Located {
                pk: owner_pk(owner),
                item: None,
            })),
            Scope::Admin(admin) => {
                // The admin's own recipe is where an owner's is, and a consistent read there
                // sees it even before the index does (and is kept: it is the current item);
                // anyone else's goes through the index.
                let own = owner_pk(admin);
                if let Some(item) = self.get_consistent(own.clone(), recipe_sk(id)).await? {
                    return Ok(Some(Located {
                        pk: own,
                        item: Some(item),
                    }));
                }
                Box::pin(self.locate(id, Scope::Any)).await
            }
            Scope::Any => {
                let output = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(BY_ID_INDEX)
                    .key_condition_expression("#id = :id")
                    .projection_expression("#pk")
                    .expression_attribute_names("#id", BY_ID_KEY)
                    .expression_attribute_names("#pk", PARTITION_KEY)
                    .expression_attribute_values(":id", s(id.to_string()))
                    .send()
                    .await
                    .map_err(classify)?;
                Ok(output
                    .items
                    .unwrap_or_default()
                    .into_iter()
                    .find_map(|mut item| match item.remove(PARTITION_KEY) {
                        Some(AttributeValue::S(pk)) => Some(Located { pk, item: None }),
                        _ => None,
                    }))
            }
        }
    }

    /// The recipe as stored now: an item just read consistently, or the item a failed
    /// condition check returned (with
    /// `ReturnValuesOnConditionCheckFailure=ALL_OLD`, `ConditionalCheckFailedException.Item`
    /// is "the item which caused the condition check to fail", DynamoDB API Reference), else a
    /// strongly consistent read. `NotFound` when it is gone.
    async fn current(
        &self,
        pk: &str,
        id: RecipeId,
        returned: Option<HashMap<String, AttributeValue>>,
    ) -> Result<Recipe, StoreError> {
        self.current_marked(pk, id, returned)
            .await
            .map(|(recipe, _)| recipe)
    }

    /// [`current`](Self::current), and whether the item carries the [`INDEXED`] mark (its
    /// postings were written with it; without it, a recipe of a release before the index).
    async fn current_marked(
        &self,
        pk: &str,
        id: RecipeId,
        returned: Option<HashMap<String, AttributeValue>>,
    ) -> Result<(Recipe, bool), StoreError> {
        let item = match returned {
            Some(item) if !item.is_empty() => Some(item),
            // No item back: either it is gone or the emulator does not return it.
            _ => self.get_consistent(pk.to_owned(), recipe_sk(id)).await?,
        };
        let item = item.ok_or(StoreError::NotFound)?;
        let indexed = item.contains_key(INDEXED);
        Ok((decode_recipe(item)?, indexed))
    }

    fn existing_claim(item: HashMap<String, AttributeValue>) -> Result<ClaimOutcome, StoreError> {
        let item: IdempotencyItem = from_item(item).map_err(unexpected)?;
        let state = match (item.state.as_str(), item.response) {
            (COMPLETED, Some(response)) => ExistingClaim::Completed(response),
            (IN_FLIGHT, _) => ExistingClaim::InFlight,
            (other, _) => return Err(unexpected(anyhow!("unknown idempotency state {other:?}"))),
        };
        Ok(ClaimOutcome::Existing {
            fingerprint: item.fingerprint,
            state,
        })
    }
}

#[async_trait]
impl RecipeStore for DynamoStore {
    #[tracing::instrument(skip(self, scope), level = "debug")]
    async fn get(&self, id: RecipeId, scope: Scope<'_>) -> Result<Option<Recipe>, StoreError> {
        let Some(located) = self.locate(id, scope).await? else {
            return Ok(None);
        };
        match self.current(&located.pk, id, located.item).await {
            Ok(recipe) => Ok(Some(recipe)),
            Err(StoreError::NotFound) => Ok(None),
            Err(error) => Err(error),
        }
    }

    #[tracing::instrument(skip_all, level = "debug")]
    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        if let Some(index_query) = query.filter.index_query()
            && let Some(page) = self.search_page(query, &index_query).await?
        {
            return Ok(page);
        }
        self.walk_page(query).await
    }

    #[tracing::instrument(skip_all, fields(recipe_id = %recipe.id), level = "debug")]
    async fn create(
        &self,
        recipe: &Recipe,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), StoreError> {
        let item = recipe_item(recipe)?;
        let put_recipe = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .build()
            .map_err(unexpected)?;
        let mut actions = vec![TransactWriteItem::builder().put(put_recipe).build()];
        if let Some(record) = idempotency {
            actions.push(self.completed_record(record)?);
        }
        // The recipe, its record and its postings in one transaction: at most
        // 2 + INDEX_TERMS_MAX = 100 actions, DynamoDB's limit.
        actions.extend(self.postings_of(recipe)?);
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                let reasons: Vec<Option<String>> = error
                    .as_service_error()
                    .and_then(|e| match e {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(
                            c.cancellation_reasons()
                                .iter()
                                .map(|r| r.code().map(str::to_owned))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .unwrap_or_default();
                match cancelled_create(&reasons) {
                    Some(Cancelled::RecipeExists) => Err(StoreError::AlreadyExists),
                    Some(Cancelled::ClaimLost) => Err(StoreError::ClaimLost),
                    Some(Cancelled::Transient) => Err(StoreError::Unavailable {
                        retry_after: RETRY_AFTER,
                        source: sdk_error(&error).context("create transaction cancelled"),
                    }),
                    None => Err(classify(error)),
                }
            }
        }
    }

    #[tracing::instrument(skip(self, scope, change), level = "debug")]
    async fn update(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &Change<'_>,
    ) -> Result<Result<Recipe, Refusal>, StoreError> {
        let Located { pk, item } = self.locate(id, scope).await?.ok_or(StoreError::NotFound)?;
        let deadline = Instant::now() + WRITE_BUDGET;
        let (mut current, mut indexed) = self.current_marked(&pk, id, item).await?;
        loop {
            let content = match change(&current) {
                Ok(content) => content,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let Some(next) = next_version(&current, content) else {
                return Ok(Ok(current));
            };
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(recipe_item(&next)?))
                // Only over the version `change` saw; a missing item has no version.
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(current.version))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(unexpected)?;
            let key = id.to_string();
            let (stale, mut fresh) = search::diff(&current.content, &next.content);
            if !indexed {
                // A recipe of a release before the index has no postings, and once this write
                // gives it the mark the backfill skips it: it needs every term, not only the
                // new ones (at most INDEX_TERMS_MAX, as always).
                fresh = gota_domain::search::index_terms(&next.content)
                    .into_iter()
                    .collect();
            }
            let mut actions = vec![TransactWriteItem::builder().put(put).build()];
            // Every new posting goes with the recipe (at most INDEX_TERMS_MAX = 98, so 99
            // actions), and as many stale ones as still fit in DynamoDB's 100.
            for term in &fresh {
                actions.push(search::put_posting(
                    &self.table,
                    &next.owner,
                    term,
                    &key,
                    next.version,
                )?);
            }
            let room = MAX_TRANSACTION_ACTIONS
                .saturating_sub(actions.len())
                .min(stale.len());
            let (now, later) = stale.split_at(room);
            for term in now {
                actions.push(search::delete_posting(
                    &self.table,
                    &next.owner,
                    term,
                    &key,
                )?);
            }
            let lost = match self.transact_recipe_write(actions).await? {
                None => {
                    self.remove_postings(&next.owner, &key, next.version, later)
                        .await;
                    return Ok(Ok(next));
                }
                Some(lost) => lost,
            };
            lost_race(deadline)?;
            (current, indexed) = self.current_marked(&pk, id, lost).await?;
        }
    }

    #[tracing::instrument(skip(self, scope, check), level = "debug")]
    async fn delete(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        check: &Check<'_>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let Located { pk, item } = self.locate(id, scope).await?.ok_or(StoreError::NotFound)?;
        let deadline = Instant::now() + WRITE_BUDGET;
        let mut current = self.current(&pk, id, item).await?;
        loop {
            if let Err(refusal) = check(&current) {
                return Ok(Err(refusal));
            }
            let delete = Delete::builder()
                .table_name(&self.table)
                .key(PARTITION_KEY, s(pk.clone()))
                .key(SORT_KEY, s(recipe_sk(id)))
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(current.version))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(unexpected)?;
            let key = id.to_string();
            let mut actions = vec![TransactWriteItem::builder().delete(delete).build()];
            // At most 1 + INDEX_TERMS_MAX actions.
            for term in gota_domain::search::index_terms(&current.content) {
                actions.push(search::delete_posting(
                    &self.table,
                    &current.owner,
                    &term,
                    &key,
                )?);
            }
            let lost = match self.transact_recipe_write(actions).await? {
                None => return Ok(Ok(())),
                Some(lost) => lost,
            };
            lost_race(deadline)?;
            current = self.current(&pk, id, lost).await?;
        }
    }

    /// One conditional `PutItem` of the whole item over the version `change` saw: the same
    /// attributes `update` writes, the content as stored, so no search posting moves (and the
    /// [`INDEXED`] mark stays as it was: a recipe of a release before the index keeps waiting
    /// for the backfill, which would skip it once marked).
    #[tracing::instrument(skip(self, scope, change), level = "debug")]
    async fn update_photo(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &PhotoChange<'_>,
    ) -> Result<Result<(Recipe, Option<Photo>), Refusal>, StoreError> {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        let Located { pk, item } = self.locate(id, scope).await?.ok_or(StoreError::NotFound)?;
        let deadline = Instant::now() + WRITE_BUDGET;
        let (mut current, mut indexed) = self.current_marked(&pk, id, item).await?;
        loop {
            let photo = match change(&current) {
                Ok(photo) => photo,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let Some((next, replaced)) = next_photo_version(&current, photo)? else {
                // Nothing replaced: the stored photo stays (and so do its objects).
                return Ok(Ok((current, None)));
            };
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(recipe_item_marked(&next, indexed)?))
                // Only over the version `change` saw; a missing item has no version.
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(current.version))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let lost = match result {
                Ok(_) => return Ok(Ok((next, replaced))),
                Err(error) => match error.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(e)) => e.item().cloned(),
                    // "A PutItem, UpdateItem, or DeleteItem request for an item conflicts with
                    // an ongoing TransactWriteItems request that includes the same item" and
                    // fails with TransactionConflictException (DynamoDB Developer Guide,
                    // "Transaction conflict handling in DynamoDB"): an `update` of the same
                    // recipe in flight, so a lost race like any other; read again.
                    Some(e) if e.code() == Some("TransactionConflictException") => None,
                    _ => return Err(classify(error)),
                },
            };
            lost_race(deadline)?;
            (current, indexed) = self.current_marked(&pk, id, lost).await?;
        }
    }

    #[tracing::instrument(skip_all, level = "debug")]
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        let pk = owner_pk(&claim.scope.owner);
        let sk = format!("{IDEMPOTENCY_PREFIX}{}", claim.scope.key);
        let claimed_at = epoch_nanos(claim.now);
        let lease_cutoff = epoch_nanos(claim.now - claim.lease);
        let item = to_item(IdempotencyItem {
            pk: pk.clone(),
            sk: sk.clone(),
            fingerprint: claim.fingerprint.clone(),
            expires_at: epoch_seconds(claim.now + claim.retention),
            state: IN_FLIGHT.to_owned(),
            claimed_at: Some(claimed_at),
            response: None,
        })
        .map_err(unexpected)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            // Free, expired (TTL deletion lags), or an abandoned in-flight claim.
            .condition_expression(
                "attribute_not_exists(#pk) OR #expires <= :now \
                 OR (#state = :in_flight AND claimed_at <= :cutoff)",
            )
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(epoch_seconds(claim.now)))
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .expression_attribute_values(":cutoff", n(lease_cutoff))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(error) => match error.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e)) => {
                    let existing = match e.item() {
                        Some(item) if !item.is_empty() => Some(item.clone()),
                        _ => self.get_consistent(pk, sk).await?,
                    };
                    match existing {
                        Some(item) => Self::existing_claim(item),
                        // Gone between our write and our read: let the client retry.
                        None => Err(StoreError::Unavailable {
                            retry_after: RETRY_AFTER,
                            source: anyhow!("idempotency record vanished during a claim"),
                        }),
                    }
                }
                _ => Err(classify(error)),
            },
        }
    }

    #[tracing::instrument(skip_all, level = "debug")]
    async fn release_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claimed_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(owner_pk(&scope.owner)))
            .key(SORT_KEY, s(format!("{IDEMPOTENCY_PREFIX}{}", scope.key)))
            // A completed record is the proof of a create, and a younger claim belongs to the
            // request that took over an expired lease: release neither.
            .condition_expression("#state = :in_flight AND claimed_at = :claimed_at")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":in_flight", s(IN_FLIGHT))
            .expression_attribute_values(":claimed_at", n(epoch_nanos(claimed_at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(error) => Err(classify(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use gota_domain::arbitrary::input_of_stored_size;
    use gota_domain::{RecipeContent, limits, now_utc};

    fn reasons(codes: &[Option<&str>]) -> Vec<Option<String>> {
        codes.iter().map(|c| c.map(str::to_owned)).collect()
    }

    #[test]
    fn a_create_cancelled_by_contention_or_throttling_is_transient_not_a_failure() {
        for code in [
            "TransactionConflict",
            "ProvisionedThroughputExceeded",
            "ThrottlingError",
        ] {
            for codes in [[Some(code), Some("None")], [Some("None"), Some(code)]] {
                assert_eq!(
                    cancelled_create(&reasons(&codes)),
                    Some(Cancelled::Transient),
                    "{codes:?}"
                );
            }
        }
    }

    #[test]
    fn a_create_cancelled_by_its_own_conditions_says_which() {
        assert_eq!(
            cancelled_create(&reasons(&[Some("ConditionalCheckFailed"), Some("None")])),
            Some(Cancelled::RecipeExists)
        );
        assert_eq!(
            cancelled_create(&reasons(&[Some("None"), Some("ConditionalCheckFailed")])),
            Some(Cancelled::ClaimLost)
        );
        assert_eq!(
            cancelled_create(&reasons(&[Some("ValidationError"), Some("None")])),
            None
        );
        assert_eq!(cancelled_create(&[]), None);
    }

    #[test]
    fn the_idempotency_record_of_the_largest_recipe_fits_in_a_dynamodb_item() {
        let content =
            RecipeContent::parse(input_of_stored_size(limits::CONTENT_BYTES_MAX)).unwrap();
        let now = now_utc();
        let recipe = Recipe {
            id: RecipeId::new(),
            content,
            owner: Owner::parse(&"\u{1f35c}".repeat(limits::OWNER_MAX)).unwrap(),
            version: u64::MAX,
            created_at: now,
            updated_at: now,
            photo: None,
        };
        let item = to_item(IdempotencyItem {
            pk: owner_pk(&recipe.owner),
            sk: format!("{IDEMPOTENCY_PREFIX}{}", "k".repeat(255)),
            fingerprint: "f".repeat(64),
            expires_at: i64::MAX,
            state: COMPLETED.to_owned(),
            claimed_at: Some(i64::MAX),
            response: Some(StoredResponse {
                status: 201,
                recipe_id: recipe.id,
                version: recipe.version,
                body: serde_json::to_string(&recipe).unwrap(),
            }),
        })
        .unwrap();
        assert!(storable(item).is_ok());
    }

    fn soup() -> Recipe {
        let now = now_utc();
        Recipe {
            id: RecipeId::new(),
            content: serde_json::from_value(serde_json::json!({
                "title": "Soup",
                "servings": 4,
                "prep_time_minutes": 10,
                "ingredients": [{"name": "water", "quantity": {"amount": 1.5, "unit": "l"}}],
                "steps": [{"text": "Boil.", "duration_minutes": 20}],
                "tags": ["quick"],
                "difficulty": "easy",
                "calories_per_serving": 90
            }))
            .unwrap(),
            owner: Owner::parse("owner-a").unwrap(),
            version: 3,
            created_at: now,
            updated_at: now,
            photo: None,
        }
    }

    /// NFC is the one rule the trusted reading leaves out (ADR 0025), so a decomposed title
    /// shows which reading an item got — and that DynamoDB's numbers (`N`) come back in the
    /// form the integrity check accepts, or every item would silently take the slow path.
    #[test]
    fn an_item_this_release_wrote_is_trusted_and_one_without_the_marker_is_validated_in_full() {
        let mut item = recipe_item(&soup()).unwrap();
        assert_eq!(item.get("schema_version"), Some(&n(2)));
        item.insert("title".to_owned(), s("Cafe\u{301}"));
        assert_eq!(
            decode_recipe(item.clone()).unwrap().content.title(),
            "Cafe\u{301}"
        );
        item.remove("schema_version");
        assert_eq!(decode_recipe(item).unwrap().content.title(), "Caf\u{e9}");
    }

    /// What the release before ADR 0025 wrote: the recipe's JSON and the keys, no marker.
    #[test]
    fn an_item_written_by_the_previous_release_reads_back_equal() {
        let recipe = soup();
        let mut item = to_item(&recipe).unwrap();
        item.insert(PARTITION_KEY.to_owned(), s(owner_pk(&recipe.owner)));
        item.insert(SORT_KEY.to_owned(), s(recipe_sk(recipe.id)));
        assert_eq!(decode_recipe(item).unwrap(), recipe);
    }
}
