//! The DynamoDB adapter's search index: one small item per (owner, term, recipe) in the same
//! table, written in the same `TransactWriteItems` as the recipe.
//!
//! | item | `pk` | `sk` |
//! |---|---|---|
//! | posting | `SEARCH#<first character of the term>#<sub>` | `<term>#<uuidv7>` |
//!
//! A posting also records the recipe `version` that filed it, so that the stale postings an
//! update removes after its commit are only removed while no later version has filed them
//! again ([`remove_stale`]).
//!
//! The partition holds one owner's postings of every term that starts with one character, so
//! both access patterns are one `Query` in one partition: an exact term is
//! `sk BETWEEN "<term>#" AND "<term>#<before>"` (newest first, resumable at a cursor), a
//! type-ahead prefix is `begins_with(sk, "<prefix>")`. `SEARCH#` never starts an owner's
//! partition (`OWNER#…`), the bucket is exactly one character, and a term never holds `#`
//! past its first character, so no key of one owner or term can be read as another's. Posting
//! items carry `pk`, `sk` and the filing `version`, not `id`: they stay out of the `by_id` index. See
//! `doc/data-model.md` and `doc/adr/0030-search-index.md`.

use std::collections::{BTreeSet, HashMap, VecDeque};

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::{PARTITION_KEY, SORT_KEY, classify, s, unexpected};
use crate::store::StoreError;
use gota_domain::Owner;
use gota_domain::search::{OVERFLOW_TERM, index_terms};

/// Query pages one search may read before it stops with a short page and a cursor (or, for
/// the walks it must read whole, gives the request to the plain filtered walk).
pub(super) const QUERY_BUDGET: usize = 40;
/// Batches of candidates one search may read and check before it stops with a short page.
pub(super) const CHECK_BUDGET: usize = 10;
/// Recipes of an earlier release filed per search request until an owner's are all filed
/// (`DynamoStore::search_ready`): ~40 terms each, so about ten 100-action transactions.
pub(super) const BACKFILL_RECIPES: i32 = 25;

/// The item that records how far an owner's backfill got: `SEARCH#!#<sub>` / `BACKFILL`
/// (`!` starts no term, so no posting shares the partition).
pub(super) fn backfill_marker(owner: &Owner) -> (String, String) {
    (
        format!("SEARCH#!#{}", owner.as_str()),
        "BACKFILL".to_owned(),
    )
}

/// Postings per `Query` page (an item is ~100 bytes, far below the 1 MB page limit).
const PAGE: i32 = 500;

pub(super) fn posting_pk(owner: &Owner, term: &str) -> String {
    let bucket = term.chars().next().unwrap_or('_');
    format!("SEARCH#{bucket}#{}", owner.as_str())
}

fn posting_key(owner: &Owner, term: &str, id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(posting_pk(owner, term))),
        (SORT_KEY.to_owned(), s(format!("{term}#{id}"))),
    ])
}

/// The attribute of a posting that says which version of its recipe filed it.
const FILED_BY: &str = "version";

/// Files recipe `id` at `version` under `term`.
pub(super) fn put_posting(
    table: &str,
    owner: &Owner,
    term: &str,
    id: &str,
    version: u64,
) -> Result<TransactWriteItem, StoreError> {
    let mut item = posting_key(owner, term, id);
    item.insert(FILED_BY.to_owned(), AttributeValue::N(version.to_string()));
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(unexpected)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(super) fn delete_posting(
    table: &str,
    owner: &Owner,
    term: &str,
    id: &str,
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(posting_key(owner, term, id)))
        .build()
        .map_err(unexpected)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// Removes the posting of `term` for recipe `id`, left stale by the update that committed
/// `version` (the ones that did not fit in its transaction), unless a later version has filed
/// it again meanwhile: that version's posting carries a higher `version`. Between the commit
/// and this call another writer may have brought the term back; removing its posting then
/// would hide the recipe from every search for that word. A removal lost here (a crash, the
/// condition) leaves a stale posting, which only costs a candidate check.
pub(super) async fn remove_stale(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    owner: &Owner,
    term: &str,
    id: &str,
    version: u64,
) -> Result<(), StoreError> {
    let result = client
        .delete_item()
        .table_name(table)
        .set_key(Some(posting_key(owner, term, id)))
        .condition_expression("attribute_not_exists(#filed_by) OR #filed_by < :version")
        .expression_attribute_names("#filed_by", FILED_BY)
        .expression_attribute_values(":version", AttributeValue::N(version.to_string()))
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

/// The terms to drop and to add when a recipe's content changes.
pub(super) fn diff(
    old: &gota_domain::RecipeContent,
    new: &gota_domain::RecipeContent,
) -> (Vec<String>, Vec<String>) {
    let old = index_terms(old);
    let new = index_terms(new);
    (
        old.difference(&new).cloned().collect(),
        new.difference(&old).cloned().collect(),
    )
}

/// Reads the table for one search; counts `Query` pages against [`QUERY_BUDGET`].
pub(super) struct Reader<'a> {
    pub client: &'a aws_sdk_dynamodb::Client,
    pub table: &'a str,
    pub owner: &'a Owner,
    pub pages: usize,
}

/// Out of budget: the caller decides what a short answer is.
pub(super) struct Spent;

impl Reader<'_> {
    /// One page of `term`'s recipe ids, newest first, before `before` (exclusive), resuming
    /// after `start`.
    async fn term_page(
        &mut self,
        term: &str,
        before: Option<&str>,
        start: Option<HashMap<String, AttributeValue>>,
    ) -> Result<Result<(Vec<String>, Option<HashMap<String, AttributeValue>>), Spent>, StoreError>
    {
        if self.pages >= QUERY_BUDGET {
            return Ok(Err(Spent));
        }
        self.pages += 1;
        // `#` + 1 is `$`: past every `<term>#…`.
        let hi = before.map_or_else(|| format!("{term}$"), |id| format!("{term}#{id}"));
        let output = self
            .client
            .query()
            .table_name(self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
            .projection_expression("#sk")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":pk", s(posting_pk(self.owner, term)))
            .expression_attribute_values(":lo", s(format!("{term}#")))
            .expression_attribute_values(":hi", s(hi))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(PAGE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let prefix_len = term.len() + 1;
        let ids = output
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|mut item| match item.remove(SORT_KEY) {
                Some(AttributeValue::S(sk)) => sk.get(prefix_len..).map(str::to_owned),
                _ => None,
            })
            .filter(|id| before != Some(id.as_str()))
            .collect();
        Ok(Ok((ids, output.last_evaluated_key)))
    }

    /// Every id filed under a term starting with `prefix` (a whole range of terms: sorted by
    /// term first, so it is read whole and sorted newest first), before `before`.
    pub async fn all_with_prefix(
        &mut self,
        prefix: &str,
        before: Option<&str>,
    ) -> Result<Result<VecDeque<String>, Spent>, StoreError> {
        let mut ids = BTreeSet::new();
        let mut start = None;
        loop {
            if self.pages >= QUERY_BUDGET {
                return Ok(Err(Spent));
            }
            self.pages += 1;
            let output = self
                .client
                .query()
                .table_name(self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .projection_expression("#sk")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_names("#sk", SORT_KEY)
                .expression_attribute_values(":pk", s(posting_pk(self.owner, prefix)))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for mut item in output.items.unwrap_or_default() {
                if let Some(AttributeValue::S(sk)) = item.remove(SORT_KEY)
                    && let Some((_, id)) = sk.rsplit_once('#')
                    && before.is_none_or(|b| id < b)
                {
                    ids.insert(id.to_owned());
                }
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(Ok(ids.into_iter().rev().collect())),
            }
        }
    }

    /// Every overflow recipe's id (few: see `limits::INDEX_TERMS_MAX`), newest first.
    pub async fn overflow(
        &mut self,
        before: Option<&str>,
    ) -> Result<Result<VecDeque<String>, Spent>, StoreError> {
        let mut all = VecDeque::new();
        let mut start = None;
        loop {
            let (ids, next) = match self.term_page(OVERFLOW_TERM, before, start).await? {
                Ok(page) => page,
                Err(spent) => return Ok(Err(spent)),
            };
            all.extend(ids);
            match next {
                Some(key) => start = Some(key),
                None => return Ok(Ok(all)),
            }
        }
    }
}

/// One term's ids (plus the overflow ids, or a read-whole prefix's), newest first.
pub(super) struct Walk {
    term: Option<String>,
    buffer: VecDeque<String>,
    start: Option<HashMap<String, AttributeValue>>,
    exhausted: bool,
    /// Ids known in advance (overflow recipes, a prefix read whole), newest first.
    extra: VecDeque<String>,
    before: Option<String>,
}

impl Walk {
    pub fn term(term: &str, extra: VecDeque<String>, before: Option<&str>) -> Self {
        Self {
            term: Some(term.to_owned()),
            buffer: VecDeque::new(),
            start: None,
            exhausted: false,
            extra,
            before: before.map(str::to_owned),
        }
    }

    pub fn known(ids: VecDeque<String>) -> Self {
        Self {
            term: None,
            buffer: VecDeque::new(),
            start: None,
            exhausted: true,
            extra: ids,
            before: None,
        }
    }

    /// The newest id not yet passed.
    pub async fn head(
        &mut self,
        reader: &mut Reader<'_>,
    ) -> Result<Result<Option<String>, Spent>, StoreError> {
        while self.buffer.is_empty() && !self.exhausted {
            let Some(term) = &self.term else { break };
            match reader
                .term_page(term, self.before.as_deref(), self.start.take())
                .await?
            {
                Err(spent) => return Ok(Err(spent)),
                Ok((ids, next)) => {
                    self.buffer.extend(ids);
                    self.exhausted = next.is_none();
                    self.start = next;
                }
            }
        }
        Ok(Ok(match (self.buffer.front(), self.extra.front()) {
            (Some(a), Some(b)) => Some(a.max(b).clone()),
            (a, b) => a.or(b).cloned(),
        }))
    }

    /// Passes `id` (the current head).
    pub fn pass(&mut self, id: &str) {
        if self.buffer.front().is_some_and(|a| a == id) {
            self.buffer.pop_front();
        }
        if self.extra.front().is_some_and(|b| b == id) {
            self.extra.pop_front();
        }
    }
}
